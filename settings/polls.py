"""Settings of the polls role: `from .base import *`, then what the registry derives for polls."""

from .base import *  # noqa: F403
from .base import role_settings

globals().update(role_settings("polls"))
