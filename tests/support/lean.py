"""Switching pollsite.api.lean off, to compare its answers with DRF's own request cycle."""

from contextlib import contextmanager

from pollsite.api.lean import LeanAPIView, NotLean


def _refuse(self, *args, **kwargs):
    raise NotLean


@contextmanager
def drf_cycle_only(monkeypatch):
    """Within the block every LeanAPIView hands its requests to DRF's own cycle."""
    with monkeypatch.context() as patched:
        patched.setattr(LeanAPIView, "lean_dispatch", _refuse)
        yield
