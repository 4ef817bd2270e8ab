import pytest

from tests.support.api import faked_roles


@pytest.fixture(autouse=True)
def other_roles():
    """The other roles as the choice role's own tests see them: only what a test registers
    answers (the polls role's polls; the vote role grants edit leases: tests.support.api.faked_roles)."""
    with faked_roles() as mock:
        yield mock
