"""A poll's wording changes only while it has no vote: the edit lease, asked of the vote role.

Only the vote role knows whether a poll has votes. A role about to change what a vote
would mean (polls: the question; choice: a choice's text, or deleting a choice) first
asks vote, on the creator's behalf, for an edit lease on the poll
(``POST /vote/api/v1/polls/<id>/edit-lease/``). Vote grants it only while the poll has
no vote, and from then until the lease is released or runs out it refuses new votes on
that poll (409 ``poll_being_edited``). Vote decides both under one row lock, so an edit
and a first vote at the same moment cannot both succeed: either the vote came first and
the edit is refused (409 ``poll_has_votes``), or the lease came first and the vote waits.

The change must commit while the lease holds: :func:`wording_change` runs it as one
transaction and, as its last step, :meth:`EditLease.confirm` refuses to commit once the
lease may have run out. The lease is released after the transaction, whatever happened
(a release that fails leaves it to run out by itself). docs/ARCHITECTURE.md says why this design and not another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

from pollsite.api.client import service_client
from pollsite.exceptions import Conflict, DomainError, ErrorCode, Unavailable

logger = logging.getLogger("pollsite.edit_lease")

#: Seconds of the lease kept in hand for the commit itself and for the clocks of two processes.
SAFETY_SECONDS = 1.0
#: How long a new poll's edit waits for the vote role to learn of the poll.
NOT_YET_KNOWN_SECONDS = 3.0


@dataclass
class EditLease:
    poll_id: int
    lease_id: str | None  # None: no lease was needed (the change does not touch the wording)
    seconds: float = 0.0
    taken_at: float = 0.0  # time.monotonic() just before it was asked for

    def confirm(self) -> None:
        """Call last inside the change's transaction: stop if the lease may no longer hold."""
        if self.lease_id is not None and time.monotonic() - self.taken_at > self.seconds - SAFETY_SECONDS:
            raise Unavailable(
                f"The change to poll {self.poll_id} took longer than the vote service's hold on new votes; nothing was written. Try again.",
                ErrorCode.unavailable("vote"),
            )


def _take(vote, poll_id: int) -> tuple[float, dict]:
    """(when it was asked for, vote's answer). A poll vote has not learned of yet (its
    poll.created event on the way, usually well under a second) is asked about again for
    up to NOT_YET_KNOWN_SECONDS; a refusal (poll_has_votes) or an outage is raised."""
    deadline = time.monotonic() + NOT_YET_KNOWN_SECONDS
    pause = 0.05
    while True:
        taken_at = time.monotonic()
        try:
            return taken_at, vote.post_json(f"polls/{poll_id}/edit-lease/")
        except Conflict as refusal:
            if refusal.code != ErrorCode.NOT_YET_KNOWN or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@contextmanager
def wording_change(*, poll_id: int, needed: bool = True) -> Iterator[EditLease]:
    """The block, as one transaction, while the vote role holds the poll's votes
    (``needed=False``: a change that does not touch the wording, so no lease). The
    transaction commits only if the lease still holds at its end."""
    if not needed:
        with transaction.atomic():
            yield EditLease(poll_id=poll_id, lease_id=None)
        return
    vote = service_client("vote")
    taken_at, granted = _take(vote, poll_id)
    lease = EditLease(poll_id=poll_id, lease_id=granted["lease_id"], seconds=float(granted["seconds"]), taken_at=taken_at)
    try:
        with transaction.atomic():
            yield lease
            lease.confirm()
    finally:
        try:
            vote.delete(f"polls/{poll_id}/edit-lease/{lease.lease_id}/")
        except DomainError as exc:  # it runs out by itself within lease.seconds
            logger.warning("edit lease on poll %s not released: %s", poll_id, exc)
