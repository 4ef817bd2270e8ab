"""The role registry: the one place that lists pollsite's services.

Settings, URL mounting, the local launcher, the Helm chart's tests and the docs all
read this module (or are checked against it). Adding a fourth role starts here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    #: Roles whose events this role consumes (its consumer binds a queue to each).
    consumes: tuple[str, ...] = ()
    #: Whether this role writes events to its outbox (and so runs a relay).
    publishes: bool = False
    #: Roles this role calls synchronously over HTTP.
    calls: tuple[str, ...] = ()

    @property
    def app(self) -> str:
        return f"apps.{self.name}"

    @property
    def settings_module(self) -> str:
        return f"settings.{self.name}"

    @property
    def default_prefix(self) -> str:
        return f"/{self.name}/"

    @property
    def env_prefix(self) -> str:
        """Prefix of this role's environment variables, e.g. ``VOTE_`` in VOTE_URL_PREFIX."""
        return self.name.upper() + "_"

    def url_prefix(self, environ: os._Environ | dict | None = None) -> str:
        """The path this role is served under: ``/<name>/`` unless ``<NAME>_URL_PREFIX`` says otherwise."""
        environ = os.environ if environ is None else environ
        return normalise_prefix(environ.get(self.env_prefix + "URL_PREFIX", self.default_prefix))

    def local_port(self, gateway_port: int | None = None) -> int:
        """This role's port in the local stack: the entry point's port plus its place in the registry."""
        return (GATEWAY_PORT if gateway_port is None else gateway_port) + 1 + list(ROLES).index(self.name)

    def base_url(self, environ: os._Environ | dict | None = None) -> str:
        """Where other roles reach this one: ``<NAME>_URL``, by default the local stack's port."""
        environ = os.environ if environ is None else environ
        return environ.get(self.env_prefix + "URL", f"http://127.0.0.1:{self.local_port()}").rstrip("/")


def normalise_prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    if not stripped:
        raise ValueError("a role's URL prefix cannot be empty: the root belongs to the probes")
    return f"/{stripped}/"


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("polls", publishes=True, calls=("choice", "vote")),
        Role("choice", publishes=True, consumes=("polls",), calls=("polls", "vote")),
        Role("vote", consumes=("polls", "choice"), calls=("polls", "choice")),
    )
}

#: The local entry point's default port (`make run`, moved with ``make run PORT=…``). It
#: routes each role's prefix like the Ingress; the roles listen on the ports just above it.
GATEWAY_PORT = 8000


def get_role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise KeyError(f"unknown role {name!r}; the roles are: {', '.join(ROLES)}") from None
