"""One error shape in every role; writes need a valid bearer token."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings


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


WRITE_PATHS = {
    "polls": "polls/",
    "choice": "polls/1/choices/",
    "vote": "polls/1/votes/",
}


@pytest.fixture
def write_url(role):
    return f"{role.default_prefix}api/v1/{WRITE_PATHS[role.name]}"


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
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    payload = {"sub": "mallory", "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE, "iat": now, "exp": now + timedelta(hours=1)}
    if "exp_delta" in claims:
        payload["exp"] = now + timedelta(seconds=claims.pop("exp_delta"))
    payload.update(claims)
    token = jwt.encode(payload, None if algorithm == "none" else (key or settings.JWT_KEY), algorithm=algorithm)
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
