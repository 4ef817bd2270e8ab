"""Rendering shared by every role."""

import functools

from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, giving the same bytes, with its compact encoder built once per
    process: DRF's builds one for every answer (``json.dumps(cls=...)``), which on the vote
    path cost more than encoding the answer. Indented output (``Accept: ...; indent=2``)
    and other options go through DRF's own code."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or not self.compact or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        text = self._compact_encoder().encode(data)
        # As DRF: U+2028 and U+2029 escaped, so the output is also a strict JavaScript subset.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()

    @classmethod
    @functools.cache
    def _compact_encoder(cls):
        # The arguments DRF's render passes json.dumps when nothing asks for an indent.
        return cls.encoder_class(ensure_ascii=cls.ensure_ascii, allow_nan=not cls.strict, separators=renderers.SHORT_SEPARATORS)
