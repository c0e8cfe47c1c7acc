"""Generated numbers the tests of number formatting share: decimals of both signs, zero,
many digits, large and small exponents, money-like values and more than four decimals;
and :func:`outcome`, a call's value or the decimal error it raises."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import strategies as st


def outcome(fn: Any) -> tuple[str, Any]:
    """``("ok", fn())``, or ``("error", the exception's name)`` for a decimal error."""
    try:
        return "ok", fn()
    except InvalidOperation as exc:  # a rounding beyond the context's precision
        return "error", type(exc).__name__


decimals = st.one_of(
    st.builds(lambda sign, digits, exp: Decimal((sign, tuple(digits), exp)),
              st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=34),
              st.integers(-40, 12)),
    st.integers(0, 8).flatmap(lambda places: st.decimals(
        min_value=-(10**9), max_value=10**9, places=places)),  # money-like: up to 8 places
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0.00"), Decimal("-0.000"),
                     Decimal("0E+3"), Decimal("1E+3"), Decimal("-1E+30"), Decimal("999.99995"),
                     Decimal("-999.99995"), Decimal("0.00005"), Decimal("-0.00004"),
                     Decimal("1E-40"), Decimal("12345678901234567890123456.5"),
                     Decimal(11792) / 12, Decimal("216000.00"), Decimal("-39487.6472")]),
)
