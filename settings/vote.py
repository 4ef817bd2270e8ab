"""Settings of the vote role: `from .base import *`, then what the registry derives for vote."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env, role_settings

globals().update(role_settings("vote"))

#: How long new votes on a poll wait at most while its creator changes its wording (an edit lease).
VOTE_EDIT_LEASE_SECONDS = env.int("VOTE_EDIT_LEASE_SECONDS", default=10)
#: Counters per (poll, choice) in the vote role's tallies (see apps.vote.models.TallyShard).
VOTE_TALLY_SHARDS = env.int("VOTE_TALLY_SHARDS", default=16)

#: Casting's own limits (apps/vote/throttling.py), next to every role's.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "vote_voter": env.str("POLLSITE_RATE_VOTES_PER_VOTER", default="600/minute"),
        "vote_client": env.str("POLLSITE_RATE_VOTES_PER_CLIENT", default="60000/minute"),
    },
}
