import pytest
from rest_framework.test import APIClient

from pollsite.auth import token_issue

API = "/polls/api/v1/"


@pytest.fixture
def client_as():
    def make(subject: str | None = "alice") -> APIClient:
        client = APIClient()
        if subject:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(subject=subject)}")
        return client

    return make
