"""One error shape in every role; writes need a valid bearer token."""

import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from tests.support.tokens import mint


def assert_error_shape(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    assert body["request_id"] == response["X-Request-ID"]
    if code:
        assert body["error"]["code"] == code
    return body


def test_unknown_path_is_404_in_common_shape(role, api):
    assert_error_shape(api.get(f"{role.default_prefix}no/such/thing/"), 404, "not_found")


@pytest.mark.django_db
def test_write_without_token_is_401(api, write_url):
    body = assert_error_shape(api.post(write_url, {}, format="json"), 401, "not_authenticated")
    assert "credentials" in body["error"]["message"].lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claims", "key", "algorithm", "code"),
    [
        ({}, "wrong-secret-of-sufficient-length-0123456789", "HS256", "token_invalid"),
        ({"aud": "someone-else"}, None, "HS256", "token_wrong_audience"),
        ({"iss": "elsewhere"}, None, "HS256", "token_wrong_issuer"),
        ({"exp_delta": -3600}, None, "HS256", "token_expired"),
        ({}, None, "none", "token_invalid"),
    ],
    ids=["bad-signature", "wrong-audience", "wrong-issuer", "expired", "alg-none"],
)
def test_bad_tokens_are_refused(api, write_url, claims, key, algorithm, code):
    lifetime = timedelta(seconds=claims.pop("exp_delta", 3600))
    signing_key = None if algorithm == "none" else (key or settings.JWT_KEY)
    token = mint(
        "mallory", key=signing_key, algorithm=algorithm, issuer=settings.JWT_ISSUER, audience=settings.JWT_AUDIENCE,
        lifetime=lifetime, **claims,
    )  # fmt: skip
    response = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error_shape(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_malformed_authorization_header_is_401(api, write_url):
    assert_error_shape(api.post(write_url, {}, format="json", HTTP_AUTHORIZATION="Basic abc"), 401, "bad_authorization_header")


@pytest.mark.django_db
def test_validation_error_is_400_with_field_details(api, write_url, token):
    response = api.post(write_url, {"unexpected": 1}, format="json", HTTP_AUTHORIZATION=f"Bearer {token()}")
    body = assert_error_shape(response, 400, "invalid")
    assert body["error"]["details"]


def test_request_id_is_accepted_and_returned(role, api):
    response = api.get(f"{role.default_prefix}nothing/", HTTP_X_REQUEST_ID="trace-me-123")
    assert response["X-Request-ID"] == "trace-me-123"
    assert response.json()["request_id"] == "trace-me-123"


def test_unsafe_request_id_is_replaced(role, api):
    response = api.get(f"{role.default_prefix}nothing/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def _signed(**claims) -> str:
    from datetime import UTC, datetime

    now = int(datetime.now(UTC).timestamp())
    payload = {"sub": "mallory", "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE, "iat": now, "exp": now + 600}
    payload.update(claims)
    raw = json.dumps({k: v for k, v in payload.items() if v is not ...}).encode()  # as sent: PyJWT's encode checks some claims
    return jwt.api_jws.encode(raw, settings.JWT_KEY, algorithm=settings.JWT_ALGORITHM)


ODD_CLAIMS = {
    "sub-nul": {"sub": "bob\x00"},
    "sub-newline": {"sub": "bob\nadmin"},
    "sub-space": {"sub": "bob smith"},
    "sub-lone-surrogate": {"sub": "\ud800"},
    "sub-too-long": {"sub": "b" * 151},
    "sub-empty": {"sub": ""},
    "sub-number": {"sub": 42},
    "sub-list": {"sub": ["bob"]},
    "sub-object": {"sub": {"name": "bob"}},
    "sub-null": {"sub": None},
    "sub-missing": {"sub": ...},
    "exp-string": {"exp": "tomorrow"},
    "exp-bool": {"exp": True},
    "iat-string": {"iat": "now"},
    "iat-future": {"iat": 4102444800, "exp": 4102445400},
    "nbf-list": {"nbf": [1]},
    "iss-list": {"iss": [settings.JWT_ISSUER]},
    "aud-number": {"aud": 7},
    "lifetime-too-long": {"exp": 4102444800},
}


@pytest.mark.django_db
@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_a_token_with_odd_contents_is_401_never_500(api, write_url, claims):
    response = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {_signed(**claims)}")
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"].startswith("token_")


@pytest.mark.django_db
def test_an_oversized_token_is_401_before_it_is_parsed(api, write_url):
    response = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION="Bearer " + "a" * 5000)
    assert_error_shape(response, 401, "token_invalid")
    assert "longer than 4096" in response.json()["error"]["message"]


def test_the_lifetime_cap_is_configurable(api, write_url, settings):
    settings.JWT_MAX_LIFETIME_SECONDS = 60
    response = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {_signed()}")  # lives 600 s
    assert_error_shape(response, 401, "token_invalid")
    assert "longer than the 60s allowed" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_answers_to_a_token_bearer_are_never_stored_by_caches(role, api, write_url, token):
    mine = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token()}")
    assert "no-store" in mine["Cache-Control"] and "private" in mine["Cache-Control"]
    refused = api.post(write_url, {}, format="json", HTTP_AUTHORIZATION="Bearer nonsense")
    assert "no-store" in refused["Cache-Control"]
    public = api.get(f"{role.default_prefix}api/schema/")
    assert "no-store" not in public.get("Cache-Control", "")
