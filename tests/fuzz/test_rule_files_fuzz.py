"""Hostile rule files through ``check``: only PackError, every diagnostic at file:line.

Three parts: (1) seeded mutations of the mini pack's and the bundled pack's files
(:func:`tests.fuzz.hostile.mutate_rule_file`: deep and long expressions, non-ASCII
digits, control characters, 5 000-digit numbers, bad timestamps, YAML bombs, python
tags, broken indentation) loaded the way ``eligibility check`` loads them, and
every 20th through the command itself; (2) the sandbox corpus — expressions that
would run code if text ever reached Python — each refused; (3) file attacks —
symlinks out of the pack, FIFOs, devices, a folder named ``x.yaml``, empty and
comment-only files. A canary file that any escape would create must never appear.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from eligibility import Engine, load_pack
from eligibility.cli import main
from eligibility.errors import Diagnostic, EligibilityError, PackError
from eligibility.testing.cases import run_cases
from eligibility.testing.invariants import load_invariants
from tests.conftest import MINI
from tests.fuzz.conftest import SEED, size
from tests.fuzz.hostile import CANARY_NAME, ROOT, SANDBOX, mutate_rule_file

RULES_NO = ROOT / "rules" / "no"


def _check_like(root: Path) -> None:
    """What ``eligibility check`` does before its property search."""
    pack = load_pack(root, full=True)
    load_invariants(pack)
    run_cases(Engine(pack))


def _bad_diagnostics(diags: list[Diagnostic], root: Path) -> list[str]:
    real = Path(os.path.abspath(root))
    bad = []
    for d in diags:
        where = Path(os.path.abspath(d.file))  # the place named, symlinks not followed
        if not d.file or d.line < 1 or d.column < 1 or not (
                where == real or where.is_relative_to(real)):
            bad.append(str(d)[:200])
    if not diags:
        bad.append("a PackError without a diagnostic")
    return bad


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def test_mutated_rule_files_never_crash_check(tmp_path: Path, tally: Counter[str],
                                              canary_dirs: list[Any],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    packs = []
    for source in (MINI, RULES_NO):
        target = tmp_path / source.name
        shutil.copytree(source, target)
        packs.append((target, _files(target)))
    n = size("ELIGIBILITY_FUZZ_MUTATIONS")
    crashes: list[str] = []
    outcomes: Counter[str] = Counter()
    for i in range(n):
        root, files = packs[0] if rng.random() < 0.85 else packs[1]
        path = rng.choice(files)
        original = path.read_bytes()
        text = original.decode("utf-8")
        mutated = mutate_rule_file(rng, text)
        path.write_text(mutated, encoding="utf-8", errors="surrogatepass")
        try:
            if i % 20 == 0:
                try:
                    main(["check", str(root), "--no-properties"])
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
                out = capsys.readouterr()
                text_out = out.out + out.err
                if "Traceback" in text_out or "failed unexpectedly" in text_out \
                        or code not in (0, 1, 2):
                    crashes.append(f"check CLI on {path.name}: exit {code} {text_out[-300:]}")
                outcomes[f"CLI check exit {code}"] += 1
            else:
                _check_like(root)
                outcomes["loaded (mutation harmless)"] += 1
        except PackError as exc:
            outcomes["refused with diagnostics"] += 1
            crashes.extend(f"{path.name}: {b}" for b in _bad_diagnostics(exc.diagnostics, root))
        except EligibilityError:
            outcomes["refused (own error)"] += 1
        except Exception as exc:  # the point of the test: anything else is a crash
            crashes.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            path.write_bytes(original)
    tally["rule-file mutations (check)"] += n
    for key, value in outcomes.items():
        tally[f"  mutations {key}"] += value
    tally["check crashes or unpositioned diagnostics"] += len(crashes)
    assert not crashes, crashes[:10]


def test_sandbox_corpus_is_refused(tmp_path: Path, tally: Counter[str],
                                   canary_dirs: list[Any]) -> None:
    root = tmp_path / "pack"
    shutil.copytree(MINI, root)
    measure = root / "measures" / "botilbud.yaml"
    original = measure.read_text(encoding="utf-8")
    accepted = []
    for expr in SANDBOX:
        text = original.replace("when: situation.homeless", "when: " + _quoted(expr))
        measure.write_text(text, encoding="utf-8")
        try:
            pack = load_pack(root)
        except PackError as exc:
            assert not _bad_diagnostics(exc.diagnostics, root)
            continue
        accepted.append(expr)
        Engine(pack).evaluate({}, as_of="2026-07-01")  # even then: nothing may run
    tally["sandbox-escape expressions"] += len(SANDBOX)
    tally["  sandbox expressions accepted"] += len(accepted)
    assert not accepted
    for place in canary_dirs:
        assert not (place / CANARY_NAME).exists()


def _quoted(expr: str) -> str:
    return "'" + expr.replace("'", "''") + "'"


def _attacks(root: Path, outside: Path) -> list[tuple[str, Any]]:
    """(name, edit of the pack folder) for each file attack."""
    secret = outside / "secret.yaml"
    secret.write_text("id: stolen\n", encoding="utf-8")
    (outside / "criteria").mkdir(exist_ok=True)
    shutil.copy(MINI / "criteria" / "grupper.yaml", outside / "criteria" / "grupper.yaml")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))

    def write(rel: str, text: str | bytes) -> Any:
        def edit() -> None:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                target.write_bytes(text)
            else:
                target.write_text(text, encoding="utf-8")
        return edit

    def link(rel: str, to: Path, replace: bool = True) -> Any:
        def edit() -> None:
            target = root / rel
            if replace and (target.is_symlink() or target.exists()):
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            target.symlink_to(to)
        return edit

    def fifo(rel: str) -> Any:
        return lambda: os.mkfifo(root / rel)

    def folder(rel: str) -> Any:
        return lambda: (root / rel).mkdir()

    attacks: list[tuple[str, Any]] = [
        ("measure symlinked to /etc/passwd", link("measures/passwd.yaml", Path("/etc/passwd"))),
        ("measure symlinked out of the pack", link("measures/x.yaml", secret)),
        ("pack.yaml symlinked out of the pack", link("pack.yaml", secret)),
        ("criteria/ symlinked out of the pack", link("criteria", outside / "criteria")),
        ("measure symlinked to /dev/zero", link("measures/zero.yaml", Path("/dev/zero"))),
        ("measure symlinked to a loop", link("measures/loop.yaml", root / "measures" /
                                              "loop.yaml")),
        ("dangling symlink", link("measures/gone.yaml", outside / "nothing.yaml")),
        ("relative symlink up", link("parameters/up.yaml", Path("../../secret.yaml"))),
        ("FIFO in measures/", fifo("measures/fifo.yaml")),
        ("FIFO as facts.yaml", lambda: ((root / "facts.yaml").unlink(),
                                        os.mkfifo(root / "facts.yaml"))),
        ("folder named x.yaml", folder("measures/x.yaml")),
        ("empty measure", write("measures/empty.yaml", "")),
        ("comment-only parameters", write("parameters/notes.yaml", "# nothing yet\n")),
        ("comment-only criteria", write("criteria/notes.yaml", "# nothing\n\n")),
        ("empty cases file", write("cases/empty.yaml", "")),
        ("YAML bomb in a measure", write("measures/bomb.yaml", bomb)),
        ("YAML bomb in a case", write("cases/bomb.yaml", bomb)),
        ("YAML bomb in invariants", write("invariants.yaml", bomb)),
        ("python tag", write("measures/tag.yaml", "!!python/object/apply:os.system "
                                                  f"['touch {CANARY_NAME}']\n")),
        ("python name tag", write("measures/tag2.yaml", "x: !!python/name:os.system\n")),
        ("5000-deep YAML", write("measures/deep.yaml", "x: " + "[" * 5000 + "]" * 5000)),
        ("5000-deep block YAML", write("measures/deep2.yaml", "".join(
            " " * i + f"k{i}:\n" for i in range(300)) + " " * 300 + "v: 1\n")),
        ("5000-digit int", write("parameters/big.yaml", "x:\n  value: " + "9" * 5000)),
        ("exponent float", write("parameters/exp.yaml", "x:\n  value: 9.0e999999")),
        ("bad timestamp key", write("parameters/ts.yaml", "2026-01-01T25:61:00Z: 1\n")),
        ("NUL byte", write("measures/nul.yaml", "id: x\x00\n")),
        ("C1 control", write("measures/c1.yaml", "id: x\x9a\n")),
        ("not UTF-8", write("measures/latin1.yaml", b"id: \xe6\xf8\xe5\n")),
        ("UTF-16", write("measures/utf16.yaml", "id: x\n".encode("utf-16"))),
        ("3 MB file", write("measures/huge.yaml", "# " + "x" * 3_000_000 + "\n")),
        ("recursive alias", write("measures/rec.yaml", "a: &a [*a]\n")),
        ("duplicate key", write("measures/dup.yaml", "id: a\nid: b\n")),
        ("list at top", write("criteria/list.yaml", "- 1\n- 2\n")),
        ("scalar at top", write("parameters/scalar.yaml", "just text\n")),
        ("unhashable key", write("parameters/key.yaml", "? [a, b]\n: 1\n")),
        ("binary tag", write("parameters/bin.yaml", "x: !!binary AAAA\n")),
        ("set tag", write("parameters/set.yaml", "x: !!set {a, b}\n")),
        ("merge key bomb", write("parameters/merge.yaml", "a: &a {x: 1}\nb:\n  <<: [*a, *a]\n")),
        ("tab indentation", write("measures/tab.yaml", "id: x\n\ttitle: y\n")),
        ("BOM + junk", write("measures/bom.yaml", "\ufeff: : :\n")),
        ("fullwidth digits in expression", write("criteria/fw.yaml",
                                                 "fw:\n  title: {nb: a, en: a}\n"
                                                 "  value: household.kommunegruppe > １\n"
                                                 "  source: {ref: x}\n")),
        ("Arabic-Indic digits", write("criteria/ar.yaml",
                                      "ar:\n  title: {nb: a, en: a}\n"
                                      "  value: household.kommunegruppe > \u0661\n"
                                      "  source: {ref: x}\n")),
        ("1000 nested parentheses", write("criteria/paren.yaml",
                                          "p:\n  title: {nb: a, en: a}\n  value: " + "(" * 1000
                                          + "1" + ")" * 1000 + " > 0\n  source: {ref: x}\n")),
    ]
    return attacks


def test_file_attacks_are_refused_at_a_position(tmp_path: Path, tally: Counter[str],
                                                canary_dirs: list[Any]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    probe = tmp_path / "probe"
    probe.mkdir()
    names = [name for name, _ in _attacks(probe, outside)]
    problems = []
    for index, name in enumerate(names):
        root = tmp_path / f"pack{index}"
        shutil.copytree(MINI, root)
        edit = dict(_attacks(root, outside))[name]
        edit()
        try:
            _check_like(root)
        except PackError as exc:
            problems.extend(f"{name}: {b}" for b in _bad_diagnostics(exc.diagnostics, root))
            if any("stolen" in str(d) for d in exc.diagnostics):
                problems.append(f"{name}: content from outside the pack was read")
            continue
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        problems.append(f"{name}: accepted")
    tally["YAML and file attacks"] += len(names)
    tally["  file attacks not refused cleanly"] += len(problems)
    assert not problems, problems
