import pytest

from tests.support.api import client_for, faked_roles

API = "/polls/api/v1/"


@pytest.fixture
def client_as():
    return client_for


@pytest.fixture(autouse=True)
def other_roles():
    """The other roles as the polls role's own tests see them: only what a test registers
    answers (the vote role grants edit leases: tests.support.api.faked_roles)."""
    with faked_roles() as mock:
        yield mock
