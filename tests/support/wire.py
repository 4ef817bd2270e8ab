"""Event bodies as they travel on the broker, for tests that publish by hand (no Django needed)."""

import uuid


def wire_event(producer: str, event_type: str, payload: dict, **fields) -> dict:
    """An envelope (pollsite.events.contract.Envelope) with a fresh id; ``fields`` override any key."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-11-23T10:00:00+00:00",
        "producer": producer,
        "request_id": uuid.uuid4().hex,
        "payload": payload,
        **fields,
    }
