"""pytest plugin (``-p tests.support.localenv_plugin`` in pyproject.toml): loads
settings/local.env before pytest-django configures Django, because production
settings have no defaults for secrets. Values already in the environment win."""

from pollsite.config.localenv import load_local_env

load_local_env()
