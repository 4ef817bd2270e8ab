"""The admin's login takes a handful of wrong passwords, then locks out the username and,
apart from it, the client address (django-axes), in every role."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

PASSWORD = "the-right-password-0123456789"
pytestmark = pytest.mark.django_db


@pytest.fixture
def login(role, settings):
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_superuser("ops", "ops@x.io", PASSWORD)
    url = f"{role.default_prefix}admin/login/"

    def attempt(username: str, password: str, address: str) -> int:
        client = Client(REMOTE_ADDR=address)
        return client.post(url, {"username": username, "password": password, "next": f"{role.default_prefix}admin/"}).status_code

    return attempt


def test_a_username_is_locked_out_after_repeated_failures_from_any_address(login):
    assert [login("ops", "guess", f"198.51.100.{n}") for n in range(3)] == [200, 200, 429]  # 200: the form again
    assert login("ops", PASSWORD, "203.0.113.9") == 429  # even the right password, from elsewhere


def test_an_address_is_locked_out_after_repeated_failures_whatever_the_username(login):
    assert [login(f"user{n}", "guess", "198.51.100.20") for n in range(3)] == [200, 200, 429]
    assert login("ops", PASSWORD, "198.51.100.20") == 429
    assert login("ops", PASSWORD, "198.51.100.21") == 302  # the username itself is not locked: logged in


def test_a_success_before_the_limit_starts_the_count_again(login):
    assert login("ops", "guess", "198.51.100.30") == 200
    assert login("ops", PASSWORD, "198.51.100.30") == 302
    assert [login("ops", "guess", "198.51.100.30") for _ in range(2)] == [200, 200]
