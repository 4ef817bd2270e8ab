"""Hot endpoints served without DRF's request cycle, answering exactly as DRF would.

A :class:`LeanAPIView` is an ordinary DRF ``GenericAPIView``: the same URL, the same
OpenAPI schema and Swagger UI, the same handler method, the same authentication,
permission and throttle classes, the same exception handler. What it skips, on the
requests it can prove well-formed, is the machinery around the handler: DRF's request
wrapper parsing the body through its parser list, content negotiation, the
authenticator, permission and throttle loops, a serializer built per request (which
deep-copies its fields), and the renderer chain. Everything else (a missing or bad
token, an ``Accept`` it does not serve, another content type, a body that is not a JSON
object, input the fields refuse) goes to DRF itself, unchanged, so every error answer
is DRF's own: byte for byte what the endpoint answered before.

Order, as DRF's: pure checks first (token, negotiation, content type, JSON, fields,
permissions), which may hand the request to DRF without side effects; then the throttles
(one cache round trip, counted once whichever path serves the request); then the handler,
whose domain errors go through the view's ``handle_exception`` like any DRF error.

A view opts in by subclassing and declaring ``input_serializer`` / ``output_serializer``;
its handler reads ``self.input_data(request)`` (the lean path's validated values, or the
input serializer's own on DRF's) and answers ``self.respond(obj, status)``: on both paths
the output serializer's fields, built once (``Serializer(obj).data`` without the
per-instance copy of its fields); on the lean path rendered at once by the role's JSON
renderer (pollsite.api.renderers, DRF's bytes) with DRF's headers, on DRF's a ``Response``
for DRF to finish. A handler may also return a
``Response`` of its own, which either path renders as DRF would.
"""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant

from pollsite.api.renderers import JSONRenderer

#: Accept headers under which DRF's negotiation picks JSON, the only renderer of every role.
JSON_ACCEPTS = frozenset({"", "*/*", "application/json", "application/json, */*", "application/json; charset=utf-8"})
_JSON = JSONRenderer()
#: What DRF's json.loads builds for every call: a decoder refusing NaN and Infinity.
_STRICT_JSON = json.JSONDecoder(parse_constant=strict_constant)
#: Content types DRF's JSONParser reads as UTF-8 JSON.
JSON_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"})


class SerializerFields:
    """One serializer's bound fields, built once per process and used for every request.

    ``validate`` runs each writable field's own validation, as ``Serializer.is_valid``
    does, and returns the validated data; it refuses (:class:`NotLean`) whatever it cannot
    decide exactly as the serializer would (errors, serializer-level validation).
    ``represent`` is ``Serializer(instance).data`` without the per-instance copy of the fields.
    """

    def __init__(self, serializer_class: type[serializers.Serializer]):
        self.serializer = serializer_class()
        fields = list(self.serializer.fields.values())  # bound to self.serializer: parent, root, context
        self.readable = [field for field in fields if not field.write_only]
        self.writable = [field for field in fields if not field.read_only]
        own_validation = serializer_class.validate is not serializers.Serializer.validate or any(
            hasattr(serializer_class, f"validate_{field.field_name}") for field in self.writable
        )
        self.validates_alone = not own_validation and not self.serializer.validators
        self.nested = any(isinstance(field, serializers.BaseSerializer) for field in fields)

    def validate(self, data) -> dict:
        if not self.validates_alone or self.nested or not isinstance(data, dict):
            raise NotLean
        validated = {}
        for field in self.writable:
            try:
                value = field.run_validation(field.get_value(data))
            except serializers.SkipField:
                continue
            except (exceptions.ValidationError, serializers.ValidationError) as refusal:
                raise NotLean from refusal
            validated[field.source] = value
        return validated

    def represent(self, instance) -> dict:
        represented = {}
        for field in self.readable:
            attribute = field.get_attribute(instance)
            represented[field.field_name] = None if attribute is None else field.to_representation(attribute)
        return represented


class NotLean(Exception):
    """This request goes through DRF's own request cycle (it answers it exactly)."""


class LeanResponse(HttpResponse):
    """An answer the lean path rendered itself (:meth:`LeanAPIView.respond`): final as it is."""


