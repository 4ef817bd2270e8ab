"""Writes of the vote role: casting votes, edit leases, and keeping its read model of polls and choices.

Casting locks the poll's and the choice's read-model rows FOR SHARE: many votes into
one poll share the lock, while an event that closes or deletes the poll, or an edit lease
(FOR UPDATE), waits for the votes in flight and they for it, so no vote lands after a
deletion, and none while a poll's wording changes.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.vote.models import KnownChoice, KnownPoll, TallyShard, Vote
from pollsite.api.client import service_client
from pollsite.events.contract import PollStatus
from pollsite.exceptions import Conflict, ErrorCode, Invalid, NotAllowed, NotFound


def _shard_count() -> int:
    return settings.VOTE_TALLY_SHARDS


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment is not None and timezone.is_naive(moment) else moment  # SQLite: naive UTC


def _read_model_row(*, poll_id: int, choice_id: int):
    """(choice's poll id, choice deleted, poll status, poll closes_at, edit lease until), share-locked, or None on a miss."""
    lock = " FOR SHARE OF c, p" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.poll_id, c.deleted, p.status, p.closes_at, p.edit_lease_until "  # noqa: S608 - table names are ours
            f"FROM {KnownChoice._meta.db_table} c, {KnownPoll._meta.db_table} p "
            f"WHERE c.choice_id = %s AND p.poll_id = %s{lock}",
            [choice_id, poll_id],
        )
        row = cursor.fetchone()
    return None if row is None else (*row[:3], _aware(row[3]), _aware(row[4]))


def _learn_poll(*, poll_id: int) -> None:
    """Read-through: ask the polls role about a poll the read model lacks (or lacks the creator of)."""
    poll = service_client("polls").get_json(f"polls/{poll_id}/")
    if poll is None:
        raise NotFound(f"Poll {poll_id} does not exist.", ErrorCode.POLL_NOT_FOUND)
    status = KnownPoll.Status.of(PollStatus(poll["status"]))
    known_poll_apply(poll_id=poll_id, status=status, closes_at=poll["closes_at"], creator=poll["creator"])


def _learn_from_roles(*, poll_id: int, choice_id: int) -> None:
    """Read-through on a read-model miss: ask the choice and polls roles, remember the answer."""
    if not KnownChoice.objects.filter(choice_id=choice_id).exists():
        choice = service_client("choice").get_json(f"choices/{choice_id}/")
        if choice is None:
            raise Invalid({"choice_id": [f"Choice {choice_id} does not exist."]}, ErrorCode.CHOICE_NOT_FOUND)
        KnownChoice.objects.get_or_create(choice_id=choice_id, defaults={"poll_id": choice["poll_id"]})
    if not KnownPoll.objects.filter(poll_id=poll_id).exists():
        _learn_poll(poll_id=poll_id)


def _check_votable(row, *, poll_id: int, choice_id: int) -> None:
    choice_poll_id, choice_deleted, poll_status, closes_at, edit_lease_until = row
    if poll_status == KnownPoll.Status.DELETED:
        raise NotFound(f"Poll {poll_id} does not exist.", ErrorCode.POLL_NOT_FOUND)
    if choice_deleted:
        raise Invalid({"choice_id": [f"Choice {choice_id} does not exist."]}, ErrorCode.CHOICE_NOT_FOUND)
    if choice_poll_id != poll_id:
        raise Invalid({"choice_id": [f"Choice {choice_id} is not a choice of poll {poll_id}."]}, ErrorCode.CHOICE_NOT_IN_POLL)
    now = timezone.now()
    if poll_status == KnownPoll.Status.CLOSED or (closes_at is not None and closes_at <= now):
        raise Conflict(f"Poll {poll_id} is closed; it takes no more votes.", ErrorCode.POLL_CLOSED)
    if edit_lease_until is not None and edit_lease_until > now:
        raise Conflict(f"Poll {poll_id}'s wording is being changed by its creator; try again in a moment.", ErrorCode.POLL_BEING_EDITED)


