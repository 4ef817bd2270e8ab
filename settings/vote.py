"""Settings of the vote role: `from .base import *`, then what the registry derives for vote."""

from .base import *  # noqa: F403
from .base import role_settings

globals().update(role_settings("vote"))
