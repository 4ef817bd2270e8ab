import pytest
from django.conf import settings
from rest_framework.test import APIClient

from pollsite.api.auth import token_issue
from pollsite.roles import ROLES, get_role
from tests.support.facts import facts_of


@pytest.fixture
def role():
    return get_role(settings.ROLE)


@pytest.fixture
def other_roles(role):
    return [r for r in ROLES.values() if r.name != role.name]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def token():
    def make(subject: str = "alice", **kwargs) -> str:
        return token_issue(subject=subject, **kwargs)

    return make


@pytest.fixture
def facts(role):
    """What this suite needs to know about the role (tests/<role>/facts.py)."""
    return facts_of(role.name)


@pytest.fixture
def write_url(role, facts):
    """A write that needs a token and that an empty body makes invalid."""
    return f"{role.default_prefix}api/v1/{facts.write_path}"
