"""Hand-written bad input against every role as a real gunicorn process on PostgreSQL.

Each case must answer a 4xx in the common error shape, and the databases must hold
exactly what they held before (every table of every role is counted before and after).
Odd but valid text is the exception: it is stored exactly as sent.
"""

import json

import pytest
import requests

from tests.support.services import require
from tests.support.stack import Stack

MAX_BODY = 64 * 1024  # POLLSITE_MAX_BODY_BYTES for this test (the default, set explicitly)
BIGINT = 2**63 - 1
SQL = "1'; DROP TABLE vote_vote; --"
ODD_TEXT = [
    "Ünïcödé, 中文, العربية, עברית",
    "emoji 🗳️👩🏽‍💻 and a flag 🇳🇿",
    "right-to-left override \u202egnirts\u202c and zero width \u200b\u200d\ufeff",
    "combining e\u0301\u0301\u0301 and Zalgo Z\u0351\u0352\u0353",
    "'); DROP TABLE polls_poll; -- and \" OR 1=1 --",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(
        tmp_path_factory.mktemp("bad") / "stack", postgres_url=require("postgres"), extra_env={"POLLSITE_MAX_BODY_BYTES": str(MAX_BODY)}
    )
    try:
        stack.prepare()
        for role in ("polls", "choice", "vote"):
            stack.start_web(role)
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def poll(stack):
    poll_id, choice_ids = stack.poll_with_choices(2)
    first = requests.post(
        stack.url("vote", f"polls/{poll_id}/votes/"), json={"choice_id": choice_ids[0]}, headers=stack.auth("first"), timeout=10
    )
    assert first.status_code == 201, first.text  # the vote role now knows the poll and its choices
    return poll_id, choice_ids


def row_counts(stack) -> dict:
    counts = {}
    for role in ("polls", "choice", "vote"):
        tables = [row[0] for row in stack.query(role, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for table in tables:
            counts[f"{role}.{table}"] = stack.query(role, f'SELECT count(*) FROM "{table}"')[0][0]  # noqa: S608 - names from pg_tables
    return counts


def cases(stack, poll_id, choice_ids):
    """(label, method, url, raw body or None, extra headers, expected status, expected code or None)"""
    polls, choice, vote = (lambda p, r=r: stack.url(r, p) for r in ("polls", "choice", "vote"))
    js = {"Content-Type": "application/json"}
    big = json.dumps({"question": "x" * MAX_BODY}).encode()
    nested = lambda depth: ('{"question": ' + "[" * depth + "]" * depth + "}").encode()  # noqa: E731
    return [
        # size
        ("body over the limit (polls)", "POST", polls("polls/"), big, js, 413, "payload_too_large"),
        ("body over the limit (choice)", "POST", choice(f"polls/{poll_id}/choices/"), big, js, 413, "payload_too_large"),
        ("body over the limit (vote)", "POST", vote(f"polls/{poll_id}/votes/"), big, js, 413, "payload_too_large"),
        ("body just under the limit, text too long", "POST", polls("polls/"), big[: MAX_BODY - 100] + b'"}', js, 400, "invalid"),
        # structure
        ("JSON nested 30,000 deep (fits the limit)", "POST", polls("polls/"), nested(30_000), js, 400, "parse_error"),
        ("JSON nested 1,900 deep (vote)", "POST", vote(f"polls/{poll_id}/votes/"), nested(1900), js, 400, None),
        ("JSON nested 30,000 deep (choice)", "POST", choice(f"polls/{poll_id}/choices/"), nested(30_000), js, 400, "parse_error"),
        ("malformed JSON", "POST", polls("polls/"), b'{"question": "unterminated', js, 400, "parse_error"),
        ("JSON array instead of object", "POST", vote(f"polls/{poll_id}/votes/"), b"[1, 2, 3]", js, 400, "invalid"),
        ("NaN", "POST", vote(f"polls/{poll_id}/votes/"), b'{"choice_id": NaN}', js, 400, "parse_error"),
        ("invalid UTF-8", "POST", polls("polls/"), b'{"question": "\xff\xfe"}', js, 400, "parse_error"),
        # content types
        ("text/plain", "POST", polls("polls/"), b"question=hi", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (
            "form-encoded",
            "POST",
            choice(f"polls/{poll_id}/choices/"),
            b"text=hi",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            None,
        ),
        (
            "multipart",
            "POST",
            vote(f"polls/{poll_id}/votes/"),
            b"--x\r\n\r\n--x--",
            {"Content-Type": "multipart/form-data; boundary=x"},
            415,
            None,
        ),
        ("XML", "PATCH", polls(f"polls/{poll_id}/"), b"<question>hi</question>", {"Content-Type": "application/xml"}, 415, None),
        ("no content type", "POST", vote(f"polls/{poll_id}/votes/"), b'{"choice_id": 1}', {"Content-Type": ""}, 415, None),
        # unicode
        ("NUL character", "POST", polls("polls/"), b'{"question": "a\\u0000b"}', js, 400, "invalid"),
        ("lone surrogate", "POST", choice(f"polls/{poll_id}/choices/"), b'{"text": "a\\ud800b"}', js, 400, "invalid"),
        ("Arabic-Indic digits as id", "GET", polls("polls/\u0661\u0662/"), None, {}, 404, "not_found"),
        ("fullwidth digits as id", "POST", vote("polls/\uff11/votes/"), b"{}", js, 404, "not_found"),
        # ids
        ("negative id in the path", "GET", polls("polls/-1/"), None, {}, 404, "not_found"),
        ("id = bigint max + 1 (path)", "POST", vote(f"polls/{BIGINT + 1}/votes/"), b'{"choice_id": 1}', js, 404, "not_found"),
        ("id = 10^30 (path)", "PATCH", choice(f"choices/{10**30}/"), b'{"text": "x"}', js, 404, "not_found"),
        ("id = bigint max (path), unknown", "DELETE", polls(f"polls/{BIGINT}/"), None, {}, 404, None),
        ("negative choice id (body)", "POST", vote(f"polls/{poll_id}/votes/"), b'{"choice_id": -1}', js, 400, "invalid"),
        (
            "choice id beyond bigint (body)",
            "POST",
            vote(f"polls/{poll_id}/votes/"),
            json.dumps({"choice_id": 2**64}).encode(),
            js,
            400,
            "invalid",
        ),
        ("choice id 1e400 (body)", "POST", vote(f"polls/{poll_id}/votes/"), b'{"choice_id": 1e400}', js, 400, "invalid"),
        (
            "order beyond its maximum",
            "POST",
            choice(f"polls/{poll_id}/choices/"),
            b'{"text": "t", "order": 99999999999999999999}',
            js,
            400,
            "invalid",
        ),
        ("page offset beyond bigint", "GET", polls("polls/?offset=99999999999999999999&limit=99999999999999999999"), None, {}, 200, None),
        ("page limit negative", "GET", polls("polls/?limit=-5"), None, {}, 200, None),
        # SQL-looking input where a number or a name is expected
        ("SQL in the path", "GET", polls("polls/1;DROP TABLE polls_poll/"), None, {}, 404, "not_found"),
        ("SQL in a filter", "GET", polls("polls/?status=open' OR '1'='1"), None, {}, 400, "invalid"),
        ("SQL as a choice id", "POST", vote(f"polls/{poll_id}/votes/"), json.dumps({"choice_id": SQL}).encode(), js, 400, "invalid"),
        (
            "SQL as the token",
            "POST",
            vote(f"polls/{poll_id}/votes/"),
            b'{"choice_id": 1}',
            {**js, "Authorization": f"Bearer {SQL}"},
            401,
            "token_invalid",
        ),
    ]


def test_bad_input_is_4xx_in_the_common_shape_and_writes_nothing(stack, poll):
    poll_id, choice_ids = poll
    before = row_counts(stack)
    token = stack.auth("alice")
    print()
    for label, method, url, body, headers, status, code in cases(stack, poll_id, choice_ids):
        response = requests.request(method, url, data=body, headers={**token, **headers}, timeout=30)
        print(f"[bad input] {label}: {response.status_code} {response.text[:110]}")
        assert response.status_code == status, f"{label}: {response.status_code} {response.text[:300]}"
        if status >= 400:
            error = response.json()
            assert set(error) == {"error", "request_id"} and error["error"]["status"] == status, f"{label}: {error}"
            assert code is None or error["error"]["code"] == code, f"{label}: {error}"
        else:
            assert len(response.json()["results"]) <= 100
    after = row_counts(stack)
    changed = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
    print(f"[bad input] rows in {len(before)} tables across the three databases: unchanged ({sum(after.values())} rows)")
    assert not changed
    for role in ("polls", "choice", "vote"):
        log = "".join(p.output() for p in stack.processes if p.name == f"{role}-web")
        assert "Traceback" not in log, log[-3000:]


def test_odd_but_valid_text_is_stored_exactly(stack):
    for text in ODD_TEXT:
        created = requests.post(stack.url("polls", "polls/"), json={"question": text}, headers=stack.auth("alice"), timeout=10)
        assert created.status_code == 201, created.text
        stored = stack.query("polls", "SELECT question FROM polls_poll WHERE id = %s", (created.json()["id"],))[0][0]
        assert stored == text == created.json()["question"]
        choice = requests.post(
            stack.url("choice", f"polls/{created.json()['id']}/choices/"), json={"text": text}, headers=stack.auth("alice"), timeout=10
        )
        assert choice.status_code == 201 and choice.json()["text"] == text, choice.text
    tables = stack.query("polls", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'polls_poll'")[0][0]
    print(f"\n[bad input] {len(ODD_TEXT)} odd texts (RTL override, zero-width, emoji, combining marks, SQL) stored verbatim")
    assert tables == 1