def vote_cast(*, poll_id: int, choice_id: int, voter: str) -> Vote:
    """Record one vote and bump one tally shard, atomically. 409 if the voter already voted.

    On a read-model miss the polls and choice roles are asked (outside the transaction,
    so no lock is held across a network call) and the cast is tried once more.
    """
    try:
        vote = _vote_insert(poll_id=poll_id, choice_id=choice_id, voter=voter)
        if vote is None:
            _learn_from_roles(poll_id=poll_id, choice_id=choice_id)
            vote = _vote_insert(poll_id=poll_id, choice_id=choice_id, voter=voter)
    except IntegrityError:
        if Vote.objects.filter(poll_id=poll_id, voter=voter).exists():
            raise Conflict(f"{voter} has already voted in poll {poll_id}.", ErrorCode.ALREADY_VOTED) from None
        raise
    if vote is None:  # learned, yet still unknown: the two roles disagree for now
        raise Conflict(f"Choice {choice_id} and poll {poll_id} are not known together yet; try again.", ErrorCode.NOT_YET_KNOWN)
    return vote


def _vote_insert(*, poll_id: int, choice_id: int, voter: str) -> Vote | None:
    if connection.vendor != "postgresql":
        return _vote_insert_steps(poll_id=poll_id, choice_id=choice_id, voter=voter)
    try:
        return _vote_insert_once(poll_id=poll_id, choice_id=choice_id, voter=voter)
    except DatabaseError as error:  # psycopg2 files "does not exist" under OperationalError
        if getattr(error.__cause__, "pgcode", None) != INVALID_SQL_STATEMENT_NAME:
            raise
        connection.vote_cast_prepared = False  # the connection lost it (a pooler's DISCARD ALL): prepare again
        return _vote_insert_once(poll_id=poll_id, choice_id=choice_id, voter=voter)


def _vote_insert_once(*, poll_id: int, choice_id: int, voter: str) -> Vote | None:
    if connection.in_atomic_block:  # a savepoint: a unique violation must not spoil the caller's transaction
        with transaction.atomic():
            return _vote_insert_one_statement(poll_id=poll_id, choice_id=choice_id, voter=voter)
    return _vote_insert_one_statement(poll_id=poll_id, choice_id=choice_id, voter=voter)


#: The vote in one statement ($1 poll, $2 choice, $3 voter, $4 now, $5 tally shard), prepared
#: once per database connection (see :func:`_vote_insert_one_statement`).
VOTE_CAST_STATEMENT = f"""
    WITH known AS (
      SELECT c.poll_id, c.deleted, p.status, p.closes_at, p.edit_lease_until
      FROM {KnownChoice._meta.db_table} c, {KnownPoll._meta.db_table} p
      WHERE c.choice_id = $2 AND p.poll_id = $1 FOR SHARE OF c, p),
    vote AS (
      INSERT INTO {Vote._meta.db_table} (poll_id, choice_id, voter, created_at)
      SELECT $1, $2, $3, $4 FROM known
      WHERE known.poll_id = $1 AND NOT known.deleted AND known.status = {KnownPoll.Status.OPEN:d}
        AND (known.closes_at IS NULL OR known.closes_at > $4)
        AND (known.edit_lease_until IS NULL OR known.edit_lease_until <= $4)
      RETURNING id),
    tally AS (
      INSERT INTO {TallyShard._meta.db_table} (poll_id, choice_id, shard, count) SELECT $1, $2, $5, 1 FROM vote
      ON CONFLICT (poll_id, choice_id, shard) DO UPDATE SET count = {TallyShard._meta.db_table}.count + 1)
    SELECT known.poll_id, known.deleted, known.status, known.closes_at, known.edit_lease_until, vote.id
    FROM known LEFT JOIN vote ON true"""  # noqa: S608 - table names are ours
VOTE_CAST_PREPARED = "pollsite_vote_cast"


