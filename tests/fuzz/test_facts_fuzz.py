"""Hostile facts through the library: only the project's own errors, bounded messages.

Every generated document (a fixture of ``rules/no`` with one to three places made
hostile, see :mod:`tests.fuzz.hostile`) goes through ``Engine.evaluate``; every 25th
also through why-not (with a time budget) and what-if with a hostile change. An
exception that is not an :class:`~eligibility.errors.EligibilityError` is a foreign
exception and fails the test; so does an error message longer than 20 000
characters (messages are bounded however large the input).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from functools import partial
from typing import Any

import pytest

from eligibility import Engine, load_pack
from eligibility.errors import EligibilityError
from eligibility.explain.whynot import why_not
from eligibility.whatif import what_if
from tests.fuzz.conftest import SEED, size
from tests.fuzz.hostile import base_households, hostile_facts, hostile_value

AS_OF = date(2026, 7, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_pack("rules/no"))


def _run(label: str, work: Any, foreign: list[str], counts: Counter[str]) -> None:
    try:
        work()
        counts[f"{label}: accepted"] += 1
    except EligibilityError as exc:
        message = str(exc)
        if len(message) > 20_000:
            foreign.append(f"{label}: a {len(message)}-character message")
        counts[f"{label}: refused with our own error"] += 1
    except Exception as exc:  # the point of the test: anything else is a bug
        foreign.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")


def test_hostile_facts_through_the_library(engine: Engine, tally: Counter[str],
                                           canary_dirs: list[Any]) -> None:
    rng = random.Random(SEED)
    bases = base_households()
    n = size("ELIGIBILITY_FUZZ_DOCS")
    foreign: list[str] = []
    counts: Counter[str] = Counter()
    for i in range(n):
        doc = hostile_facts(rng, bases)
        lang = rng.choice(("nb", "en"))
        _run("evaluate", partial(engine.evaluate, doc, as_of=AS_OF, lang=lang), foreign,
             counts)
        if i % 25 == 0:
            _run("why-not", partial(why_not, engine, doc, AS_OF, lang, budget=0.5),
                 foreign, counts)
            base = rng.choice(bases)
            path = rng.choice(("economy.savings", "members[0].age", "members", "members[+]",
                               "housing.cost_month", "members[0]", "situation.homeless"))
            change = {path: hostile_value(rng)}
            _run("what-if", partial(what_if, engine, base, change, AS_OF, lang), foreign,
                 counts)
    tally["facts documents (library)"] += n
    for key, value in counts.items():
        tally[f"  library {key}"] += value
    tally["foreign exceptions (library)"] += len(foreign)
    assert not foreign, foreign[:10]


def test_options_are_checked(engine: Engine) -> None:
    doc = base_households()[0]
    assert engine.evaluate(doc, as_of="2026-07-01").as_of == AS_OF
    for kwargs in ({"as_of": "1. juli"}, {"as_of": 20260701}, {"lang": "de"}, {"lang": None}):
        with pytest.raises(EligibilityError):
            engine.evaluate(doc, **kwargs)
