"""The fuzz suite's counters and sizes.

Each fuzz test adds what it tried and what went wrong to one session-wide tally
(kept in the pytest config's stash, not in module state); the terminal summary
prints it, so every run shows its counts (documents, junk files, requests,
mutations, foreign exceptions, 5xx, tracebacks, canaries). The sizes are
environment variables with CI defaults that keep the suite within its budget;
set them higher for the full run (README, "Reliability"):

    ELIGIBILITY_FUZZ_DOCS=52000 ELIGIBILITY_FUZZ_FILES=320 \\
    ELIGIBILITY_FUZZ_REQUESTS=6000 ELIGIBILITY_FUZZ_MUTATIONS=1040 \\
    ELIGIBILITY_FUZZ_SCHEMATHESIS=100 \\
    .venv/bin/python -m pytest tests/fuzz
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.hostile import CANARY_NAME

TALLY = pytest.StashKey[Counter[str]]()

#: CI defaults (env var → default)
SIZES = {
    "ELIGIBILITY_FUZZ_DOCS": 6000,
    "ELIGIBILITY_FUZZ_FILES": 320,
    "ELIGIBILITY_FUZZ_REQUESTS": 1500,
    "ELIGIBILITY_FUZZ_MUTATIONS": 600,
}
SEED = int(os.environ.get("ELIGIBILITY_FUZZ_SEED", "11"))


def size(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else SIZES[name]


@pytest.fixture(scope="session")
def tally(request: pytest.FixtureRequest) -> Counter[str]:
    config = request.config
    if TALLY not in config.stash:
        config.stash[TALLY] = Counter()
    return config.stash[TALLY]


@pytest.fixture
def canary_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Run in a fresh working directory; afterwards no canary may exist there or in the
    repository (where a relative path in an escaped expression would land)."""
    monkeypatch.chdir(tmp_path)
    places = [tmp_path, Path(__file__).resolve().parents[2]]
    yield places
    for place in places:
        assert not (place / CANARY_NAME).exists(), f"the canary appeared in {place}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = terminalreporter.config.stash.get(TALLY, None)
    if not counts:
        return
    terminalreporter.section("fuzz counts (issue 11)")
    for key in sorted(counts):
        terminalreporter.write_line(f"{key:<40} {counts[key]:>8}")
