"""Throwaway PostgreSQL databases for the suites and the benchmark: created and dropped one way, here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg2


def _admin(server: str):
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    connection.autocommit = True
    return connection


def databases_create(server: str, names: Iterable[str]) -> list[str]:
    """CREATE DATABASE for each name on ``server`` (``postgres://user@host:port``); their URLs."""
    names = list(names)
    admin = _admin(server)
    try:
        with admin.cursor() as cursor:
            for name in names:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        admin.close()
    return [f"{server.rstrip('/')}/{name}" for name in names]


def databases_drop(server: str, names: Iterable[str]) -> None:
    """DROP DATABASE … WITH (FORCE): connections still open do not keep one alive."""
    admin = _admin(server)
    try:
        with admin.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@contextmanager
def scratch_databases(server: str, prefix: str, roles: Iterable[str]) -> Iterator[dict[str, str]]:
    """A fresh database per role, ``<prefix>_<random>_<role>``, dropped afterwards: {role: name}."""
    tag = uuid.uuid4().hex[:8]
    names = {role: f"{prefix}_{tag}_{role}" for role in roles}
    databases_create(server, names.values())
    try:
        yield names
    finally:
        databases_drop(server, names.values())
