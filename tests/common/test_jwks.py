"""Tokens from an identity provider: keys fetched from its JWKS URL and kept (PyJWKClient)."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pollsite.api import auth
from tests.common.test_errors_and_auth import assert_error_shape
from tests.support.tokens import mint

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def identity_provider(settings):
    """A JWKS endpoint on loopback publishing KEY as kid "k1"; counts its fetches."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
    fetches = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.JWT_ALGORITHM, settings.JWT_KEY = "RS256", ""
    settings.JWT_JWKS_URL = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    auth._jwks_client.cache_clear()
    yield server, fetches
    server.shutdown()
    auth._jwks_client.cache_clear()


def _token(settings, kid: str = "k1") -> str:
    return mint(
        "alice", key=KEY, algorithm="RS256", issuer=settings.JWT_ISSUER, audience=settings.JWT_AUDIENCE,
        lifetime=timedelta(minutes=5), headers={"kid": kid},
    )  # fmt: skip


@pytest.mark.django_db
def test_tokens_verify_with_the_providers_keys_fetched_once(api, settings, identity_provider, write_url):
    _, fetches = identity_provider
    url = write_url
    for _ in range(3):
        response = api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {_token(settings)}")
        assert response.status_code == 400, response.content  # authenticated: the empty body is what is refused
    assert len(fetches) == 1  # kept, not fetched per request
    unknown = api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {_token(settings, kid='k2')}")
    assert_error_shape(unknown, 401, "token_invalid")


@pytest.mark.django_db
def test_an_unreachable_provider_is_503_not_401(api, settings, identity_provider, write_url):
    server, _ = identity_provider
    server.shutdown()
    server.server_close()
    url = write_url
    response = api.post(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {_token(settings)}")
    assert_error_shape(response, 503, "identity_provider_unavailable")
