"""OpenAPI generation shared by every role: the common error shape, documented on every operation.

Each operation lists the error statuses it can really answer (see :mod:`pollsite.api.errors`),
all with the one ``Error`` component, so generated clients and schema-driven tests
(schemathesis) know every answer the API gives.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DESCRIPTIONS = {
    "400": "The request is invalid (details per field).",
    "401": "No valid bearer token.",
    "403": "The token's subject may not do this.",
    "404": "Nothing is known under this id.",
    "409": "The request conflicts with the current state.",
    "413": "The request body is larger than this service accepts.",
    "415": "The body is not JSON.",
    "429": "Too many requests; see Retry-After.",
    "503": "The role's database or a role it needs is unavailable; nothing was written.",
}


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(required=False, help_text="Per-field messages, when the request was invalid.")


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every role."""  # the schema's description: no module names (built by pollsite.api.errors)

    error = ErrorDetailSerializer()
    request_id = serializers.CharField(allow_blank=True)


class AutoSchema(SpectacularAutoSchema):
    def error_statuses(self) -> list[str]:
        statuses = ["503"]
        if "{" in self.path:
            statuses.append("404")
        if self.method not in SAFE_METHODS:
            statuses += ["400", "401", "403", "404", "409", "413", "415"]
        elif any(parameter.get("in") == "query" for parameter in self._get_parameters()):
            statuses.append("400")
        if any(issubclass(permission, IsAuthenticated) for permission in getattr(self.view, "permission_classes", ())):
            statuses.append("401")  # even a read: the caller's own data
        if getattr(self.view, "throttle_classes", None):
            statuses.append("429")
        return sorted(set(statuses))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self.error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(OpenApiResponse(ErrorSerializer, DESCRIPTIONS[status]), status)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 1},
                "description": "Seconds until the limit resets.",
            }
        return responses


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents pollsite.api.auth.JWTAuthentication as an HTTP bearer scheme."""

    target_class = "pollsite.api.auth.JWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
