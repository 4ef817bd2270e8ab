"""One process with all three roles' apps: the comparison point for per-role memory and start-up.

Not a supported way to run pollsite (each role owns its database; here the three apps
share one), only what a monolith would cost, measured by ``bench/run.py``. Everything
else is the vote role's production configuration.
"""

from pollsite.roles import ROLES
from settings import base
from settings.vote import *  # noqa: F403

INSTALLED_APPS = [*base.INSTALLED_APPS, *(role.app for role in ROLES.values())]
ROOT_URLCONF = "bench.allinone.urls"
