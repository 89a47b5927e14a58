# Beacon in a container. See "Deploying" in README.md.
#
#   docker build -t beacon .
#
# Settings: an env file (deploy/beacon.env.example) with, for the container, BEACON_CONFIG=/config/beacon.yaml
# and DATABASE_URL=sqlite+aiosqlite:////data/beacon.db (Socket Mode) or your PostgreSQL URL (replicas).
# Mount the folder holding beacon.yaml (and any BEACON_CONTENT folder), not the file alone: editors replace
# the file, and a single-file mount would keep showing the old one. It must be readable by uid 10001.
#
# HTTP mode (the default command): one replica of several behind a reverse proxy, on PostgreSQL:
#   docker run -d --name beacon-3000 --restart unless-stopped --stop-timeout 45 --env-file beacon.env \
#     --read-only --tmpfs /tmp -p 127.0.0.1:3000:3000 -v /srv/beacon/config:/config:ro beacon
#
# Socket Mode on one host, SQLite in a volume (nothing to publish; BEACON_METRICS_PORT in the env file
# gives it a /healthz for the health check below):
#   docker run -d --name beacon --restart unless-stopped --stop-timeout 45 --env-file beacon.env \
#     --read-only --tmpfs /tmp -v beacon-data:/data -v /srv/beacon/config:/config:ro beacon beacon run
#
# /data is the working directory (and where the SQLite database goes). On SIGTERM Beacon drains in-flight
# work for up to 20 s (after closing its Socket Mode connection, which can take 10 s), so give it
# --stop-timeout 45 (Compose: stop_grace_period: 45s); Docker's default of 10 s would cut the drain short.
# SIGHUP (docker kill --signal HUP beacon) reloads beacon.yaml's roles, channels and sites without a restart.
# Admin commands run in the container: docker exec beacon beacon check
#
# The image runs with a read-only root file system: add --read-only --tmpfs /tmp to `docker run` (Compose:
# read_only: true, tmpfs: [/tmp]); /data is a volume (SQLite) or, with PostgreSQL, may be --tmpfs /data too.
# Try it without Slack: docker run --rm --read-only --tmpfs /tmp -p 127.0.0.1:8000:8000 beacon \
#   beacon sandbox --host 0.0.0.0

# Pin a digest (python:3.11-slim@sha256:...) in production so rebuilds are reproducible.
ARG PYTHON_IMAGE=python:3.11-slim

# Build stage: Beacon and its dependencies into a virtual environment at the path it will have in the image. Every
# dependency ships wheels for this platform, so no compiler is needed; pip's cache is never kept.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# A non-editable install: content/*.yaml and bot/migrations/ are package data, so the installed package carries
# them (nothing is read from the source tree at run time). README.md is needed because pyproject.toml names it as
# the package's readme; constraints.txt pins every dependency to the versions CI tested.
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY content ./content
RUN python -m venv /opt/beacon \
 && /opt/beacon/bin/pip install --no-cache-dir -c constraints.txt . \
 && /opt/beacon/bin/pip uninstall --yes pip setuptools \
 && find /opt/beacon -name '__pycache__' -type d -prune -exec rm -rf {} +

# The image: the slim base, the environment built above, and nothing else (no source tree, no pip cache).
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/beacon/bin:$PATH \
    HOME=/data

RUN groupadd --system --gid 10001 beacon \
 && useradd --system --uid 10001 --gid beacon --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin beacon \
 && install -d -o beacon -g beacon -m 0750 /data

COPY --from=build /opt/beacon /opt/beacon

WORKDIR /data
USER 10001:10001
# The only places Beacon writes: /data (the SQLite database, when used) and /tmp (the sandbox's database).
VOLUME ["/data"]

EXPOSE 3000
STOPSIGNAL SIGTERM

# GET /healthz answers 503 when the database is unreachable, the scheduler has stopped, or the oldest due
# outbox message has waited longer than delivery.unhealthy_after_minutes. Python's urllib, so no curl.
# `beacon serve` is checked on its --port (write it as `--port N`); `beacon run` on BEACON_METRICS_PORT
# if set, and otherwise (it listens on no port) the check passes without a request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; a = open('/proc/1/cmdline').read().split(chr(0)); p = (a[a.index('--port') + 1] if '--port' in a else '3000') if 'serve' in a else (os.environ.get('BEACON_METRICS_PORT') or '0'); p == '0' or r.urlopen('http://127.0.0.1:%s/healthz' % p, timeout=4)"]

# HTTP mode on all interfaces of the container; publish the port only to the reverse proxy.
# For Socket Mode (one process, outbound connections only) run `beacon run` instead:
#   docker run ... beacon beacon run
CMD ["beacon", "serve", "--host", "0.0.0.0", "--port", "3000"]
