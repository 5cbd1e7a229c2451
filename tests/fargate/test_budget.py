"""The API budget's token bucket: however callers arrive, calls go out no faster than the rate (plus one burst)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_bridge.hooks.budget import ApiRates, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    rate=st.floats(0.1, 50),
    arrivals=st.lists(st.floats(0, 5), min_size=1, max_size=200),
    penalties=st.lists(st.tuples(st.integers(0, 199), st.floats(0, 10)), max_size=5),
)
def test_calls_never_go_out_faster_than_the_rate(rate: float, arrivals: list[float], penalties: list[tuple[int, float]]) -> None:
    """Callers ask at arbitrary moments (gaps between asks in ``arrivals``); each call goes out when
    reserve() says. In any window of T seconds at most burst + rate * T calls go out."""
    clock = Clock()
    bucket = TokenBucket(rate, clock=clock)
    penalty_at = dict(penalties)
    sent = []
    for i, gap in enumerate(arrivals):
        clock.now += gap
        if i in penalty_at:
            bucket.penalize(penalty_at[i])
        sent.append(clock.now + bucket.reserve())
    sent.sort()
    for i in range(len(sent)):
        for j in range(i, len(sent)):
            window = sent[j] - sent[i]
            assert j - i + 1 <= bucket.burst + rate * window + 1e-6


def test_a_throttled_call_pushes_every_later_call_back() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, clock=clock)
    assert bucket.reserve() == 0  # the burst
    bucket.penalize(5.0)
    assert bucket.reserve() == pytest.approx(5.5)


def test_each_triggerer_takes_its_share_and_the_smallest_budget_wins() -> None:
    assert ApiRates.share_of(1.0, 10.0, 4) == ApiRates(0.25, 2.5)
    bucket = TokenBucket(5.0)
    bucket.set_rate(1.0)
    bucket.set_rate(3.0)
    assert bucket.rate == 1.0
    with pytest.raises(ValueError, match="rate must be above 0"):
        TokenBucket(0)
