"""The local entry point: one port that routes each role's prefix to its process, like the Ingress.

Routes come from the role registry. A role may have several upstreams
(``POLLSITE_UPSTREAMS_<ROLE>=127.0.0.1:8003,127.0.0.1:8013``); a request whose
connection is refused is tried on the next one, which is what lets a vote process be
replaced under load without dropping requests. Nothing is retried once sent.
"""

import argparse
import asyncio
import itertools
import json
import logging
import os
import uuid
from dataclasses import dataclass
from html import escape

import aiohttp
from aiohttp import web
from environ import Env

from pollsite.roles import GATEWAY_PORT, ROLES

logger = logging.getLogger("pollsite.gateway")

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@dataclass(frozen=True)
class Route:
    role: str
    prefix: str
    upstreams: list[str]  # base URLs, tried in turn


def routes_from_registry(environ=os.environ) -> list[Route]:
    """One route a role, longest prefix first; a role is reached where ``<ROLE>_URL`` says."""
    routes = []
    for role in ROLES.values():
        listed = environ.get(f"POLLSITE_UPSTREAMS_{role.name.upper()}")
        upstreams = [f"http://{h.strip()}" for h in listed.split(",") if h.strip()] if listed else [role.base_url(environ)]
        routes.append(Route(role.name, role.url_prefix(environ), upstreams))
    return sorted(routes, key=lambda route: len(route.prefix), reverse=True)


def _error(status: int, code: str, message: str, request_id: str = "") -> web.Response:
    body = {"error": {"status": status, "code": code, "message": message}, "request_id": request_id}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


class Gateway:
    def __init__(self, routes: list[Route], *, admin_enabled: bool = False):
        self.routes = routes
        self.admin_enabled = admin_enabled
        self.turns = {route.prefix: itertools.cycle(range(len(route.upstreams))) for route in routes}
        self.session: aiohttp.ClientSession | None = None

    async def start(self, app):
        timeout = aiohttp.ClientTimeout(total=60, sock_connect=2)
        # One upstream connection per request: a process being replaced never holds an
        # idle keep-alive connection that the gateway could reuse just as it is closed.
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=256, force_close=True)
        self.session = aiohttp.ClientSession(timeout=timeout, connector=connector, auto_decompress=False)

    async def stop(self, app):
        await self.session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        route = next((r for r in self.routes if request.path.startswith(r.prefix) or request.path + "/" == r.prefix), None)
        if route is None:
            known = ", ".join(r.prefix for r in self.routes)
            return _error(404, "not_found", f"No role is served at {request.path}; the prefixes are {known}.", request_id)
        prefix, upstreams = route.prefix, route.upstreams
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = request.host
        headers["X-Request-ID"] = request_id
        headers["X-Forwarded-For"] = request.remote or ""
        headers["X-Forwarded-Proto"] = request.scheme
        body = await request.read()
        start = next(self.turns[prefix])
        for attempt in range(len(upstreams) * 2):
            upstream = upstreams[(start + attempt) % len(upstreams)]
            try:
                async with self.session.request(
                    request.method, upstream + request.rel_url.raw_path_qs, headers=headers, data=body, allow_redirects=False
                ) as upstream_response:
                    payload = await upstream_response.read()
                    response_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=upstream_response.status, body=payload, headers=response_headers)
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.05 * attempt)  # refused before anything was sent: safe to try again
                continue
            except (TimeoutError, aiohttp.ClientError) as exc:  # sent, so not retried: it may have been applied
                return _error(502, "bad_gateway", f"The {prefix} service dropped the request: {exc.__class__.__name__}.", request_id)
        return _error(503, "service_unavailable", f"No process of {prefix} accepts connections.", request_id)

    # --- the front door: GET / ------------------------------------------------------
    async def is_up(self, route: Route) -> bool:
        """Whether any process of the role answers its readiness probe right now."""
        for upstream in route.upstreams:
            try:
                async with self.session.get(upstream + "/readyz", timeout=aiohttp.ClientTimeout(total=1.5)) as response:
                    if response.status == 200:
                        return True
            except (TimeoutError, aiohttp.ClientError):
                continue
        return False

    async def front_door(self, request: web.Request) -> web.Response:
        """The roles, their prefixes, whether each is up, and their links: HTML, or JSON when asked."""
        routes = sorted(self.routes, key=lambda route: list(ROLES).index(route.role))
        up = await asyncio.gather(*(self.is_up(route) for route in routes))
        roles = []
        for route, role_up in zip(routes, up, strict=True):
            links = {"docs": f"{route.prefix}api/docs/", "schema": f"{route.prefix}api/schema/"}
            if self.admin_enabled:
                links["admin"] = f"{route.prefix}admin/"
            roles.append({"name": route.role, "prefix": route.prefix, "up": role_up, "links": links})
        if wants_json(request):
            return web.json_response({"roles": roles})
        return web.Response(text=front_door_html(roles), content_type="text/html")


def wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def front_door_html(roles: list[dict]) -> str:
    rows = "".join(
        "<tr><td>{name}</td><td><code>{prefix}</code></td><td class={state}>{state}</td><td>{links}</td></tr>".format(
            name=escape(role["name"]),
            prefix=escape(role["prefix"]),
            state="up" if role["up"] else "down",
            links=" ".join(f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in role["links"].items()),
        )
        for role in roles
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pollsite</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:46rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.5rem;text-align:left}}
.up{{color:#176f2c;font-weight:bold}}.down{{color:#b00020;font-weight:bold}}a{{margin-right:.8rem}}</style></head>
<body><h1>pollsite</h1>
<p>The local entry point: each role is its own processes and database, routed by its prefix as the Ingress does.</p>
<table><thead><tr><th>role</th><th>prefix</th><th>now</th><th>links</th></tr></thead><tbody>{rows}</tbody></table>
<p>Writes need a token: <code>.venv/bin/python manage.py --role polls issue_token --sub alice</code>.
The README's "Calling the roles" walks through a poll.</p></body></html>
"""


def build_app(routes=None, *, admin_enabled: bool | None = None) -> web.Application:
    if admin_enabled is None:
        admin_enabled = Env().bool("DJANGO_ADMIN_ENABLED", default=False)
    gateway = Gateway(routes or routes_from_registry(), admin_enabled=admin_enabled)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.on_startup.append(gateway.start)
    app.on_cleanup.append(gateway.stop)
    app.router.add_get("/", gateway.front_door)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("POLLSITE_GATEWAY_PORT", GATEWAY_PORT)))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    routes = routes_from_registry()
    for route in routes:
        logger.info("gateway: %s -> %s", route.prefix, ", ".join(route.upstreams))
    web.run_app(build_app(routes), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