class LeanAPIView(GenericAPIView):
    """A DRF view whose well-formed requests to ``lean_methods`` skip DRF's request cycle."""

    #: Methods served lean; anything else (OPTIONS, HEAD, ...) is DRF's.
    lean_methods: frozenset[str] = frozenset({"POST"})
    input_serializer: type[serializers.Serializer] | None = None
    output_serializer: type[serializers.Serializer] | None = None
    #: Whether this view instance serves its request on the lean path (set by lean_dispatch).
    served_lean = False

    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)

        def view(request, *args, **kwargs):
            if request.method in cls.lean_methods:
                try:
                    return cls(**initkwargs).lean_dispatch(request, *args, **kwargs)
                except NotLean:
                    pass
            return drf_view(request, *args, **kwargs)

        functools.update_wrapper(view, drf_view)  # cls, initkwargs, view_class...: what the schema and URLs read
        return csrf_exempt(view)

    # --- the handler's two views of its input and output ---------------------------------
    def input_data(self, request) -> dict:
        lean = getattr(request, "lean_data", None)
        if lean is not None:
            return lean
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def output_data(self, instance) -> dict:
        return self._fields(self.output_serializer).represent(instance)

    def respond(self, instance, status: int) -> HttpResponse:
        """``instance`` through the output serializer, answered with ``status``."""
        data = self.output_data(instance)
        if not self.served_lean:
            return Response(data, status=status)
        return self._rendered(data, status)

    @classmethod
    @functools.cache
    def _fields(cls, serializer_class) -> SerializerFields:
        return SerializerFields(serializer_class)

    # --- the lean request cycle ------------------------------------------------------------
    def lean_dispatch(self, request, *args, **kwargs):
        """Serve ``request`` (Django's own: no DRF Request is built), or raise NotLean before any side effect."""
        meta = request.META
        if meta.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS or meta.get("CONTENT_TYPE", "").lower() not in JSON_CONTENT_TYPES:
            raise NotLean
        if settings.DEBUG:
            raise NotLean  # DRF's debug-mode error pages want its own Request
        user, token = self._authenticate(request)
        data = self._fields(self.input_serializer).validate(self._parse(request)) if self.input_serializer else {}
        request.user, request.auth = user, token  # what the permissions, throttles and handler read
        self.args, self.kwargs, self.request, self.format_kwarg = args, kwargs, request, None
        if not all(permission.has_permission(request, self) for permission in self.get_permissions()):
            raise NotLean  # DRF answers 401 or 403 exactly
        request.lean_data, self.served_lean = data, True
        request.accepted_renderer, request.accepted_media_type = _JSON, _JSON.media_type
        self.headers = self._default_headers()
        try:
            self.check_throttles(request)
            response = getattr(self, request.method.lower())(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - handled as DRF handles a handler's exception
            response = self.handle_exception(exc)
        if type(response) is LeanResponse:
            return response
        if type(response) is Response and not response.exception and response.content_type is None:
            return self._rendered(response.data, response.status_code, response.items())
        return self.finalize_response(request, response, *args, **kwargs)

    @classmethod
    @functools.cache
    def _default_headers_of(cls) -> tuple:
        return tuple(cls().default_response_headers.items())

    def _default_headers(self) -> dict:
        """DRF's default_response_headers (Allow, ...), which depend on the class alone: built once."""
        return dict(self._default_headers_of())

    def _rendered(self, data, status: int, handler_headers=()) -> LeanResponse:
        """``data`` rendered by the role's JSON renderer (DRF's bytes), with the headers
        finalize_response would give it (the handler's, then the view's defaults over them),
        without the template-response machinery."""
        rendered = LeanResponse(_JSON.render(data), status=status, content_type=_JSON.media_type)
        for name, value in (*handler_headers, *self.headers.items()):
            if name != "Content-Type":
                rendered[name] = value
        return rendered

    def _authenticate(self, request) -> tuple:
        """(user, token) from the view's authenticators, or NotLean (no token, a bad one: DRF's answer)."""
        for authenticator in self.get_authenticators():
            try:
                found = authenticator.authenticate(request)
            except exceptions.APIException:
                raise NotLean from None
            if found is not None:
                return found
        raise NotLean

    @staticmethod
    def _parse(request):
        """The body as DRF's JSONParser reads it (``json.loads`` refusing NaN and Infinity),
        with the decoder built once rather than by every ``json.loads`` given options."""
        try:
            text = request.body.decode("utf-8")
            if text.startswith("\ufeff"):
                raise NotLean  # json.loads refuses a byte-order mark: so does DRF
            return _STRICT_JSON.decode(text)
        except Exception:  # noqa: BLE001 - too large, not UTF-8, not JSON, too deep: DRF's answer
            raise NotLean from None
