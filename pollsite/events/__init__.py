"""Events between roles: a transactional outbox, a relay to the broker, an inbox.

- :func:`pollsite.events.outbox.event_record` writes an event in the caller's transaction;
- :mod:`pollsite.events.relay` publishes the outbox (``manage.py relay_events``);
- :mod:`pollsite.events.consumer` applies events at most once (``manage.py consume_events``).
"""
