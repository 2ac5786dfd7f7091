"""P4: a list endpoint answers a page of 10 and a page of 100 with the same number of SQL queries, at most 10.

Every DRF list endpoint is found from the URL resolver (tests/list_endpoints.py); one without a case there fails
the first test, so a new list endpoint cannot go unmeasured.
"""

import pytest

from tests.list_endpoints import CASES, PAGE_SIZES, QUERY_LIMIT, list_endpoints, measure, world_build


def test_every_list_endpoint_has_a_query_count_case():
    found = list_endpoints()

    assert found - set(CASES) == set(), "list endpoints without a case in tests/list_endpoints.py CASES"
    assert set(CASES) - found == set(), "cases for endpoints that are not lists (any more)"


@pytest.mark.django_db
def test_list_queries_do_not_grow_with_the_page_and_stay_few():
    world = world_build()

    measured = {path: measure(world, path) for path in CASES}

    problems = {path: m.problems for path, m in measured.items() if m.problems}
    assert problems == {}, f"at page sizes {PAGE_SIZES}, limit {QUERY_LIMIT}: " + str(
        {path: (m.queries, m.problems) for path, m in measured.items() if m.problems}
    )
