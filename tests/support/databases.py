"""Throwaway PostgreSQL databases for the suites and the benchmark: created and dropped one way, here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg2


def _run_on(server: str, statements: list[str]) -> None:
    """Each statement on ``server``'s maintenance database, outside a transaction (as CREATE DATABASE needs)."""
    admin = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        admin.close()


def databases_create(server: str, names: Iterable[str]) -> list[str]:
    """CREATE DATABASE for each name on ``server`` (``postgres://user@host:port``); their URLs."""
    names = list(names)
    _run_on(server, [f'CREATE DATABASE "{name}"' for name in names])
    return [f"{server.rstrip('/')}/{name}" for name in names]


def databases_drop(server: str, names: Iterable[str]) -> None:
    """DROP DATABASE … WITH (FORCE): connections still open do not keep one alive."""
    _run_on(server, [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names])


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
