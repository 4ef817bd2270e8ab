"""The admin and the API docs of every role in a real headless browser, through the local
entry point (pollsite.local.gateway), as an operator would use them.

Debian's chromium (``.ci/setup-browser.sh``) driven by Playwright with that executable;
Playwright's own browser downloads are never used. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pollsite.roles import ROLES
from tests.support.stack import ROOT, Stack, free_port, wait_for

pytestmark = pytest.mark.stack

CHROMIUM = Path(os.environ.get("POLLSITE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "a-long-admin-password-for-tests-0123"
#: A model list page per role (that role's own models).
LIST_PAGES = {"polls": "polls/poll/", "choice": "choice/choice/", "vote": "vote/vote/"}
#: Words on each role's admin index: its own models, never another role's.
OWN_MODELS = {"polls": "Polls", "choice": "Choices", "vote": "Votes"}


def _browser_available() -> None:
    if CHROMIUM.exists():
        return
    reason = f"no chromium at {CHROMIUM} (run .ci/setup-browser.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _createsuperuser(stack: Stack, role: str) -> subprocess.CompletedProcess:
    """``./manage.py --role <role> createsuperuser``, the way an operator runs it."""
    env = stack.env(role, DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    env.pop("DJANGO_SETTINGS_MODULE")
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "--role",
            role,
            "createsuperuser",
            "--noinput",
            "--username",
            "ops",
            "--email",
            "ops@x.io",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def gateway_stack(tmp_path):
    """Every role's web process with its admin on (SQLite), one superuser each, and the gateway in front."""
    _browser_available()
    stack = Stack(tmp_path / "stack", extra_env={"DJANGO_ADMIN_ENABLED": "true"})
    try:
        for role in ROLES:
            stack.manage(role, "migrate", "--noinput", "-v", "0")
            created = _createsuperuser(stack, role)
            assert created.returncode == 0, created.stderr
            assert "Superuser created successfully" in created.stdout
            stack.start_web(role)
        port = free_port()
        upstreams = {f"POLLSITE_UPSTREAMS_{role.upper()}": f"127.0.0.1:{stack.ports[role]}" for role in ROLES}
        stack.spawn("gateway", "polls", [sys.executable, "-m", "pollsite.local.gateway", "--port", str(port)], **upstreams)
        stack.gateway = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{stack.gateway}/polls/api/v1/polls/"), timeout=30, what="the gateway")
        yield stack
    finally:
        stack.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_admin_and_api_docs_of_every_role_through_the_gateway(gateway_stack):
    from playwright.sync_api import sync_playwright

    stack = gateway_stack
    ARTIFACTS.mkdir(exist_ok=True)
    poll = requests.post(
        f"{stack.gateway}/polls/api/v1/polls/", json={"question": "Seen in the admin?"}, headers=stack.auth("ops"), timeout=10
    )
    assert poll.status_code == 201
    network: list[tuple[int, str]] = []
    failed: list[str] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("response", lambda response: network.append((response.status, response.url)))
            page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
            for role in ROLES:
                prefix = ROLES[role].default_prefix
                base = stack.gateway + prefix

                page.goto(base + "admin/")
                assert page.url.startswith(base + "admin/login/"), page.url  # redirected to the login, under the prefix
                page.fill("#id_username", "ops")
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                page.wait_for_load_state("networkidle")
                assert page.url == base + "admin/", page.url
                assert f"pollsite — {role}" in page.inner_text("#site-name")
                index = page.inner_text("#content-main")
                assert OWN_MODELS[role] in index
                for other, model in OWN_MODELS.items():
                    if other != role:
                        assert model not in index, f"{role}'s admin shows {other}'s {model}"
                page.screenshot(path=str(ARTIFACTS / f"admin-{role}-index.png"), full_page=True)
                assert page.get_attribute("#user-tools a[href$='api/docs/']", "href") == prefix + "api/docs/"  # "View site"

                page.goto(base + "admin/" + LIST_PAGES[role])
                page.wait_for_load_state("networkidle")
                assert page.locator("#result_list, p.paginator").count() >= 1
                page.screenshot(path=str(ARTIFACTS / f"admin-{role}-list.png"), full_page=True)

                page.goto(base + "api/docs/")
                page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
                page.wait_for_selector(".opblock", timeout=20_000)  # the operations, from the schema
                assert f"pollsite {role} API" in page.inner_text(".swagger-ui .info .title")
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(ARTIFACTS / f"api-docs-{role}.png"), full_page=False)
        finally:
            browser.close()

    assert not failed, failed
    errors = [(status, url) for status, url in network if status >= 400]
    assert not errors, errors
    for role in ROLES:  # every page and asset of a role came from under its prefix
        prefix = stack.gateway + ROLES[role].default_prefix
        assert any(url.startswith(prefix + "static/admin/") for _, url in network), f"no admin asset of {role} loaded"
        assert any(url.startswith(prefix + "static/drf_spectacular_sidecar/") for _, url in network), f"no swagger asset of {role}"
        assert any(url.startswith(prefix + "api/schema/") for _, url in network), f"{role}'s docs fetched no schema"
    outside = [url for _, url in network if not any(url.startswith(stack.gateway + r.default_prefix) for r in ROLES.values())]
    assert not outside, f"requests outside every role's prefix: {outside}"


