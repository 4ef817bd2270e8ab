"""API composition: a poll with its choices and results, owned by the polls role.

Polls owns it because the poll is the aggregate the page is about and the one part
that must exist (404 otherwise); choices and results are decorations fetched from
their roles. When one of those is down the response still comes, with that part
``null`` and named in ``missing`` so a client can tell "no choices" from "unknown".
"""

from pollsite.api.client import service_client
from pollsite.exceptions import Unavailable


def poll_overview(*, poll, poll_data: dict) -> dict:
    overview = {"poll": poll_data, "choices": None, "results": None, "missing": []}
    parts = {
        "choices": ("choice", f"polls/{poll.pk}/choices/"),
        "results": ("vote", f"polls/{poll.pk}/results/"),
    }
    for part, (role, path) in parts.items():
        try:
            body = service_client(role).get_json(path)
        except Unavailable as exc:
            overview["missing"].append({"part": part, "role": role, "reason": exc.message})
            continue
        if body is None:
            overview["missing"].append({"part": part, "role": role, "reason": f"the {role} role does not know this poll (yet)"})
        overview[part] = body
    return overview
