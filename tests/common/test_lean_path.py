"""pollsite.api.lean for any role's view: a handler's own Response is answered on the lean path
exactly as DRF's cycle answers it, headers included."""

import pytest
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from pollsite.api.auth import token_issue
from pollsite.api.lean import LeanAPIView, LeanResponse
from tests.support.lean import drf_cycle_only


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)


class ThingApi(LeanAPIView):
    input_serializer = output_serializer = serializer_class = ThingSerializer
    throttle_classes = []

    def post(self, request):
        data = self.input_data(request)
        if data["name"] == "own":
            return Response({"name": data["name"]}, status=status.HTTP_202_ACCEPTED, headers={"X-Thing": "1", "Allow": "overridden"})
        return self.respond(data, status.HTTP_201_CREATED)


def post(body: dict):
    factory = APIRequestFactory()
    request = factory.post("/thing/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {token_issue(subject='ann')}")
    return ThingApi.as_view()(request)


def both_ways(monkeypatch, body: dict):
    lean = post(body)
    with drf_cycle_only(monkeypatch):
        drf = post(body)
        drf.render()
    return lean, drf


@pytest.mark.parametrize("name", ["own", "respond"])
def test_answers_as_drf_does(monkeypatch, name):
    lean, drf = both_ways(monkeypatch, {"name": name})
    assert type(lean) is LeanResponse, "the lean path served it"
    assert (lean.status_code, lean.content) == (drf.status_code, drf.content)
    assert dict(lean.items()) == dict(drf.items())
    assert lean["Allow"] == drf["Allow"] == "POST, OPTIONS"  # the view's defaults win over the handler's, as in DRF
