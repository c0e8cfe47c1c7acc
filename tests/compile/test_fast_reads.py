"""What the fast path's analysis says an expression reads on every path (``strict_of``).

A part whose every-path reads lack a fact (for a member field: on some member) is not
tried on the fast closures; these cases pin what counts as read on every path: the
first operand of ``and``/``or``, both branches of an ``if``, and in a ``count`` or
``sum`` the member fields of its condition (of its value where it has none), which are
read on every member; not ``any``/``all`` (they may stop before that member).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eligibility import Engine, load_pack
from eligibility.compile.fast.reads import strict_of
from eligibility.expr.parser import parse

ROOT = Path(__file__).resolve().parents[2]
ENGINE = Engine(load_pack(ROOT / "rules" / "no"))


def _strict(text: str) -> tuple[set[str], bool, set[str]]:
    facts, members, fields = strict_of(ENGINE.compiled, {}, parse(text), {})
    return set(facts), members, set(fields)


@pytest.mark.parametrize(("text", "expected"), [
    ("household.lawful_residence", ({"household.lawful_residence"}, False, set())),
    ("household.lawful_residence and housing.year_round",
     ({"household.lawful_residence"}, False, set())),
    ("if housing.year_round then household.years_in_municipality else "
     "household.years_in_municipality + 1",
     ({"housing.year_round", "household.years_in_municipality"}, False, set())),
    ("sum(members, income_month) > 0", (set(), True, {"income_month"})),
    ("sum(members, income_month, age >= 18) > 0", (set(), True, {"age"})),
    ("count(members, age >= 18 and student) > 0", (set(), True, {"age"})),
    ("count(members) > 1", (set(), True, set())),
    ("any(members, age >= 18)", (set(), True, set())),
    ("all(members, age >= 18)", (set(), True, set())),
])
def test_what_is_read_on_every_path(text: str, expected: tuple[set[str], bool, set[str]],
                                    ) -> None:
    assert _strict(text) == expected
