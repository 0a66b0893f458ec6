"""The rounding rule, checked against decimal arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fairshare.rules.expr import FUNCTIONS
from fairshare.rules.money import to_cents


def decimal_cents(x: float) -> int:
    c = int((Decimal(repr(abs(x))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return c if x >= 0 else -c


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_to_cents_is_half_up_on_the_printed_decimal(x: float) -> None:
    assert int(to_cents(np.array([x]))[0]) == decimal_cents(x)


@given(st.integers(min_value=-(10**14), max_value=10**14), st.sampled_from([3, 4]))
def test_decimal_halves_round_away_from_zero(n: int, places: int) -> None:
    x = float(Decimal(n).scaleb(-places))  # many of these are exact half cents in decimal
    assert int(to_cents(np.array([x]))[0]) == decimal_cents(x)


def test_known_values() -> None:
    xs = np.array([1.005, -1.005, 2.675, 0.285, 305908386.85499996, 0.0, -0.0, 1e9 + 0.015])
    assert to_cents(xs).tolist() == [101, -101, 268, 29, 30590838685, 0, 0, 100000000002]
    assert to_cents(1.005).item() == 101  # scalars too


def test_expression_round_follows_the_same_rule() -> None:
    rnd = FUNCTIONS["round"].fn
    assert rnd(np.array([1.005, -2.675, 2.5, 0.285]), 2).tolist() == [1.01, -2.68, 2.5, 0.29]
    assert rnd(np.array([2.5, -2.5, 0.49999999999999994]), 0).tolist() == [3.0, -3.0, 0.0]
