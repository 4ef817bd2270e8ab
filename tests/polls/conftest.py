import pytest

from tests.support.api import client_for

API = "/polls/api/v1/"


@pytest.fixture
def client_as():
    return client_for
