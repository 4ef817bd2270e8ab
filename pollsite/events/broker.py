"""The broker connection and topology: one topic exchange, one durable queue per consuming role.

Routing keys are ``<producer>.<event type>`` (``polls.poll.closed``); a consuming role's
queue ``<ns>.<role>.events`` is bound to ``<producer>.#`` for each role it consumes. The
same topology runs on RabbitMQ and on kombu's filesystem transport (local runs).
"""

from django.conf import settings
from kombu import Connection, Exchange, Queue, binding

from pollsite.roles import ROLES, get_role


def broker_connection() -> Connection:
    url = settings.EVENTS_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.EVENTS_FILESYSTEM_DIR
        (folder / "queues").mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(parents=True, exist_ok=True)
        options = {
            "data_folder_in": str(folder / "queues"),
            "data_folder_out": str(folder / "queues"),
            "control_folder": str(folder / "control"),
            # Local runs: a consumer looks for new message files this often (kombu's default: 1 s).
            "polling_interval": 0.1,
        }
        return Connection(url, transport_options=options)
    # Publisher confirms: the relay marks an event published only once the broker has it.
    return Connection(url, transport_options={"confirm_publish": True}, heartbeat=30)


def events_exchange() -> Exchange:
    return Exchange(f"{settings.EVENTS_NAMESPACE}.events", type="topic", durable=True)


def routing_key(producer: str, event_type: str) -> str:
    return f"{producer}.{event_type}"


def role_queue(role_name: str) -> Queue:
    """The durable queue of a consuming role, bound to every role it consumes."""
    role = get_role(role_name)
    exchange = events_exchange()
    return Queue(
        f"{settings.EVENTS_NAMESPACE}.{role.name}.events",
        exchange=exchange,
        bindings=[binding(exchange, routing_key=f"{producer}.#") for producer in role.consumes],
        durable=True,
    )


def declare_topology(channel) -> None:
    """Declare the exchange and the queue of every role that consumes this role's events.

    The relay does this before it publishes: an event published to a topic exchange
    with no queue bound yet would be dropped, so a consumer that has never run (a
    first install, a new role) still finds every event waiting in its queue.
    """
    events_exchange()(channel).declare()
    for role in ROLES.values():
        if settings.ROLE in role.consumes:
            role_queue(role.name)(channel).declare()
