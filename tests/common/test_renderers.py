"""pollsite's JSON renderer gives DRF's bytes, whatever the data and the Accept parameters."""

import datetime
import decimal
import uuid

import pytest
from rest_framework import renderers

from pollsite.api.renderers import JSONRenderer

SAMPLES = [
    {"id": 1, "voter": "ann", "created_at": "2026-12-01T10:00:00Z"},
    {"text": "caf\u00e9 \u2028 line \u2029 para \U0001f600", "quote": '"\\/', "nested": [1, [2, {"x": None}], True, False]},
    {"when": datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC), "day": datetime.date(2026, 12, 1)},
    {"amount": decimal.Decimal("1.50"), "id": uuid.UUID(int=7), "float": 0.1, "big": 2**63 - 1},
    [],
    "plain",
    None,
]


@pytest.mark.parametrize("data", SAMPLES)
@pytest.mark.parametrize("media_type", [None, "application/json", "application/json; indent=2"])
def test_same_bytes_as_drf(data, media_type):
    assert JSONRenderer().render(data, media_type) == renderers.JSONRenderer().render(data, media_type)


def test_refuses_what_drf_refuses():
    for renderer in (JSONRenderer(), renderers.JSONRenderer()):
        with pytest.raises(ValueError, match="Out of range float values"):
            renderer.render({"x": float("nan")})
