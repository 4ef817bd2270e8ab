"""Development environment for local runs: ``settings/local.env``.

Read by ``manage.py``, the local launcher and the test runner, never by the WSGI
entry point, and left out of the image, so production must set every secret itself.
Values already in the environment win.
"""

from pathlib import Path

import environ

LOCAL_ENV_FILE = Path(__file__).resolve().parents[2] / "settings" / "local.env"


def load_local_env() -> bool:
    """Load ``settings/local.env`` if it exists; True when it did."""
    if not LOCAL_ENV_FILE.exists():
        return False
    environ.Env.read_env(str(LOCAL_ENV_FILE), overwrite=False)
    return True
