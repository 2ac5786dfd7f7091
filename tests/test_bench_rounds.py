"""P3 and P8 (bench/track_lookup.py, bench/dcsa_poll.py) give the median of three rounds' ratios, as every other
benchmark does: the measured look-ups split into equal rounds one after the other, each round's p50 at the year
against its p50 at the small table, and a round in which a kind was not asked fails the run instead of giving a
ratio of nothing. The look-ups are answered by a stand-in for the servers: this is about the arithmetic."""

import argparse
import math

import pytest

from bench import track_lookup as p3

SMALL, BIG = 10_000, 10_000_000


def _keys(kinds: str) -> list[p3.Key]:
    return [p3.Key(key=f"K{n}", kind={"b": "booking", "c": "container"}[kind], booking=f"B{n}", shipper_id=1,
                   api_key="k") for n, kind in enumerate(kinds)]


def _measure(samples: dict[int, list[p3.Key]], latency, *, warmup: int, rounds: int) -> dict:
    asked = iter(range(10_000))

    def ask(port, key):
        return 200, latency(port, next(asked)), b""

    return p3.measure({SMALL: 1, BIG: 2}, samples, warmup=warmup, rounds=rounds, ask=ask,
                      check=lambda status, body, key: None)


def test_the_ratio_is_the_median_of_the_rounds_and_the_warm_up_counts_in_none():
    # 2 look-ups to warm up, then 12 measured of each size: 4 a round, two of each kind.
    samples = {size: _keys("bb" + "bcbc" * 3) for size in (SMALL, BIG)}
    # The small table answers in 10 ms; the year in 12, then 30, then 15 ms a round; the warm-up in 999 ms.
    year = {0: 0.012, 1: 0.030, 2: 0.015}

    def latency(port, n):
        step = n // 2  # both servers are asked in turn
        if step < 2:
            return 0.999
        return 0.010 if port == 1 else year[(step - 2) // 4]

    series = _measure(samples, latency, warmup=2, rounds=3)

    assert series[BIG, "booking"].rounds == [0, 0, 1, 1, 2, 2]
    assert series[BIG, "container"].rounds == [0, 0, 1, 1, 2, 2]
    assert 0.999 not in series[SMALL, "booking"].latencies + series[BIG, "booking"].latencies
    ratio, each = p3.rounds_ratio(series[SMALL, "booking"], series[BIG, "booking"], 3)
    assert each == pytest.approx([1.2, 3.0, 1.5])
    assert ratio == pytest.approx(1.5)
    assert series[BIG, "booking"].percentile(50, 1) == pytest.approx(30.0)  # a round's own p50
    assert p3.answers_checked(series, {SMALL: None, BIG: None}, "the key's timeline", 3) == []


def test_a_round_without_a_kind_fails_the_run_rather_than_giving_a_ratio_of_nothing():
    # The last round asks no container at the year.
    samples = {SMALL: _keys("bcbcbc"), BIG: _keys("bcbcbb")}
    series = _measure(samples, lambda port, n: 0.010, warmup=0, rounds=3)

    ratio, each = p3.rounds_ratio(series[SMALL, "container"], series[BIG, "container"], 3)
    assert math.isnan(ratio) and each[:2] == [1.0, 1.0]  # no figure
    problems = p3.answers_checked(series, {SMALL: None, BIG: None}, "the key's timeline", 3)
    assert problems == [f"{BIG:,} events, container: every answer 200 with the key's timeline (1 not)"]


def test_too_few_keys_for_the_rounds_are_refused_before_anything_runs():
    parser = argparse.ArgumentParser()
    with pytest.raises(SystemExit):
        p3.rounds_checked(parser, argparse.Namespace(keys=40, warmup=20, rounds=3))
    with pytest.raises(SystemExit):
        p3.rounds_checked(parser, argparse.Namespace(keys=1000, warmup=20, rounds=0))
    p3.rounds_checked(parser, argparse.Namespace(keys=1000, warmup=20, rounds=3))


def test_a_smaller_table_with_fewer_keys_sets_how_many_are_asked_at_both_sizes_every_round_a_pair():
    # A small table gives fewer keys than asked for (scale 0.1): the year's extra keys are not asked, so that
    # the last round is measured at both sizes under the same load.
    samples = {SMALL: _keys("bc" * 6), BIG: _keys("bc" * 20)}
    series = _measure(samples, lambda port, n: 0.010, warmup=0, rounds=3)

    assert p3.measured(samples, 0) == 12
    for kind in ("booking", "container"):
        assert series[SMALL, kind].rounds == series[BIG, kind].rounds == [0, 0, 1, 1, 2, 2]
    assert p3.answers_checked(series, {SMALL: None, BIG: None}, "the key's timeline", 3) == []
