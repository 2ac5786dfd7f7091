#!/usr/bin/env bash
# API fuzzing: Schemathesis with all its checks against a live server (gunicorn, production settings) that
# holds the demo network, for FUZZ_SECONDS (default 600) as each party kind that uses the API in turn: a
# shipper, a station, the railway, the port, customs and border inspection, each with a key of its own (an hour
# in all), then DCSA's Commercial Schedules and Booking files against their interfaces (DCSA_SECONDS each, as a
# shipper). Prints Schemathesis' summary per run and a line per run at the end; exits non-zero on any failure.
# The database FUZZ_DATABASE_URL is dropped and rebuilt once per run (never point it at real data); each party's
# run finds what the runs before it wrote.
#
#   bash bench/fuzz.sh                                         # 10 minutes per party, seed 8
#   FUZZ_SECONDS=60 FUZZ_SEED=1 FUZZ_ORGS=demo-port bash bench/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${FUZZ_PORT:-8800}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_SEED=${FUZZ_SEED:-8}
# One fuzzing thread: with two, Hypothesis' lambda descriptions call ast.parse from both, and CPython 3.11's parser
# is not thread-safe there ("AST constructor recursion depth mismatch", an error inside the fuzzer, no request).
FUZZ_WORKERS=${FUZZ_WORKERS:-1}
# The callers, one demo organisation per party kind (tests/security/test_fuzz.py's PARTIES).
FUZZ_ORGS=${FUZZ_ORGS:-demo-shipper-a demo-yiwu-station demo-railway demo-port demo-customs demo-ciq}
REPORT_DIR=${FUZZ_REPORT_DIR:-var/fuzz}
BIN=.venv/bin

export DATABASE_URL=${FUZZ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/intermodal_fuzz}
export DEBUG=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1,localhost LOG_LEVEL=ERROR
export SECRET_KEY=${SECRET_KEY:-fuzz-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz}
# The fuzzer is one caller sending thousands of requests: lift the rate limits so it tests the API, not them.
export THROTTLE_RATE_KEY=1000000/min THROTTLE_RATE_USER=1000000/min THROTTLE_RATE_ANON=1000000/min
# Production allows no private webhook receivers: whatever the caller's shell allows, the fuzzed server does not.
unset WEBHOOK_ALLOWED_NETWORKS

"$BIN/python" - <<'PY'
import os
from urllib.parse import urlparse

import psycopg2

url = urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
                         dbname="postgres")
admin.autocommit = True
with admin.cursor() as cursor:
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cursor.execute(f'CREATE DATABASE "{name}"')
PY
"$BIN/python" manage.py migrate --noinput -v0
"$BIN/python" manage.py seed_demo >/dev/null
"$BIN/python" manage.py collectstatic --noinput -v0
# Objects the path parameters name (bench/schemathesis.toml reads them from the environment).
set -a
eval "$("$BIN/python" bench/fuzz_data.py)"
set +a

"$BIN/gunicorn" intermodal.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --log-level warning \
  --limit-request-line 8190 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 1
done

VERSION=$("$BIN/st" --version | awk '{print $NF}')
declare -A RESULT
FAILED=0
for ORG in $FUZZ_ORGS; do
  KEY=$("$BIN/python" manage.py create_api_key --org "$ORG" --name "fuzz $(date -u +%s)" 2>/dev/null)
  mkdir -p "$REPORT_DIR/$ORG"
  echo "Schemathesis $VERSION: all checks, ${FUZZ_SECONDS}s, seed $FUZZ_SEED, as $ORG ($(date -u '+%F %T') UTC)"
  if "$BIN/st" --config-file bench/schemathesis.toml run "http://127.0.0.1:$PORT/api/schema/" \
      --checks all \
      --header "Authorization: Bearer $KEY" \
      --max-time "$FUZZ_SECONDS" \
      --seed "$FUZZ_SEED" \
      --workers "$FUZZ_WORKERS" \
      --request-timeout 30 \
      --report junit,ndjson --report-dir "$REPORT_DIR/$ORG" \
      "$@"; then
    RESULT[$ORG]=passed
  else
    RESULT[$ORG]=FAILED
    FAILED=1
  fi
done
# DCSA's own files against their interfaces, as a shipper (a booking request is a shipper's): Commercial Schedules
# and Booking (its consumer's /v2/booking-notifications excluded: we send there, we do not serve it). DCSA's files
# document no 401/404/409/422 for every operation and cannot say which places exist, so the checks are those of
# the suite's run (tests/security/test_fuzz.py): no server error, documented statuses, content types, headers and
# bodies; a 414 (a URL longer than gunicorn's request line) is the web server's, before any view (bench/dcsa_checks.py).
# DCSA_FILES="" leaves this phase out.
DCSA_FILES=${DCSA_FILES-"CS_v1.0.3.yaml:/api/dcsa/cs BKG_v2.0.5.yaml:/api/dcsa/bkg"}
declare -A DCSA_SKIP=([BKG_v2.0.5.yaml]="--exclude-path /v2/booking-notifications")
DCSA_SECONDS=${DCSA_SECONDS:-$FUZZ_SECONDS}
if [ -n "${DCSA_FILES}" ]; then
  KEY=$("$BIN/python" manage.py create_api_key --org demo-shipper-a --name "fuzz dcsa $(date -u +%s)" 2>/dev/null)
  for ENTRY in $DCSA_FILES; do
    FILE=${ENTRY%%:*}
    BASE=${ENTRY#*:}
    mkdir -p "$REPORT_DIR/dcsa-$FILE"
    echo "Schemathesis $VERSION: DCSA's $FILE at $BASE, ${DCSA_SECONDS}s, seed $FUZZ_SEED ($(date -u '+%F %T') UTC)"
    if SCHEMATHESIS_HOOKS=bench.dcsa_checks "$BIN/st" run "tests/fixtures/standards/dcsa/$FILE" \
        --url "http://127.0.0.1:$PORT$BASE" \
        --checks not_a_server_error,status_code_conformance_within_the_url_limit,content_type_conformance,response_headers_conformance,response_schema_conformance \
        ${DCSA_SKIP[$FILE]:-} \
        --header "Authorization: Bearer $KEY" \
        --max-time "$DCSA_SECONDS" --seed "$FUZZ_SEED" --workers "$FUZZ_WORKERS" --request-timeout 30 \
        --report junit,ndjson --report-dir "$REPORT_DIR/dcsa-$FILE"; then
      RESULT[dcsa-$FILE]=passed
    else
      RESULT[dcsa-$FILE]=FAILED
      FAILED=1
    fi
  done
fi
echo "Summary (seed $FUZZ_SEED, ${FUZZ_SECONDS}s each):"
for NAME in "${!RESULT[@]}"; do
  echo "  $NAME: ${RESULT[$NAME]}"
done
exit $FAILED
