"""bench/booking_contention.py (P2) meets the mix: its rows take exports and imports as the API does, its attempts
interleave the two in the year's share, and its checks hold for both directions - and fail when an import's
container is not linked to its booking. A small round through the test client, in order (the benchmark itself
fires them from threads at gunicorn); no server, so it stays fast."""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from bench import booking_contention as p2
from inbound.models import ArrivingContainer

SHARE = 1 / 3


def test_the_mix_splits_attempts_and_contended_capacity_alike():
    assert p2.split(200, SHARE) == {p2.EXPORT: 133, p2.IMPORT: 67}
    assert p2.capacity_split(50, p2.split(200, SHARE), SHARE) == {p2.EXPORT: 33, p2.IMPORT: 17}
    # A direction with attempts keeps a slot; one without takes none.
    assert p2.capacity_split(50, p2.split(200, 0.004), 0.004) == {p2.EXPORT: 49, p2.IMPORT: 1}
    assert p2.capacity_split(50, p2.split(200, 0), 0) == {p2.EXPORT: 50, p2.IMPORT: 0}
    assert p2.capacity_split(50, p2.split(200, 1), 1) == {p2.EXPORT: 0, p2.IMPORT: 50}
    order = p2.interleave(9, 3)
    assert order.count(p2.IMPORT) == 3 and order == [p2.EXPORT, p2.EXPORT, p2.IMPORT] * 3


def _round(network, kind):
    """The round's attempts answered one after another by the test client, tallied as the benchmark does."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {network.api_key}")
    attempts = p2.attempts_of(network, kind)
    results = []
    for n, attempt in enumerate(attempts):
        response = client.post(p2.PATHS[attempt.direction], data=p2.booking_body(network, attempt),
                               content_type="application/json")
        results.append((response.status_code, 0.01, 0.01 * (n + 1), response.content))
    return p2.tally(kind, threads=1, elapsed=0.01 * len(attempts), attempts=attempts, results=results)


def _report(network, contended, uncontended, tmp_path: Path):
    ledgers = {(kind, d): p2.ledger(network.departures[kind][d], d)
               for kind in ("contended", "uncontended") for d in network.directions()}
    found = {"contended": p2.arrivals(network, contended), "uncontended": p2.arrivals(network, uncontended)}
    return p2.report(network=network, contended=contended, uncontended=uncontended, ledgers=ledgers, found=found,
                     log_path=tmp_path / "gunicorn.log", setup={})


@pytest.mark.django_db
def test_a_small_round_books_both_directions_and_its_checks_hold(tmp_path, capsys):
    counts = {"warmup": p2.split(0, SHARE), "contended": p2.split(9, SHARE), "uncontended": p2.split(9, SHARE)}
    capacity = p2.capacity_split(6, counts["contended"], SHARE)
    assert capacity == {p2.EXPORT: 4, p2.IMPORT: 2}
    network = p2.network_create("t0contend", counts=counts, capacity=capacity)
    assert len(network.numbers["contended"]) == len(network.numbers["uncontended"]) == 3

    contended, uncontended = _round(network, "contended"), _round(network, "uncontended")

    exports, imports = contended.part(p2.EXPORT), contended.part(p2.IMPORT)
    assert (exports.attempts, exports.confirmed, exports.refused) == (6, 4, 2)
    assert (imports.attempts, imports.confirmed, imports.refused) == (3, 2, 1)
    assert contended.refusal_codes == {p2.REFUSAL: 3}
    assert uncontended.confirmed == 9 and uncontended.part(p2.IMPORT).confirmed == 3
    assert _report(network, contended, uncontended, tmp_path) == []
    printed = capsys.readouterr().out
    assert "Ledger of the contended import departure" in printed
    assert "contended: every refused import's container left unbooked (1/1)" in printed
    assert "RESULT: ok" in printed

    # An import confirmed whose container is not linked to its booking fails the run.
    ArrivingContainer.objects.filter(number=network.numbers["uncontended"][0]).update(booking=None)
    problems = _report(network, contended, uncontended, tmp_path)
    assert problems == ["uncontended: every confirmed import's container linked to its booking, which carries it "
                        "(2/3)"]
