"""OpenAPI schema and docs under the prefix; manage.py is role-aware."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from pollsite.api.auth import token_decode
from pollsite.roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
#: Each role's own commands: the modules in apps/<role>/management/commands.
OWN_COMMANDS = {
    role.name: {path.stem for path in (ROOT / "apps" / role.name / "management" / "commands").glob("[!_]*.py")} for role in ROLES.values()
}
SHARED_COMMANDS = {"wait_for_db", "issue_token", "relay_events", "consume_events"}


def test_schema_lists_only_this_roles_api(role, api):
    response = api.get(f"{role.default_prefix}api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths and all(path.startswith(f"{role.default_prefix}api/v1/") for path in paths)


def test_interactive_docs_and_their_assets_are_under_the_prefix(role, api):
    response = api.get(f"{role.default_prefix}api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{role.default_prefix}static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    asset = api.get(f"{role.default_prefix}static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_own_command_exists_only_in_own_role(role):
    commands = get_commands()
    assert SHARED_COMMANDS <= set(commands)
    for name, own in OWN_COMMANDS.items():
        for command in own:
            assert (command in commands) == (name == role.name), command


def test_issue_token_mints_a_valid_token(capsys):
    call_command("issue_token", "--sub", "alice", "--ttl", "60")
    assert token_decode(capsys.readouterr().out.strip())["sub"] == "alice"


def test_issue_token_refuses_bad_arguments():
    with pytest.raises(CommandError):
        call_command("issue_token", "--sub", " ", "--ttl", "60")


def _manage(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True, timeout=60)


def test_manage_without_role_names_the_roles():
    result = _manage("check")
    assert result.returncode != 0
    assert ", ".join(ROLES) in result.stderr


def test_manage_with_unknown_role_fails_clearly():
    result = _manage("--role", "ballot", "check")
    assert result.returncode != 0
    assert "unknown role 'ballot'" in result.stderr


def test_manage_role_flag_selects_settings(role):
    result = _manage("--role", role.name, "shell", "-c", "from django.conf import settings; print(settings.ROLE)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == role.name


def test_issue_token_caps_the_lifetime():
    with pytest.raises(CommandError, match="JWT_MAX_LIFETIME_SECONDS"):
        call_command("issue_token", "--sub", "alice", "--ttl", str(100 * 365 * 86400))


def test_issue_token_signs_rs256_only_with_a_key_given_explicitly(tmp_path, settings, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    settings.JWT_ALGORITHM = "RS256"
    settings.JWT_KEY = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(CommandError, match="private key that pollsite never holds"):
        call_command("issue_token", "--sub", "alice")
    (tmp_path / "signing.pem").write_bytes(pem)
    call_command("issue_token", "--sub", "alice", "--private-key-file", str(tmp_path / "signing.pem"))
    assert token_decode(capsys.readouterr().out.strip())["sub"] == "alice"


@pytest.mark.parametrize("secret", ["x", "a" * 31])
def test_a_short_hs256_secret_stops_the_process_at_start(role, secret):
    env = dict(os.environ, JWT_SECRET=secret, JWT_ALGORITHM="HS256")
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "--role", role.name, "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert f"JWT_SECRET is {len(secret)} bytes; HS256 needs at least 32" in result.stderr


@pytest.mark.django_db
def test_the_migrations_match_the_models(role, capsys):
    """A model changed without its migration (or a scaffolded one that does not match) fails here."""
    for app_label in (role.name, "pollsite"):
        try:
            call_command("makemigrations", app_label, "--check", "--dry-run", verbosity=1)
        except SystemExit as exc:  # --check exits 1 when a migration is missing
            pytest.fail(f"{app_label} needs a migration (exit {exc.code}):\n{capsys.readouterr().out}")
