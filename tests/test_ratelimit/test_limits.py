"""Limit specs and the arithmetic of each algorithm (pure functions, no backend)."""

from __future__ import annotations

import pytest

from plait.exceptions import ConfigurationError
from plait.ratelimit import Decision, Limit
from plait.ratelimit.limits import bucket_decision, fixed_decision, refill, sliding_allows, sliding_decision, window


@pytest.mark.parametrize(
    ("spec", "amount", "period"),
    [
        ("10/minute", 10, 60.0),
        ("5/second", 5, 1.0),
        ("5/s", 5, 1.0),
        ("1000/day", 1000, 86400.0),
        ("100 per 5 minutes", 100, 300.0),
        ("20/30s", 20, 30.0),
        ("3/2.5 hours", 3, 9000.0),
        (" 7 / HOUR ", 7, 3600.0),
    ],
)
def test_limits_parse(spec: str, amount: int, period: float) -> None:
    assert Limit.parse(spec) == Limit(amount, period)


@pytest.mark.parametrize("spec", ["ten/minute", "10/fortnight", "10", "0/minute", "10/0s"])
def test_bad_limits_say_how_to_write_them(spec: str) -> None:
    with pytest.raises(ConfigurationError, match=r"(10/minute|at least 1 request)"):
        Limit.parse(spec)


def test_parse_passes_a_limit_through_and_policies_print_seconds() -> None:
    limit = Limit(3, 1.5)
    assert Limit.parse(limit) is limit
    assert limit.policy == "3;w=1.5"
    assert Limit(10, 60.0).policy == "10;w=60"


def test_windows_are_aligned_on_the_clock() -> None:
    assert window(Limit(1, 60.0), 125.0) == (2, 55.0)


def test_fixed_window_decisions() -> None:
    limit = Limit(2, 10.0)
    assert fixed_decision(limit, 3.0, 2) == Decision(True, limit, 0, 7.0, 0.0)
    assert fixed_decision(limit, 3.0, 3) == Decision(False, limit, 0, 7.0, 7.0)


def test_sliding_window_weighs_the_previous_window() -> None:
    limit = Limit(10, 10.0)
    # 2.5 s into the window, 75% of the previous one still counts: 8 * 0.75 + 1 = 7 of 10.
    assert sliding_allows(limit, 12.5, current=1, previous=8)
    decision = sliding_decision(limit, 12.5, True, 2, 8)
    assert (decision.remaining, decision.reset_after) == (2, 7.5)
    assert not sliding_allows(limit, 12.5, current=4, previous=8)


def test_sliding_window_retry_after_is_exact() -> None:
    limit = Limit(10, 10.0)
    # Denied with room in this window: wait until enough of the previous window has slid out.
    denied = sliding_decision(limit, 12.5, False, 4, 8)
    assert denied.retry_after == pytest.approx(7.5 - 10 * 5 / 8)
    assert sliding_allows(limit, 12.5 + denied.retry_after + 1e-9, 4, 8)
    # The current window alone is full: not before the next one, and then only once it has slid enough.
    full = sliding_decision(limit, 12.5, False, 10, 0)
    assert full.retry_after == pytest.approx(7.5 + 10 - 10 * 9 / 10)
    assert sliding_allows(limit, 12.5 + full.retry_after + 1e-9, 0, 10)


def test_token_bucket_decisions() -> None:
    limit = Limit(4, 8.0)  # one token every 2 s
    assert refill(limit, 0.0, 10.0, 13.0) == 1.5
    assert refill(limit, 3.0, 0.0, 100.0) == 4.0
    assert refill(limit, 2.0, 10.0, 9.0) == 2.0  # a clock going backwards adds nothing
    assert bucket_decision(limit, True, 2.5) == Decision(True, limit, 2, 3.0, 0.0)
    assert bucket_decision(limit, False, 0.5) == Decision(False, limit, 0, 7.0, 1.0)
