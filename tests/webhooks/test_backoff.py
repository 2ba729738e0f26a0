"""The retry schedule's rule at its edges (a pure function of the attempt and the jitter)."""

from __future__ import annotations

import random

import pytest

from registry.webhooks.backoff import BASE_SECONDS, CAP_SECONDS, FACTOR, JITTER, retry_delay


class Fixed(random.Random):
    """A "random" source that always draws the low, middle or high end of a range."""

    def __init__(self, where: float) -> None:
        super().__init__(0)
        self.where = where

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.where


@pytest.mark.parametrize("where", [0.0, 0.5, 1.0])
def test_each_wait_is_base_times_factor_to_the_attempts_within_the_jitter(where: float) -> None:
    scale = 1 - JITTER + 2 * JITTER * where
    for attempts in range(1, 8):
        expected = BASE_SECONDS * FACTOR ** (attempts - 1) * scale
        assert retry_delay(attempts, Fixed(where)).total_seconds() == pytest.approx(expected)


def test_the_wait_stops_growing_at_the_cap() -> None:
    for attempts in (10, 11, 50, 10_000):
        assert retry_delay(attempts, Fixed(0.5)).total_seconds() == pytest.approx(CAP_SECONDS)
        assert retry_delay(attempts, Fixed(1.0)).total_seconds() == pytest.approx(
            CAP_SECONDS * (1 + JITTER)
        )
    # Attempt 0 (never tried) waits as after the first attempt.
    assert retry_delay(0, Fixed(0.5)) == retry_delay(1, Fixed(0.5))


def test_a_longer_retry_after_is_honoured_up_to_the_cap() -> None:
    assert retry_delay(1, Fixed(0.5), retry_after=120).total_seconds() == 120
    assert retry_delay(1, Fixed(0.5), retry_after=1).total_seconds() == pytest.approx(5)
    assert retry_delay(1, Fixed(0.5), retry_after=10**9).total_seconds() == CAP_SECONDS
