"""Junk files through the CLI's own entry point: exit 0/1/2 with a message, never a
traceback, never the catch-all's "failed unexpectedly".

Each junk file (:func:`tests.fuzz.hostile.junk_texts`: NUL and control characters,
5 000-deep JSON and YAML, 5 000-digit numbers, bad timestamps, YAML bombs, python
tags, rich markup, broken UTF-8, 3 MB files, random byte flips) goes to one of the
commands that read a facts file, with hostile options now and then; FIFOs and
directories stand in for files as well.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eligibility.cli import main
from tests.fuzz.conftest import SEED, size
from tests.fuzz.hostile import ROOT, junk_texts

PACK = str(ROOT / "rules" / "no")
FIXTURE = str(ROOT / "fixtures" / "familie-utkastelse.yaml")
BAD_OPTIONS = ["--as-of", "2026-02-30", "--as-of", "9" * 5000, "--lang", "[bold]x",
               "--set", "economy.savings=9e999999", "--set", "members=10000000",
               "--set", "members[+]={age: &a [*a]}", "--set", "economy.savings=\x00",
               "--set", "members[+]={a: " + "[" * 3000 + "}"]


def _command(rng: random.Random, file: str) -> list[str]:
    choice = rng.randrange(6)
    common = ["--pack", PACK]
    if choice == 0:
        return ["evaluate", file, *common, "--as-of", "2026-07-01"]
    if choice == 1:
        return ["evaluate", file, *common, "--json", "--lang", "en"]
    if choice == 2:
        return ["why-not", file, *common, "--as-of", "2026-07-01"]
    if choice == 3:
        return ["what-if", file, *common, "--set", "economy.savings=0"]
    if choice == 4:
        i = rng.randrange(0, len(BAD_OPTIONS) - 1, 2)
        return ["what-if", FIXTURE, *common, BAD_OPTIONS[i], BAD_OPTIONS[i + 1]]
    return ["evaluate", file, *common]


def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out = capsys.readouterr()
    return code, out.out + out.err


def test_junk_files_never_give_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           tally: Counter[str],
                                           canary_dirs: list[Any]) -> None:
    rng = random.Random(SEED)
    n = size("ELIGIBILITY_FUZZ_FILES")
    bad: list[str] = []
    codes: Counter[int] = Counter()
    specials = []
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    specials.append(str(folder))
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.yaml"
        os.mkfifo(fifo)
        specials.append(str(fifo))
    specials.append(str(tmp_path / "missing.yaml"))
    for i in range(n):
        if i < len(specials):
            file = specials[i]
        else:
            suffix, data = junk_texts(rng)
            path = tmp_path / f"junk{i}{suffix}"
            path.write_bytes(data)
            file = str(path)
        argv = _command(rng, file)
        code, text = _invoke(argv, capsys)
        codes[code] += 1
        if "Traceback" in text or "failed unexpectedly" in text or code not in (0, 1, 2):
            bad.append(f"{argv[:2]} exit {code}: {text[-300:]}")
    tally["junk files (CLI)"] += n
    for code, count in sorted(codes.items()):
        tally[f"  CLI exit {code}"] += count
    tally["CLI tracebacks or foreign errors"] += len(bad)
    assert not bad, bad[:5]
