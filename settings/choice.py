"""Settings of the choice role: `from .base import *`, then what the registry derives for choice."""

from .base import *  # noqa: F403
from .base import role_settings

globals().update(role_settings("choice"))