def test_front_door_lists_every_role_and_its_links_work(gateway_stack):
    """GET / on the entry point: a page naming each role, its prefix, whether it is up, and
    links to its docs, schema and admin, each of which opens in the browser."""
    from playwright.sync_api import sync_playwright

    stack = gateway_stack
    ARTIFACTS.mkdir(exist_ok=True)
    as_json = requests.get(stack.gateway + "/", headers={"Accept": "application/json"}, timeout=10)
    assert as_json.status_code == 200 and as_json.headers["Content-Type"].startswith("application/json")
    assert [role["name"] for role in as_json.json()["roles"]] == list(ROLES)
    assert all(role["up"] for role in as_json.json()["roles"]), as_json.json()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            page.goto(stack.gateway + "/")
            assert page.title() == "pollsite"
            page.screenshot(path=str(ARTIFACTS / "front-door.png"), full_page=True)
            rows = page.locator("tbody tr")
            assert rows.count() == len(ROLES)
            links = []
            for index, role in enumerate(ROLES.values()):
                cells = rows.nth(index).locator("td")
                assert cells.nth(0).inner_text() == role.name
                assert cells.nth(1).inner_text() == role.default_prefix
                assert cells.nth(2).inner_text() == "up"
                hrefs = cells.nth(3).locator("a").evaluate_all("(anchors) => anchors.map((a) => a.getAttribute('href'))")
                assert hrefs == [f"{role.default_prefix}{path}" for path in ("api/docs/", "api/schema/", "admin/")]
                links += hrefs
            for href in links:  # each link, clicked from the front door, opens (or downloads) its role's page
                page.goto(stack.gateway + "/")
                if href.endswith("api/schema/"):  # served as application/vnd.oai.openapi: the browser saves it
                    with page.expect_download() as download:
                        page.click(f"a[href='{href}']")
                    assert download.value.url == stack.gateway + href
                    assert Path(download.value.path()).read_text().startswith("openapi: "), href
                    continue
                with page.expect_response(lambda response, href=href: response.url == stack.gateway + href) as first:
                    page.click(f"a[href='{href}']")
                page.wait_for_load_state("load")
                assert first.value.status in (200, 302), (href, first.value.status)
                if href.endswith("admin/"):
                    assert page.url.startswith(stack.gateway + href + "login/"), page.url  # the role's own login
                else:
                    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
                    assert page.url == stack.gateway + href
                page.screenshot(path=str(ARTIFACTS / ("front-door-link" + href.replace("/", "-").rstrip("-") + ".png")))
        finally:
            browser.close()

    stack.stop(next(process for process in stack.processes if process.name == "vote-web"))
    after = requests.get(stack.gateway + "/", headers={"Accept": "application/json"}, timeout=10).json()
    assert {role["name"]: role["up"] for role in after["roles"]} == {name: name != "vote" for name in ROLES}
