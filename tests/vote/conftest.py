import pytest

from tests.support.api import faked_roles


@pytest.fixture(autouse=True)
def other_roles():
    """The other roles as the vote role's own tests see them: only what a test registers
    answers (its read-through calls to polls and choice: tests.support.api.faked_roles)."""
    with faked_roles() as mock:
        yield mock
