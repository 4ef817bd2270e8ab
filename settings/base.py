"""Settings shared by every role.

A role's module (``settings.polls`` and so on) starts with ``from .base import *`` and
applies :func:`role_settings` for its name; everything that differs between roles is
derived there from the role registry. Production secrets have no defaults: a missing
one stops the process at start-up. ``settings/local.env`` supplies development values
for ``make run``, ``manage.py`` and the tests; the image does not contain it.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from pollsite.observability.logs import json_formatter
from pollsite.roles import get_role

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

#: Where local runs keep their SQLite files and the embedded broker's messages.
VAR_DIR = Path(env.str("POLLSITE_VAR_DIR", default=str(BASE_DIR / "var")))

# No process depends on another (or an earlier run) having made the folders it writes to:
# each one creates what it needs here, before any metric or database file is opened.
#: Under gunicorn, every worker's metrics are summed through files in this folder.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind the Ingress, TLS ends at the proxy, which says so in X-Forwarded-Proto.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list(
    "DJANGO_SILENCED_SYSTEM_CHECKS",
    # W008 (SSL redirect): TLS and its redirect belong to the Ingress; calls between
    # roles stay plain HTTP inside the cluster. W005, W021: subdomains and the browsers'
    # preload list are the domain owner's call (DJANGO_HSTS_INCLUDE_SUBDOMAINS, _PRELOAD).
    default=["security.W008", "security.W005", "security.W021"],
)

#: Largest request body accepted (bytes); larger bodies answer 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("POLLSITE_MAX_BODY_BYTES", default=64 * 1024)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "pollsite",
]

#: pollsite's own work around a request (probes, request id, access log, private answers,
#: request metrics) is one layer, pollsite.api.edge; Django's security headers, host
#: validation and static files run inside it.
MIDDLEWARE = [
    "pollsite.api.edge.EdgeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

#: The Django admin of a role, under its prefix; off unless switched on. Only where it is
#: served does a role install its apps (sessions, messages, the login lockout) and run
#: their middleware, CSRF's included: an API-only role authenticates by bearer token
#: alone (no session, no cookie a browser would send on its own), so there is nothing
#: for CSRF to protect, and it answers through the shorter stack above.
ADMIN_ENABLED = env.bool("DJANGO_ADMIN_ENABLED", default=False)
if ADMIN_ENABLED:
    INSTALLED_APPS[:0] = ["django.contrib.admin", "django.contrib.sessions", "django.contrib.messages"]
    INSTALLED_APPS.append("axes")
    _common = MIDDLEWARE.index("django.middleware.common.CommonMiddleware")
    MIDDLEWARE[_common : _common + 1] = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ]
    MIDDLEWARE.append("axes.middleware.AxesMiddleware")
elif "DJANGO_SILENCED_SYSTEM_CHECKS" not in env.ENVIRON:
    # W003 (no CSRF middleware): without the admin every view of a role is a DRF view, which
    # DRF marks csrf_exempt, and nothing authenticates by cookie: the middleware could not
    # protect a single view (tests/common/test_admin_lockout.py checks both).
    SILENCED_SYSTEM_CHECKS.append("security.W003")

ROOT_URLCONF = "pollsite.config.urls"
WSGI_APPLICATION = "pollsite.config.wsgi.application"
APPEND_SLASH = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

#: Where collectstatic put the files (the image sets DJANGO_STATIC_ROOT). A checkout that
#: never collected them has none: its files are served straight from the apps, and no
#: process looks for a folder that nothing made.
_collected = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT = _collected if "DJANGO_STATIC_ROOT" in env.ENVIRON or _collected.is_dir() else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
#: Static files are served from STATIC_ROOT when it was collected (the image), else
#: straight from the apps (local runs).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=STATIC_ROOT is None or not STATIC_ROOT.is_dir())

# The admin's login: repeated failures lock out the username and, apart from it, the
# client address (django-axes, counted in the role's own database) for a cool-off period.
AUTHENTICATION_BACKENDS = [
    *(["axes.backends.AxesStandaloneBackend"] if ADMIN_ENABLED else []),
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("ADMIN_LOGIN_LOCKOUT_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # lockouts are logged all the same; no banner at every process start
AXES_CLIENT_IP_CALLABLE = "pollsite.api.throttling.client_address"  # the rate limits' notion of a client

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
#: django-redis's default, spelled out: it reads this at the end of every request, and a
#: setting that is absent is looked up again (and missed) every time.
DJANGO_REDIS_CLOSE_CONNECTION = False
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A store that does not answer must cost a request milliseconds, not seconds: the
    # limits then fail open (pollsite.api.throttling).
    _store_timeout = env.float("CACHE_TIMEOUT_SECONDS", default=0.25)
    CACHES["default"].setdefault("OPTIONS", {}).update(SOCKET_CONNECT_TIMEOUT=_store_timeout, SOCKET_TIMEOUT=_store_timeout)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["pollsite.api.auth.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["pollsite.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["pollsite.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pollsite.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "pollsite.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "pollsite.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # Limits (pollsite.api.throttling), counted in CACHES["default"]: every role's writes per
    # token subject and anonymous reads per client; composed reads add their own,
    # and a role its own (settings/<role>.py). "<n>/<second|minute|hour|day>"; empty: no limit.
    "DEFAULT_THROTTLE_CLASSES": ["pollsite.api.throttling.WritesPerSubject", "pollsite.api.throttling.ReadsPerClient"],
    "DEFAULT_THROTTLE_RATES": {
        "writes_per_subject": env.str("POLLSITE_RATE_WRITES_PER_SUBJECT", default="120/minute"),
        "reads_per_client": env.str("POLLSITE_RATE_READS_PER_CLIENT", default="6000/minute"),
        "composed_reads_per_client": env.str("POLLSITE_RATE_COMPOSED_READS_PER_CLIENT", default="600/minute"),
    },
    # Proxies in front of the pods that append to X-Forwarded-For (1 behind the Ingress);
    # the client address is read that far from the right, so clients cannot forge it.
    "NUM_PROXIES": env.int("POLLSITE_NUM_PROXIES", default=0),
}

# Identity: bearer JWTs, verified statelessly by every role's web processes (relays,
# consumers and the migration Job verify nothing and get no key). RS*/ES* verify with
# JWT_PUBLIC_KEY or the identity provider's keys at JWT_JWKS_URL (nothing in a release
# can sign); HS* (development) with the shared JWT_SECRET. pollsite.config.wsgi refuses to start
# a web process without one; there is no default key.
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="HS256")
JWT_JWKS_URL = env.str("JWT_JWKS_URL", default="")
JWT_KEY = env.str("JWT_SECRET" if JWT_ALGORITHM.startswith("HS") else "JWT_PUBLIC_KEY", default="")
#: An HS* secret shorter than this many bytes can be guessed offline from any token.
JWT_SECRET_MIN_BYTES = 32
if JWT_ALGORITHM.startswith("HS") and JWT_KEY and len(JWT_KEY.encode()) < JWT_SECRET_MIN_BYTES:
    raise ImproperlyConfigured(
        f"JWT_SECRET is {len(JWT_KEY.encode())} bytes; {JWT_ALGORITHM} needs at least {JWT_SECRET_MIN_BYTES} "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'), or use RS256/ES256 with JWT_PUBLIC_KEY."
    )
JWT_ISSUER = env.str("JWT_ISSUER", default="pollsite")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="pollsite")
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=30)
#: Longest lifetime (exp - iat) a token may claim; longer-lived tokens are refused.
JWT_MAX_LIFETIME_SECONDS = env.int("JWT_MAX_LIFETIME_SECONDS", default=24 * 3600)

# Calls between roles (pollsite.api.client).
SERVICE_CALL_TIMEOUT = env.float("POLLSITE_CALL_TIMEOUT", default=2.0)
SERVICE_CALL_RETRIES = env.int("POLLSITE_CALL_RETRIES", default=2)
SERVICE_BREAKER_FAILURES = env.int("POLLSITE_BREAKER_FAILURES", default=5)
SERVICE_BREAKER_RESET_SECONDS = env.int("POLLSITE_BREAKER_RESET_SECONDS", default=15)

# Events (pollsite.events): RabbitMQ in production, kombu's filesystem transport locally.
EVENTS_BROKER_URL = env.str("EVENTS_BROKER_URL", default="filesystem://localhost/")
#: Prefix of the exchange (``<ns>.events``) and the queues (``<ns>.<role>.events``): lets
#: several installs (or test runs) share one broker without seeing each other's events.
EVENTS_NAMESPACE = env.str("EVENTS_NAMESPACE", default="pollsite")
EVENTS_FILESYSTEM_DIR = VAR_DIR / "broker"
EVENTS_RELAY_BATCH = env.int("EVENTS_RELAY_BATCH", default=100)
EVENTS_RELAY_IDLE_SECONDS = env.float("EVENTS_RELAY_IDLE_SECONDS", default=0.2)
#: Who may publish each role's events: the broker user its relay connects as. The consumer
#: accepts a ``<role>.*`` message only with that ``user_id`` (which RabbitMQ checks against
#: the connection). Default: ``pollsite-<role>-publisher`` (docs/DEPLOY.md creates them).
EVENTS_PUBLISHER_USERS = env.dict("EVENTS_PUBLISHER_USERS", default={})
#: Off only where no broker vouches for anything (kombu's filesystem transport, local runs).
EVENTS_VERIFY_USER_ID = env.bool("EVENTS_VERIFY_USER_ID", default=not EVENTS_BROKER_URL.startswith("filesystem://"))
#: A message body larger than this is refused (dead-lettered) without being parsed.
EVENTS_MAX_MESSAGE_BYTES = env.int("EVENTS_MAX_MESSAGE_BYTES", default=64 * 1024)
#: How much of a refused body the dead-letter record keeps (its size and SHA-256 are always kept).
EVENTS_DEAD_LETTER_MAX_BODY = env.int("EVENTS_DEAD_LETTER_MAX_BODY", default=256 * 1024)
#: A handler that raises is retried this many times in all, with back-off, then dead-lettered.
EVENTS_MAX_ATTEMPTS = env.int("EVENTS_MAX_ATTEMPTS", default=5)
EVENTS_RETRY_BASE_SECONDS = env.float("EVENTS_RETRY_BASE_SECONDS", default=0.5)
#: Messages the broker hands the consumer ahead of its acks (each is still applied in order, one by one).
EVENTS_PREFETCH = env.int("EVENTS_PREFETCH", default=10)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "pollsite.observability.logs.RequestContextFilter"}},
    "formatters": {
        "json": json_formatter(),
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_context"]},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our access log line (pollsite.observability.access_log) replaces Django's own request logs.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}


def role_settings(name: str) -> dict:
    """The settings that differ by role, derived from the role registry.

    Everything a role serves lives under its prefix; its database is its own.
    """
    role = get_role(name)
    prefix = role.url_prefix()
    sqlite_default = f"sqlite:///{VAR_DIR / (name + '.sqlite3')}"
    database = env.db("DATABASE_URL", default=sqlite_default)
    # The chart passes the password on its own (from the role's Secret), so it may hold
    # any character without URL-encoding.
    if env.str("DATABASE_PASSWORD", default=""):
        database["PASSWORD"] = env.str("DATABASE_PASSWORD")
    if database["ENGINE"] == "django.db.backends.sqlite3":
        if database["NAME"] and database["NAME"] != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/
        database["ENGINE"] = "pollsite.db.sqlite3"  # query metrics locally too
        # Several gunicorn workers share the file: WAL and write transactions that
        # take the lock up front instead of failing with "database is locked".
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        database["ENGINE"] = "pollsite.db.postgresql"
        database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        database["CONN_HEALTH_CHECKS"] = True
        database.setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    return {
        "ROLE": name,
        "URL_PREFIX": prefix,
        "INSTALLED_APPS": [*INSTALLED_APPS, role.app],
        "DATABASES": {"default": database},
        "STATIC_URL": prefix + "static/",
        "SESSION_COOKIE_NAME": f"{name}_sessionid",
        "SESSION_COOKIE_PATH": prefix,
        "CSRF_COOKIE_NAME": f"{name}_csrftoken",
        "CSRF_COOKIE_PATH": prefix,
        "LOGIN_URL": prefix + "admin/login/",
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"pollsite {name} API",
            "DESCRIPTION": f"The {name} role of pollsite, served under {prefix}.",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "SCHEMA_PATH_PREFIX": rf"{prefix}api/v[0-9]+",
            "COMPONENT_SPLIT_REQUEST": True,
            "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}},
            # Swagger UI's assets come from the sidecar package, served under the prefix.
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
        },
        "EVENTS_CONSUMES": role.consumes,
        "EVENTS_PUBLISHES": role.publishes,
    }


__all__ = [name for name in dir() if name.isupper()]  # what `from .base import *` gives a role
