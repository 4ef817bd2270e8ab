"""Settings of the vote role: `from .base import *`, then what the registry derives for vote."""

from .base import *  # noqa: F403
from .base import env, role_settings

globals().update(role_settings("vote"))

#: How long new votes on a poll wait at most while its creator changes its wording (an edit lease).
VOTE_EDIT_LEASE_SECONDS = env.int("VOTE_EDIT_LEASE_SECONDS", default=10)
