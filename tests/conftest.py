"""Every suite sees the development values of settings/local.env (secrets are never defaulted)."""

from pollsite.localenv import load_local_env

load_local_env()
