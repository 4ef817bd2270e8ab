"""Each settings module mounts only its role: its app, its one database, its prefix."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.urls import Resolver404, resolve

from pollsite.roles import ROLES
from settings.base import role_settings


def test_installed_apps_hold_this_role_only(role, other_roles):
    assert role.app in settings.INSTALLED_APPS
    for other in other_roles:
        assert other.app not in settings.INSTALLED_APPS


def test_exactly_one_database_from_database_url(role, monkeypatch):
    assert list(settings.DATABASES) == ["default"]
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/elsewhere")
    database = role_settings(role.name)["DATABASES"]
    assert list(database) == ["default"]
    assert (database["default"]["NAME"], database["default"]["HOST"]) == ("elsewhere", "db.example")
    monkeypatch.delenv("DATABASE_URL")
    sqlite = role_settings(role.name)["DATABASES"]["default"]
    assert sqlite["ENGINE"] == "pollsite.db.sqlite3"  # Django's, with query metrics (pollsite.db)
    assert str(sqlite["NAME"]).endswith(f"{role.name}.sqlite3")  # the role's own file


def test_api_served_under_own_prefix_only(role, other_roles, api):
    assert resolve(f"{role.default_prefix}api/schema/").url_name == "schema"
    for other in other_roles:
        with pytest.raises(Resolver404):
            resolve(f"{other.default_prefix}api/schema/")
        response = api.get(f"{other.default_prefix}api/v1/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_migrate_created_only_this_roles_tables(role, other_roles):
    tables = set(connection.introspection.table_names())
    assert any(table.startswith(f"{role.name}_") for table in tables), tables
    for other in other_roles:
        assert not any(table.startswith(f"{other.name}_") for table in tables), tables


def test_prefix_is_configurable_by_environment(role):
    """<ROLE>_URL_PREFIX moves every URL of the role, static files included."""
    script = (
        "import django; django.setup();"
        "from django.conf import settings; from django.urls import reverse;"
        "print(reverse('schema'), settings.STATIC_URL)"
    )
    env = dict(os.environ, **{f"{role.env_prefix}URL_PREFIX": "/elsewhere/v2"})
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["/elsewhere/v2/api/schema/", "/elsewhere/v2/static/"]


def test_registry_and_settings_modules_agree():
    for role in ROLES.values():
        module = __import__(role.settings_module, fromlist=["ROLE"])
        assert module.ROLE == role.name
