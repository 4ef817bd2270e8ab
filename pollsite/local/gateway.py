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

import aiohttp
from aiohttp import web

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


def routes_from_registry(environ=os.environ) -> list[tuple[str, list[str]]]:
    """[(prefix, [upstream base URL, ...])], longest prefix first."""
    routes = []
    for role in ROLES.values():
        listed = environ.get(f"POLLSITE_UPSTREAMS_{role.name.upper()}")
        hosts = [h.strip() for h in listed.split(",") if h.strip()] if listed else [f"127.0.0.1:{role.local_port}"]
        routes.append((role.url_prefix(environ), [f"http://{host}" for host in hosts]))
    return sorted(routes, key=lambda route: len(route[0]), reverse=True)


def _error(status: int, code: str, message: str, request_id: str = "") -> web.Response:
    body = {"error": {"status": status, "code": code, "message": message}, "request_id": request_id}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


class Gateway:
    def __init__(self, routes):
        self.routes = routes
        self.turns = {prefix: itertools.cycle(range(len(upstreams))) for prefix, upstreams in routes}
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
        route = next((r for r in self.routes if request.path.startswith(r[0]) or request.path + "/" == r[0]), None)
        if route is None:
            known = ", ".join(prefix for prefix, _ in self.routes)
            return _error(404, "not_found", f"No role is served at {request.path}; the prefixes are {known}.", request_id)
        prefix, upstreams = route
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


def build_app(routes=None) -> web.Application:
    gateway = Gateway(routes or routes_from_registry())
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.on_startup.append(gateway.start)
    app.on_cleanup.append(gateway.stop)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("POLLSITE_GATEWAY_PORT", GATEWAY_PORT)))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    routes = routes_from_registry()
    for prefix, upstreams in routes:
        logger.info("gateway: %s -> %s", prefix, ", ".join(upstreams))
    web.run_app(build_app(routes), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
