"""Small rete-backend checks run as a child process (a durable_rules crash ends it, not pytest).

``python tests/compile/rete_probe.py cleanup N``: N evaluations of the mini pack on the
fixed session leave no live session and no state behind (more than durable's ~1 024
live-session limit, so a leak would fail). ``python tests/compile/rete_probe.py fixtures``:
every ``fixtures/*.yaml`` household gets the same statuses and amounts from both backends.
``python tests/compile/rete_probe.py threads``: four threads share one rete Engine (the
host lock serialises them) and every decision equals the reference's.
It also opens live sessions up to the cap and checks the next one is refused.
Prints ``ok …`` and exits 0, or prints the problem and exits 1.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from eligibility.compile.rete.host import host
from eligibility.engine import Engine
from eligibility.pack.loader import load_pack
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[2]


def cleanup(n: int) -> int:
    pack = load_pack(ROOT / "tests" / "packs" / "mini")
    engine = Engine(pack, backend="rete")
    facts = {"household": {"kommunegruppe": 4, "registered": True},
             "members": [{"age": 40, "income_month": 10000, "disability": False}],
             "housing": {"tenure": "leie", "cost_month": 6000},
             "economy": {"bank_loan_refused": False, "years_problem": 0, "savings_used": False},
             "situation": {"homeless": False, "forced_sale": False}}
    for i in range(n):
        facts["members"][0]["income_month"] = 1000 * (i % 40)
        engine.evaluate(facts, as_of=date(2023, 6, 1))
    rete = host()
    if rete._sessions:
        print(f"live sessions left: {sorted(rete._sessions)}")
        return 1
    ruleset = engine._rete.ruleset
    try:
        left = rete.get_facts(ruleset, "eval")
    except Exception:  # durable raises (error 309) for a session that does not exist
        left = []
    if left:
        print(f"facts left in the session: {left[:3]}")
        return 1
    # live sessions are capped below durable's limit, with a clear error
    from eligibility.compile.rete.backend import ReteBackend
    from eligibility.compile.rete.host import MAX_LIVE_SESSIONS, TooManySessions

    backend = ReteBackend(engine.compiled)
    valid = engine.validate(facts)
    sessions = [backend.open(valid, date(2023, 6, 1)) for _ in range(MAX_LIVE_SESSIONS)]
    try:
        backend.open(valid, date(2023, 6, 1))
        print("the live-session cap did not hold")
        return 1
    except TooManySessions:
        pass
    finally:
        for s in sessions:
            s.close()
    if rete._sessions:
        print("live sessions left after closing")
        return 1
    print(f"ok {n} evaluations, no session left; cap of {MAX_LIVE_SESSIONS} live sessions held")
    return 0


def fixtures() -> int:
    pack = load_pack(ROOT / "rules" / "no")
    ref, rete = Engine(pack), Engine(pack, backend="rete")
    when = date(2026, 1, 15)
    files = sorted((ROOT / "fixtures").glob("*.yaml"))
    for path in files:
        facts = plain(load_yaml_text(path.read_text(encoding="utf-8"), str(path)))
        a = {m.id: (m.status, m.amount) for m in ref.evaluate(facts, when).measures}
        b = {m.id: (m.status, m.amount) for m in rete.evaluate(facts, when).measures}
        if a != b:
            print(f"{path.name}: reference {a} != rete {b}")
            return 1
    print(f"ok {len(files)} fixtures")
    return 0


def threads() -> int:
    from concurrent.futures import ThreadPoolExecutor

    pack = load_pack(ROOT / "tests" / "packs" / "mini")
    ref, rete = Engine(pack), Engine(pack, backend="rete")
    when = date(2023, 6, 1)
    households = []
    for i in range(400):
        households.append({
            "household": {"kommunegruppe": 1 + i % 4, "registered": i % 7 != 0},
            "members": [{"age": 18 + i % 60, "income_month": 500 * (i % 50),
                         "disability": i % 11 == 0}] + [{"age": i % 17}] * (i % 3),
            "housing": {"tenure": ("leie", "eie", "ingen")[i % 3], "cost_month": 100 * (i % 90)},
            "economy": {"bank_loan_refused": i % 2 == 0, "years_problem": i % 9,
                        "savings_used": i % 5 == 0},
            "situation": {"homeless": i % 13 == 0, "forced_sale": i % 17 == 0},
        })
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda f: rete.evaluate(f, when).to_json(), households))
    for facts, decision in zip(households, got, strict=True):
        if decision != ref.evaluate(facts, when).to_json():
            print(f"differs from the reference under threads: {facts}")
            return 1
    print(f"ok {len(households)} households from 4 threads")
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    sys.exit(cleanup(int(sys.argv[2])) if mode == "cleanup"
             else threads() if mode == "threads" else fixtures())
