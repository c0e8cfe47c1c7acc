"""The decision builder's memos and JSON, held to what a builder that saw nothing gives.

On households drawn from the schemas of rules/no and the anchor rule set (complete and
with facts missing, at dates across each pack's period, in every language and at both
detail levels): a builder that has seen every earlier draw — twice, so that its
identity memos and the JSON it keeps of shared parts are in play — builds Decisions
equal to a fresh builder's, with the same bytes; ``Engine.evaluate_json`` and the
builder's ``json`` are ``model_dump_json()`` byte for byte. Bounded: a few dozen draws
per pack.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.decision_build import DETAILS, DecisionBuilder, decision_bytes
from eligibility.errors import EligibilityError
from eligibility.testing.strategies import evaluation_dates, households

ROOT = Path(__file__).resolve().parents[1]
PACKS = {name: Engine(load_pack(ROOT / path)) for name, path in (
    ("no", "rules/no"), ("anchors", "bench/anchors"))}


def _scenarios(engine: Engine) -> st.SearchStrategy[tuple[dict[str, Any], date, str]]:
    pack = engine.pack
    return st.tuples(
        st.one_of(households(pack, complete=True), households(pack, complete=False)),
        evaluation_dates(pack), st.sampled_from(["nb", "nn", "en"]))


@pytest.mark.parametrize("name", sorted(PACKS))
def test_a_warm_builder_gives_a_fresh_ones_decisions_and_bytes(name: str) -> None:
    engine = PACKS[name]
    warm = DecisionBuilder(engine.compiled)

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_scenarios(engine))
    def check(scenario: tuple[dict[str, Any], date, str]) -> None:
        facts, as_of, lang = scenario
        try:
            valid = engine.validate(facts, as_of)
            outcomes = {detail: engine.outcomes(valid, as_of, observe=detail == "full",
                                                calculation=detail == "full")
                        for detail in DETAILS}
        except EligibilityError:
            return  # (refused facts: the differential tests of the core cover them)
        for detail in DETAILS:
            out = outcomes[detail]
            cold = DecisionBuilder(engine.compiled).build(out, lang, detail)
            text = cold.model_dump_json().encode()
            for _ in range(2):  # the second time by identity where the core shares
                again = warm.build(out, lang, detail)
                assert again == cold
                assert warm.json(again) == text
                assert decision_bytes(again) == text
            assert engine.evaluate_json(facts, as_of, lang, detail=detail) == (
                engine.evaluate(facts, as_of, lang, detail=detail).model_dump_json().encode())

    check()
    assert len(warm._encoder._json_ids) > 0  # the shared parts' JSON was kept and written


def test_only_shared_parts_have_their_json_kept() -> None:
    """A reason showing this household's decimal is held by its Decision alone: its JSON
    is written, not kept; a reason every such household shares is kept once."""
    engine = PACKS["anchors"]
    builder = DecisionBuilder(engine.compiled)
    facts = {"household": {
        "adults": 2, "children": 1, "members_with_disability": 0, "annual_income": 310123,
        "net_wealth": 10000, "monthly_housing_cost": 13000, "tenure": "rent",
        "is_homeless": False, "eviction_notice": False, "rooms": 3, "municipality_group": 1,
        "bank_loan_refused": False, "age_of_applicant": 40}}
    when = date(2025, 6, 1)
    first = builder.build(engine.outcomes(facts, when), "en")
    assert builder.json(first) == first.model_dump_json().encode()
    facts["household"]["annual_income"] = 310124
    second = builder.build(engine.outcomes(facts, when), "en")
    assert builder.json(second) == second.model_dump_json().encode()
    kept = builder._encoder._json_ids

    def reasons(decision: Any) -> list[Any]:
        return [r for m in decision.measures for r in m.reasons]

    lone = [r for r in reasons(second) if "310124" in r.model_dump_json()]
    shared = [r for r in reasons(second) if any(r is s for s in reasons(first))]
    assert lone and shared
    assert all(kept.get(r) is None for r in lone)
    assert any(kept.get(r) is not None for r in shared)



def test_a_parts_sources_are_written_from_their_kept_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A part only its Decision holds (a reason showing this household's decimal) writes
    its sources list — a list parts share — from the list's kept JSON; with the memo at
    two lists, every Decision still gets pydantic's bytes."""
    import eligibility.decision_build.encoding as build

    engine = PACKS["anchors"]
    when = date(2025, 6, 1)

    def facts(income: int) -> dict[str, Any]:
        return {"household": {
            "adults": 2, "children": 1, "members_with_disability": 0,
            "annual_income": income, "net_wealth": 10000, "monthly_housing_cost": 13000,
            "tenure": "rent", "is_homeless": False, "eviction_notice": False, "rooms": 3,
            "municipality_group": 1, "bank_loan_refused": False, "age_of_applicant": 40}}

    builder = DecisionBuilder(engine.compiled)
    decision = builder.build(engine.outcomes(facts(310123), when), "en")
    assert builder.json(decision) == decision.model_dump_json().encode()
    lone = [r for m in decision.measures for r in m.reasons
            if "310123" in r.model_dump_json() and r.sources]
    assert lone and all(builder._encoder._sources_json.get(r.sources) is not None for r in lone)
    monkeypatch.setattr(build, "_JSON_LIMIT", 2)
    small = DecisionBuilder(engine.compiled)
    for income in range(310000, 310040, 7):
        for lang in ("nb", "en"):
            decision = small.build(engine.outcomes(facts(income), when), lang)
            assert small.json(decision) == decision.model_dump_json().encode()
            assert len(small._encoder._sources_json) <= 2


def test_builder_json_falls_back_where_orjson_refuses() -> None:
    """An integer beyond 64 bits: the builder's JSON is pydantic-core's, as for
    ``decision_bytes``."""
    from eligibility.decision import Decision

    engine = PACKS["anchors"]
    facts = {"household": {
        "adults": 1, "children": 0, "members_with_disability": 0, "annual_income": 200000,
        "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent",
        "is_homeless": False, "eviction_notice": False, "rooms": 2, "municipality_group": 1,
        "bank_loan_refused": False, "age_of_applicant": 30}}
    data = engine.evaluate(facts, date(2025, 6, 1), "en").model_dump()
    data["criteria"][0]["value"] = 2**70
    odd = Decision.model_validate(data)
    assert engine.builder.json(odd) == odd.__pydantic_serializer__.to_json(odd)