def _vote_insert_one_statement(*, poll_id: int, choice_id: int, voter: str) -> Vote | None:
    """The same steps as :func:`_vote_insert_steps` in one statement, so one round trip.

    The read model's rows are share-locked, the vote inserted only if they allow it, and
    a tally shard bumped only if the vote went in; one statement is one transaction. When
    nothing was inserted the returned read-model row says why (_check_votable).

    The statement is a server-side prepared statement, made once per connection: planning
    it cost PostgreSQL more than running it (pgbench: twice the casts per second prepared).
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        if not getattr(connection, "vote_cast_prepared", False):
            cursor.execute(f"PREPARE {VOTE_CAST_PREPARED} (bigint, bigint, varchar, timestamptz, integer) AS {VOTE_CAST_STATEMENT}")
            connection.vote_cast_prepared = True
        shard = random.randrange(_shard_count())
        cursor.execute(f"EXECUTE {VOTE_CAST_PREPARED} (%s, %s, %s, %s, %s)", [poll_id, choice_id, voter, now, shard])
        row = cursor.fetchone()
    if row is None:
        return None
    if row[5] is None:
        _check_votable(row[:5], poll_id=poll_id, choice_id=choice_id)
        raise AssertionError(f"vote refused by the read model but allowed by _check_votable: {row}")
    vote = Vote(row[5], poll_id, choice_id, voter, now)
    vote._state.adding, vote._state.db = False, connection.alias
    return vote


#: PostgreSQL's SQLSTATE for "prepared statement ... does not exist".
INVALID_SQL_STATEMENT_NAME = "26000"


def vote_statement_forget(*, connection, **kwargs) -> None:
    """A new database connection has none of the old one's prepared statements (connection_created)."""
    connection.vote_cast_prepared = False


@transaction.atomic
def _vote_insert_steps(*, poll_id: int, choice_id: int, voter: str) -> Vote | None:
    row = _read_model_row(poll_id=poll_id, choice_id=choice_id)
    if row is None:
        return None
    _check_votable(row, poll_id=poll_id, choice_id=choice_id)
    vote = Vote.objects.create(poll_id=poll_id, choice_id=choice_id, voter=voter)
    _tally_add(poll_id=poll_id, choice_id=choice_id, delta=1)
    return vote


def _tally_add(*, poll_id: int, choice_id: int, delta: int) -> None:
    table = TallyShard._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (poll_id, choice_id, shard, count) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (poll_id, choice_id, shard) DO UPDATE SET count = {table}.count + EXCLUDED.count",
            [poll_id, choice_id, random.randrange(_shard_count()), delta],
        )


# --- edit leases: a poll's wording changes only while it has no vote ----------------------


def edit_lease_take(*, poll_id: int, actor: str) -> KnownPoll:
    """Hold new votes on a poll while its creator changes its question or a choice's text.

    Refused (poll_has_votes) once the poll has a vote: from then on its wording is what
    its votes mean. The poll's row is locked FOR UPDATE, so this waits for the votes in
    flight (they hold it FOR SHARE) and sees them; a vote after it sees the lease and is
    refused (poll_being_edited) until the lease is released or runs out
    (VOTE_EDIT_LEASE_SECONDS). The polls and choice roles take one around such a change
    (pollsite.api.edit_lease).

    A poll vote has not learned of yet (its poll.created event is on its way) has no vote
    either, but no row to hold the lease: not_yet_known, and the caller asks again. No
    read-through here: the polls role is the caller, waiting on this answer.
    """
    creator = KnownPoll.objects.filter(poll_id=poll_id).values_list("creator", flat=True).first()
    if creator is None:
        raise Conflict(f"The vote service has not learned of poll {poll_id} yet; try again in a moment.", ErrorCode.NOT_YET_KNOWN)
    if creator == "":  # a row from before creators were recorded
        _learn_poll(poll_id=poll_id)  # outside the transaction: no lock held across a call
    with transaction.atomic():
        poll = KnownPoll.objects.select_for_update().filter(poll_id=poll_id).exclude(status=KnownPoll.Status.DELETED).first()
        if poll is None:
            raise NotFound(f"The vote service knows no poll {poll_id}.", ErrorCode.POLL_NOT_FOUND)
        if poll.creator != actor:
            raise NotAllowed("Only the poll's creator may change its wording.", ErrorCode.NOT_POLL_CREATOR)
        if Vote.objects.filter(poll_id=poll_id).exists():
            raise Conflict(
                f"Poll {poll_id} has votes: its question and its choices' texts can no longer change, "
                "and its choices can no longer be deleted.",
                ErrorCode.POLL_HAS_VOTES,
            )
        poll.edit_lease_id = uuid.uuid4()
        poll.edit_lease_until = timezone.now() + timedelta(seconds=settings.VOTE_EDIT_LEASE_SECONDS)
        poll.save(update_fields=["edit_lease_id", "edit_lease_until", "updated_at"])
    return poll


