#!/usr/bin/env bash
# Entrypoint of the intermodal image (web, worker and beat share it).
#
#   web [gunicorn options...]   the default: apply migrations (unless MIGRATE_ON_START=0), load the demo data
#                               when SEED_DEMO=1, then replace this shell with gunicorn on 0.0.0.0:${PORT:-8000}
#                               with ${WEB_CONCURRENCY:-3} workers; extra arguments go to gunicorn
#   anything else               executed as given, e.g. `celery -A intermodal worker -l info`,
#                               `python manage.py createsuperuser`
set -euo pipefail

is_true() {
  case "${1,,}" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

if [[ $# -eq 0 || "$1" == "web" ]]; then
  if [[ $# -gt 0 ]]; then
    shift
  fi
  if is_true "${MIGRATE_ON_START:-1}"; then
    python manage.py migrate --noinput
  fi
  if is_true "${SEED_DEMO:-0}"; then
    python manage.py seed_demo
  fi
  exec gunicorn intermodal.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-3}" \
    --limit-request-line 8190 \
    --access-logfile - \
    "$@"
fi

exec "$@"
