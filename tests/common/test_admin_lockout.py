"""The admin's login takes a handful of wrong passwords, then locks out the username and,
apart from it, the client address (django-axes), in every role."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.support.stack import ROOT

PASSWORD = "the-right-password-0123456789"
pytestmark = pytest.mark.django_db
needs_admin = pytest.mark.skipif(not settings.ADMIN_ENABLED, reason="this run serves no admin (DJANGO_ADMIN_ENABLED=false)")


@pytest.fixture
def login(role, settings):
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_superuser("ops", "ops@x.io", PASSWORD)
    url = f"{role.default_prefix}admin/login/"

    def attempt(username: str, password: str, address: str) -> int:
        client = Client(REMOTE_ADDR=address)
        return client.post(url, {"username": username, "password": password, "next": f"{role.default_prefix}admin/"}).status_code

    return attempt


@needs_admin
def test_a_username_is_locked_out_after_repeated_failures_from_any_address(login):
    assert [login("ops", "guess", f"198.51.100.{n}") for n in range(3)] == [200, 200, 429]  # 200: the form again
    assert login("ops", PASSWORD, "203.0.113.9") == 429  # even the right password, from elsewhere


@needs_admin
def test_an_address_is_locked_out_after_repeated_failures_whatever_the_username(login):
    assert [login(f"user{n}", "guess", "198.51.100.20") for n in range(3)] == [200, 200, 429]
    assert login("ops", PASSWORD, "198.51.100.20") == 429
    assert login("ops", PASSWORD, "198.51.100.21") == 302  # the username itself is not locked: logged in


@needs_admin
def test_a_success_before_the_limit_starts_the_count_again(login):
    assert login("ops", "guess", "198.51.100.30") == 200
    assert login("ops", PASSWORD, "198.51.100.30") == 302
    assert [login("ops", "guess", "198.51.100.30") for _ in range(2)] == [200, 200]


@pytest.mark.parametrize("enabled", [True, False])
def test_only_a_role_serving_the_admin_runs_its_apps_and_middleware(role, enabled):
    """A role without the admin answers through the short stack: no sessions, CSRF,
    messages, user middleware or login lockout, and none of their apps."""
    probe = "from django.conf import settings as s; print(repr((s.INSTALLED_APPS, s.MIDDLEWARE, s.AUTHENTICATION_BACKENDS)))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": role.settings_module, "DJANGO_ADMIN_ENABLED": str(enabled).lower()}
    argv = [sys.executable, "manage.py", "shell", "-v", "0", "-c", probe]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    apps, middleware, backends = eval(done.stdout)  # noqa: S307 - our own settings' repr
    admin_only = {"django.contrib.admin", "django.contrib.sessions", "django.contrib.messages", "axes"}
    admin_middleware = {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "axes.middleware.AxesMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    }
    assert (admin_only <= set(apps)) is enabled and (admin_only & set(apps) == set()) is not enabled
    assert (admin_middleware <= set(middleware)) is enabled and (admin_middleware & set(middleware) == set()) is not enabled
    assert ("axes.backends.AxesStandaloneBackend" in backends) is enabled
    # What every role keeps either way: host validation, security headers, metrics, the access log.
    for kept in (
        "django.middleware.common.CommonMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "pollsite.api.edge.EdgeMiddleware",
    ):
        assert kept in middleware


#: Every view the role's URLconf routes to, with whether it is csrf_exempt (DRF marks its views so).
VIEWS_PROBE = """
from django.urls import URLPattern, get_resolver
def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLPattern):
            yield prefix + str(p.pattern), bool(getattr(p.callback, "csrf_exempt", False))
        else:
            yield from walk(p.url_patterns, prefix + str(p.pattern))
print(repr(sorted(walk(get_resolver().url_patterns))))
"""


def test_without_the_admin_no_view_needs_csrf_and_the_deploy_check_says_so(role):
    """W003 is silenced only where it holds: with the admin off every view is csrf_exempt
    (nothing authenticates by cookie), so the CSRF middleware could protect nothing."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": role.settings_module, "DJANGO_ADMIN_ENABLED": "false"}
    env.pop("DJANGO_SILENCED_SYSTEM_CHECKS", None)
    argv = [sys.executable, "manage.py", "shell", "-v", "0", "-c", VIEWS_PROBE]
    views = eval(subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True).stdout)  # noqa: S307
    routes = [route for route, _ in views]
    assert any(route.endswith("api/docs/") for route in routes) and sum("/api/v1/" in route for route in routes) >= 2, views
    assert [route for route, exempt in views if not exempt] == []
    probe = "from django.conf import settings as s; print(repr(s.SILENCED_SYSTEM_CHECKS))"
    argv = [sys.executable, "manage.py", "shell", "-v", "0", "-c", probe]
    silenced = eval(subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True).stdout)  # noqa: S307
    assert "security.W003" in silenced
    enabled = {**env, "DJANGO_ADMIN_ENABLED": "true"}
    silenced = eval(subprocess.run(argv, cwd=ROOT, env=enabled, capture_output=True, text=True, timeout=60, check=True).stdout)  # noqa: S307
    assert "security.W003" not in silenced
