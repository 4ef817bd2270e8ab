"""What the shared suites (tests/common, the benchmark's warm-up) need to know about a role,
kept in the role's own test package, ``tests/<role>/facts.py``, as ``FACTS``.

One place per role instead of dicts keyed by role name in the shared suites: a new role
(``./manage.py startrole``) brings its own facts, and nothing shared needs editing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class RoleFacts:
    #: Under ``<prefix>api/v1/``: a write that needs a token and that an empty body makes invalid (400).
    write_path: str
    #: Under ``<prefix>api/v1/``: anonymous reads of the role's own data (200, or 404 for an unknown id).
    read_paths: tuple[str, ...]
    #: The rate-limit scope the write counts against.
    write_scope: str = "writes_per_subject"
    #: For a role that publishes: calls its services so that each event type it declares is written once.
    produce_events: Callable[[], None] | None = None


def facts_of(role_name: str) -> RoleFacts:
    return import_module(f"tests.{role_name}.facts").FACTS
