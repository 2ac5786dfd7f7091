"""P4 SQL queries per list request: every DRF list endpoint at page size 10 and 100 (goal: equal, at most 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/query_counts.py

The same endpoints and data as tests/test_query_counts.py (which runs in `make test`): the list endpoints are
found from the URL resolver (tests/list_endpoints.py), the data (more than a page of everything for one
shipper) is made in the schema `bench_queries` of the bench database, and rolled back at the end. Each
endpoint is asked once to warm up, then for 10 and for 100 items, through Django's test client in this process
(the queries are counted as Django sends them). Exit status 1 when an endpoint has no case, answers other than
200 or fewer items than asked; the query goal prints PASS/FAIL without changing the exit status.
"""

import sys
import time

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

SCHEMA = "bench_queries"
NOT_POSTGRES = "The query counts are PostgreSQL's (the product's database); SQLite plans and counts differ."


class _Rollback(Exception):
    pass


def main(argv=None) -> int:
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    began = time.monotonic()
    common.ensure_database(url)
    common.django_setup(url, common.redis_url(), migrate=False)
    from django.db import transaction
    from django.test.utils import setup_test_environment

    from bench import track_lookup
    from tests.list_endpoints import CASES, PAGE_SIZES, QUERY_LIMIT, list_endpoints, measure, world_build

    setup_test_environment()  # the test client and ALLOWED_HOSTS=testserver, as in the test
    track_lookup.schema_ensure(url, SCHEMA, fresh=False)
    track_lookup.django_use_schema(SCHEMA)
    found = list_endpoints()
    uncovered = sorted(found - set(CASES))
    measured = {}
    try:
        with transaction.atomic():
            world = world_build()
            measured = {path: measure(world, path) for path in sorted(CASES) if path in found}
            raise _Rollback
    except _Rollback:
        pass
    small, large = PAGE_SIZES
    print()
    print(f"P4 SQL queries per list request (page size {small} and {large}; goal: equal, at most {QUERY_LIMIT})")
    width = max(len(path) for path in measured) + 2
    print(f"  {'endpoint':<{width}}{f'at {small}':>8}{f'at {large}':>8}  items  verdict")
    worst = 0
    failed = []
    for path, m in measured.items():
        worst = max(worst, *m.queries.values())
        verdict = "PASS" if not m.problems else "FAIL: " + "; ".join(m.problems)
        if m.problems:
            failed.append(path)
        items = f"{m.items[small]}/{m.items[large]}"
        print(f"  {path:<{width}}{m.queries[small]:>8}{m.queries[large]:>8}  {items:<6} {verdict}")
    for path in uncovered:
        print(f"  {path:<{width}}  no case in tests/list_endpoints.py: FAIL")
    passed = not failed and not uncovered
    print()
    print(
        f"  {len(measured)} list endpoints, {len(failed) + len(uncovered)} failing; the most queries of one request: "
        f"{worst} (goal <= {QUERY_LIMIT}, the same at {small} and {large}): {'PASS' if passed else 'FAIL'}"
    )
    common.result_line(
        "P4",
        figure=worst,
        goal=f"equal at {small}/{large}, <= {QUERY_LIMIT}",
        passed=passed,
        detail=f"{len(measured)} endpoints, {len(failed) + len(uncovered)} failing",
    )
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    bad_answers = [p for p, m in measured.items() if any("HTTP" in x or "items" in x for x in m.problems)]
    return 1 if uncovered or bad_answers else 0


if __name__ == "__main__":
    sys.exit(main())
