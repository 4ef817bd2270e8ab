# syntax=docker/dockerfile:1
# One image for every pollsite role: DJANGO_SETTINGS_MODULE (settings.polls,
# settings.choice, settings.vote) alone chooses the role. Runs as UID 10001 and writes
# only to /tmp (and /dev/shm), so it works with a read-only root filesystem.
#
#   docker build -t pollsite .
#   buildah bud --isolation chroot --build-arg BASE_IMAGE=localhost/pollsite-base:trixie -t pollsite .
#
# BASE_IMAGE must provide python3 (3.13) with the venv module; both stages use it, so
# the virtualenv's interpreter link resolves in the runtime stage.
ARG BASE_IMAGE=python:3.13-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements.txt
# Exactly the locked runtime dependencies, hash-checked; wheels only (no compiler here).
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret (never stored in
# the image): --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=secret,id=ca-bundle,required=false \
    if [ -s /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --quiet --yes pip \
    && find /opt/venv -name "*.po" -delete \
    && rm -f /tmp/requirements.txt
WORKDIR /app
COPY manage.py ./
COPY settings ./settings
COPY pollsite ./pollsite
COPY apps ./apps
# Static files of every role in the registry, collected into one tree that WhiteNoise
# serves under each role's <prefix>static/. The admin's are collected too (it is off by
# default, and an operator switches it on with the environment alone, without a rebuild).
# The secrets on this line exist only for this command; they are not in the image's environment.
RUN modules=$(/opt/venv/bin/python -c 'from pollsite.roles import ROLES; print(*(r.settings_module for r in ROLES.values()))') \
    && for module in $modules; do \
      DJANGO_SETTINGS_MODULE="$module" DJANGO_STATIC_ROOT=/app/staticfiles DJANGO_ADMIN_ENABLED=true \
      DJANGO_SECRET_KEY=collectstatic-only DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=localhost \
      POLLSITE_VAR_DIR=/tmp/var \
      /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 || exit 1; \
    done \
    && /opt/venv/bin/python -m compileall -q -j 0 /app

FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="pollsite" \
      org.opencontainers.image.description="pollsite: one image for the polls, choice and vote roles (DJANGO_SETTINGS_MODULE chooses)" \
      org.opencontainers.image.source="https://example.invalid/pollsite"
RUN groupadd --gid 10001 pollsite \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pollsite
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    POLLSITE_VAR_DIR=/tmp/pollsite \
    GUNICORN_BIND=0.0.0.0:8000
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# gunicorn handles SIGTERM itself (graceful stop within GUNICORN_GRACEFUL_TIMEOUT).
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "pollsite/config/gunicorn.py", "pollsite.config.wsgi"]
