#!/usr/bin/env bash
# The per-role RabbitMQ users an install needs (docs/DEPLOY.md), created on CI's broker the
# way an operator would: publisher users for relays, consumer users for consumers, each
# with permissions derived from the role registry. Idempotent; run as root after
# RabbitMQ is up (.ci/run starts it first). Passwords stay outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
for _ in $(seq 60); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
python3 -m pollsite.events.broker_users apply --vhost / --namespace pollsite --password-dir /var/lib/pollsite-ci/rabbitmq-users