def edit_lease_release(*, poll_id: int, lease_id: uuid.UUID, actor: str) -> None:
    """End a lease early (the change committed or gave up). A lease already gone or replaced is left alone."""
    KnownPoll.objects.filter(poll_id=poll_id, edit_lease_id=lease_id, creator=actor).update(
        edit_lease_id=None, edit_lease_until=None, updated_at=timezone.now()
    )


# --- the read model, fed by events (apps.vote.handlers) ---------------------------------


def known_poll_apply(*, poll_id: int, status: int, closes_at: str | datetime | None = None, creator: str = "") -> KnownPoll:
    """Record what we learned of a poll. Status never moves backwards (events may repeat)."""
    if isinstance(closes_at, str):
        closes_at = parse_datetime(closes_at)
    with transaction.atomic():
        poll, created = KnownPoll.objects.select_for_update().get_or_create(
            poll_id=poll_id, defaults={"status": status, "closes_at": closes_at, "creator": creator}
        )
        if not created:
            poll.status = max(poll.status, status)
            poll.closes_at = closes_at
            poll.creator = creator or poll.creator
            poll.save(update_fields=["status", "closes_at", "creator", "updated_at"])
    return poll


@transaction.atomic
def known_poll_delete(*, poll_id: int) -> None:
    """The poll is gone: its votes, tallies and choices go; a tombstone stays."""
    known_poll_apply(poll_id=poll_id, status=KnownPoll.Status.DELETED)
    Vote.objects.filter(poll_id=poll_id).delete()
    TallyShard.objects.filter(poll_id=poll_id).delete()
    KnownChoice.objects.filter(poll_id=poll_id).update(deleted=True)


@transaction.atomic
def known_choice_add(*, choice_id: int, poll_id: int) -> None:
    poll_gone = KnownPoll.objects.filter(poll_id=poll_id, status=KnownPoll.Status.DELETED).exists()
    KnownChoice.objects.get_or_create(choice_id=choice_id, defaults={"poll_id": poll_id, "deleted": poll_gone})


@transaction.atomic
def known_choice_delete(*, choice_id: int, poll_id: int) -> None:
    """The choice is gone: its votes leave the results (those voters may vote again)."""
    list(KnownPoll.objects.select_for_update().filter(poll_id=poll_id))  # wait for votes in flight
    KnownChoice.objects.update_or_create(choice_id=choice_id, defaults={"poll_id": poll_id, "deleted": True})
    Vote.objects.filter(choice_id=choice_id).delete()
    TallyShard.objects.filter(choice_id=choice_id).delete()


@transaction.atomic
def results_recount(*, poll_id: int | None = None) -> int:
    """Rebuild the tallies from the votes (one shard per choice); the number of polls recounted."""
    polls = KnownPoll.objects.select_for_update().exclude(status=KnownPoll.Status.DELETED)
    if poll_id is not None:
        polls = polls.filter(poll_id=poll_id)
    poll_ids = list(polls.values_list("poll_id", flat=True))
    for current in poll_ids:
        TallyShard.objects.filter(poll_id=current).delete()
        counts = Vote.objects.filter(poll_id=current).values("choice_id").annotate(n=Count("id")).values_list("choice_id", "n")
        TallyShard.objects.bulk_create(TallyShard(poll_id=current, choice_id=choice_id, shard=0, count=n) for choice_id, n in counts)
    return len(poll_ids)
