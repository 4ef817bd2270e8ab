"""The local stack's ports, and the check that they are free before anything starts.

Standard library only: ``make run`` calls it with the system Python before it installs
anything, so a taken port stops a first run at once instead of after the install.
"""

from __future__ import annotations

import argparse
import socket
import sys

from pollsite.roles import GATEWAY_PORT, ROLES


def stack_ports(gateway_port: int = GATEWAY_PORT, roles: list[str] | None = None) -> dict[str, int]:
    """{what listens: port} for the local stack: the entry point, then each role started."""
    ports = {"the entry point": gateway_port}
    for role in ROLES.values():
        if not roles or role.name in roles:
            ports[f"the {role.name} role"] = role.local_port(gateway_port)
    return ports


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn and aiohttp bind
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def taken_ports_message(gateway_port: int = GATEWAY_PORT, roles: list[str] | None = None) -> str | None:
    """None when every port of the stack is free, else what to do about the taken ones."""
    ports = stack_ports(gateway_port, roles)
    taken = [f"{port} ({who})" for who, port in ports.items() if not port_is_free(port)]
    if not taken:
        return None
    suggestion = gateway_port + 1000 if gateway_port + 1000 + len(ROLES) < 65536 else 9000
    return (
        f"make run: {'port' if len(taken) == 1 else 'ports'} {', '.join(taken)} "
        f"{'is' if len(taken) == 1 else 'are'} already in use on 127.0.0.1; the local stack needs "
        f"{min(ports.values())}-{max(ports.values())}. Stop what holds it, or move the whole stack: "
        f"make run PORT={suggestion} (the entry point on {suggestion}, the roles just above it)."
    )


def valid_port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535 - len(ROLES):
        raise argparse.ArgumentTypeError(f"{text} is not a port the stack fits above (1-{65535 - len(ROLES)})")
    return port


def main() -> None:
    parser = argparse.ArgumentParser(description="Check that the local stack's ports are free.")
    parser.add_argument("--port", type=valid_port, default=GATEWAY_PORT, help=f"the entry point's port (default {GATEWAY_PORT})")
    parser.add_argument("--roles", default="", help="comma-separated roles to start (default: all of them)")
    args = parser.parse_args()
    message = taken_ports_message(args.port, [name for name in args.roles.split(",") if name])
    if message:
        sys.exit(message)


if __name__ == "__main__":
    main()
