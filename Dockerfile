# One image for the web server, the Celery worker and Celery beat (see docker-compose.yml).
#   docker build -t intermodal .
#   docker run --env-file prod.env -p 8000:8000 intermodal                            # web: migrate, then gunicorn
#   docker run --env-file prod.env intermodal celery -A intermodal worker -l info     # any other command runs as given
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The processes run as this unprivileged user; the code and the collected static files stay root-owned
# (read-only for the app), only /app/var and the home directory (gunicorn's control socket) are the app's.
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected into the image (STATIC_ROOT=/app/staticfiles, served by whitenoise). The
# settings need a database URL and, with DEBUG=0, a SECRET_KEY: both values here exist only for this
# command and are not kept in the image.
RUN DEBUG=0 \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789abcdef \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && rm -rf /app/var /tmp/build.sqlite3 \
 && install -d -o app -g app /app/var \
 && chmod 0755 /app/docker/entrypoint.sh

USER app

EXPOSE 8000

# `web` (the default): migrate (MIGRATE_ON_START=0 skips it), seed_demo when SEED_DEMO=1, then
# gunicorn intermodal.wsgi:application on 0.0.0.0:8000 with ${WEB_CONCURRENCY:-3} workers.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
