"""Every role limits writes per token subject and anonymous reads per client (429 in the
common shape), and its limits fail open, counted and logged, when the store is down."""

import pytest
from django.core.cache import cache

from pollsite.api import throttling
from pollsite.observability.metrics import RATE_LIMIT_STORE_ERRORS
from tests.common.test_errors_and_auth import assert_error_shape


@pytest.fixture(autouse=True)
def fresh_counts():
    """Set up first, torn down last (after ``settings`` is restored): counts start at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rates


@pytest.mark.django_db
def test_writes_are_limited_per_subject(api, token, rates, facts, write_url):
    rates(**{facts.write_scope: "2/hour"})
    url = write_url
    for _ in range(2):  # refused as invalid, but counted: the limit is about load, not success
        assert api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token('alice')}").status_code == 400
    body = assert_error_shape(api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token('alice')}"), 429, "throttled")
    assert body["error"]["message"]
    assert api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {token('bob')}").status_code == 400  # bob has his own


@pytest.mark.django_db
def test_anonymous_reads_are_limited_per_client(role, api, rates, facts):
    rates(reads_per_client="3/hour")
    url = f"{role.default_prefix}api/v1/{facts.read_paths[0]}"
    answered = [api.get(url, REMOTE_ADDR="198.51.100.7").status_code for _ in range(3)]
    assert 429 not in answered and answered[0] in (200, 404)  # an unknown poll's 404 counts too
    response = api.get(url, REMOTE_ADDR="198.51.100.7")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert api.get(url, REMOTE_ADDR="198.51.100.8").status_code == answered[0]


@pytest.mark.django_db
def test_limits_fail_open_counted_and_logged_when_the_store_is_down(role, api, token, settings, rates, caplog, monkeypatch):
    rates(writes_per_subject="1/hour", reads_per_client="1/hour")
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    monkeypatch.setattr(throttling, "_last_store_warning", 0.0)
    before = RATE_LIMIT_STORE_ERRORS._value.get()
    url = f"{role.default_prefix}api/schema/"
    with caplog.at_level("WARNING", logger="pollsite.throttling"):
        statuses = [api.get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # over the 1/hour limit, yet let through: fail open
    assert RATE_LIMIT_STORE_ERRORS._value.get() - before == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "pollsite.throttling"]
    assert warnings == ["rate limits fail open: the rate-limit store does not answer (ConnectionError)"]  # once, not per request
