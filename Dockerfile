# One image for the web server, the Celery worker and Celery beat (see docker-compose.yml).
#   docker build -t intermodal .
#   docker run --env-file prod.env -p 8000:8000 intermodal                            # web: migrate, then gunicorn
#   docker run --env-file prod.env intermodal celery -A intermodal worker -l info     # any other command runs as given
#
# Three stages. `assets` installs the web font with npm (its files only are copied on). `build` has the compiler and libpq's headers and installs the runtime set, requirements.txt (locked
# with hashes; psycopg2 compiled from source there), into the virtualenv /opt/venv. The final stage gets only that
# virtualenv, libpq5 and the code: no compiler, no headers, no test tool (requirements-dev.txt never enters the
# build context; tests/test_deployment.py checks all of this by reading this file).

FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libpq-dev \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

# Rebuilt only when requirements.txt changes. --require-hashes: every package, transitive ones included, must be
# the very file that was locked, and psycopg2 (an sdist) is built against libpq here.
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt


# The pages' own static assets from npm (assets/package-lock.json, nothing else of the repository): the Chinese web
# font. Only its files reach the final stage; node does not.
FROM node:20-slim AS assets
WORKDIR /assets
COPY assets/package.json assets/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# psycopg2 links against libpq at run time; the printed documents (B/L, manifests) embed WenQuanYi Zen Hei for
# Chinese names and addresses (documents/fonts.py). Nothing else comes from apt.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The processes run as this unprivileged user; the code, the virtualenv and the collected static files stay
# root-owned (read-only for the app), only /app/var and the home directory (gunicorn's control socket) are the app's.
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

COPY . .
COPY --from=assets /assets/node_modules/@fontsource-variable/noto-sans-sc /app/assets/node_modules/@fontsource-variable/noto-sans-sc

# Static files are collected into the image (STATIC_ROOT=/app/staticfiles, served by whitenoise). The settings need
# a database URL and, with DEBUG=0, a SECRET_KEY: both values here exist only for this command and are not kept in
# the image. collectstatic never connects to the database, so the URL points at nothing (port 1).
RUN DEBUG=0 \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789abcdef \
    DATABASE_URL=postgres://build@127.0.0.1:1/none \
    python manage.py collectstatic --noinput \
 && rm -rf /app/var \
 && install -d -o app -g app /app/var \
 && chmod 0755 /app/docker/entrypoint.sh

USER app

EXPOSE 8000

# `web` (the default): migrate (MIGRATE_ON_START=0 skips it), seed_demo when SEED_DEMO=1, then
# gunicorn intermodal.wsgi:application on 0.0.0.0:8000 with ${WEB_CONCURRENCY:-3} workers.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
