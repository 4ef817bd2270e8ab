"""The framework floor: the least Django that can take a vote.

No middleware, no auth, no serializers, no metrics: one URL and one view that inserts
one row with raw SQL into a table shaped like ``vote_vote``. Served by the same gunicorn
configuration as the roles, so the difference to the vote endpoint is pollsite's own.
"""

import environ

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"

_database = env.db("DATABASE_URL")
_database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)  # as the roles
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
