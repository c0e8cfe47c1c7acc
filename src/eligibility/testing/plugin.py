"""The pytest plugin: rule packs' cases and invariants as test items.

Registered through the ``pytest11`` entry point, so ``pytest`` in any
repository that installs ``eligibility`` collects, for every pack folder
``rules/<pack>/``: one item that loads the pack with every static check
(``rules/<pack>/pack.yaml::static checks``), one item per declared invariant
and per built-in invariant, and one item per case file
(``rules/<pack>/cases/*.yaml``). Failures print the pack's diagnostics, the
case's differences, or the shrunk counterexample as a YAML case with the trace —
never a traceback. Options: ``--eligibility-examples N`` (households per
invariant) and ``--eligibility-seed S``. ``--eligibility-mutants [P]`` adds one
item per pack (``rules/<pack>/pack.yaml::mutants``) that mutation-tests the pack
(:mod:`eligibility.testing.mutants`; at most ``--eligibility-mutants-max N``
mutants, in ``--eligibility-mutants-workers N`` processes) and fails when the
mutation score is below P per cent (default 100: every scored mutant must be
killed), listing the surviving mutants. Loaded packs
are cached per session in ``config.stash``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eligibility.engine import Engine
from eligibility.errors import PackError
from eligibility.pack.loader import load_pack
from eligibility.testing.cases import run_case
from eligibility.testing.invariants import InvariantSet, load_invariants
from eligibility.testing.render import trace

_PACKS = pytest.StashKey[dict[Path, "Engine | PackError"]]()


class CheckFailure(Exception):
    """A rule-pack check that failed; its text is the whole report."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eligibility", "rule packs (rules/*/)")
    group.addoption("--eligibility-examples", type=int, default=None,
                    help="generated households per invariant (default: the pack's "
                         "invariants.yaml settings, else 100)")
    group.addoption("--eligibility-seed", type=int, default=0,
                    help="seed of the invariant search (default 0)")
    group.addoption("--eligibility-mutants", type=float, nargs="?", const=100.0, default=None,
                    metavar="P",
                    help="mutation-test each pack; fail when its mutation score is below P "
                         "per cent (default 100)")
    group.addoption("--eligibility-mutants-max", type=int, default=100, metavar="N",
                    help="mutants per pack with --eligibility-mutants (default 100)")
    group.addoption("--eligibility-mutants-workers", type=int, default=None, metavar="N",
                    help="worker processes for --eligibility-mutants (default: CPU count)")


def _is_pack(path: Path) -> bool:
    return path.name == "pack.yaml" and path.parent.parent.name == "rules"


def _is_case(path: Path) -> bool:
    return (path.suffix == ".yaml" and path.parent.name == "cases"
            and path.parent.parent.parent.name == "rules"
            and (path.parent.parent / "pack.yaml").is_file())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_pack(file_path):
        return PackFile.from_parent(parent, path=file_path)
    if _is_case(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    return None


def _engine(config: pytest.Config, root: Path) -> Engine:
    cache = config.stash.setdefault(_PACKS, {})
    key = root.resolve()
    if key not in cache:
        try:
            cache[key] = Engine(load_pack(key))
        except PackError as exc:
            cache[key] = exc
    found = cache[key]
    if isinstance(found, PackError):
        raise CheckFailure(f"the pack {root} does not load:\n" + "\n".join(
            str(d) for d in found.diagnostics))
    return found


class _Item(pytest.Item):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class PackFile(pytest.File):
    """``rules/<pack>/pack.yaml``: the static checks and the invariants."""

    def collect(self) -> Iterator[pytest.Item]:
        yield StaticItem.from_parent(self, name="static checks")
        root = self.path.parent
        try:
            engine = _engine(self.config, root)
            invariants: InvariantSet | None = load_invariants(engine.pack)
        except (CheckFailure, PackError):
            invariants = None  # the static-checks item reports it
        if invariants is not None:
            for inv in invariants.invariants:
                yield InvariantItem.from_parent(self, name=f"invariant {inv.id}",
                                                invariant_id=inv.id)
        from eligibility.testing.properties import BUILTINS  # needs hypothesis

        for name in BUILTINS:
            yield InvariantItem.from_parent(self, name=f"built-in {name}", invariant_id=name)
        if self.config.getoption("--eligibility-mutants") is not None:
            yield MutantsItem.from_parent(self, name="mutants")


class StaticItem(_Item):
    def runtest(self) -> None:
        engine = _engine(self.config, self.path.parent)
        try:
            load_invariants(engine.pack)
        except PackError as exc:
            raise CheckFailure("invariants.yaml has errors:\n" + "\n".join(
                str(d) for d in exc.diagnostics)) from None


class InvariantItem(_Item):
    def __init__(self, *, invariant_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.invariant_id = invariant_id

    def runtest(self) -> None:
        engine = _engine(self.config, self.path.parent)
        try:
            invariants = load_invariants(engine.pack)
        except PackError as exc:
            raise CheckFailure("invariants.yaml has errors:\n" + "\n".join(
                str(d) for d in exc.diagnostics)) from None
        from eligibility.testing.properties import Searcher  # needs hypothesis

        option = self.config.getoption("--eligibility-examples")
        seed = self.config.getoption("--eligibility-seed")
        searcher = Searcher(engine, option or invariants.examples, seed,
                            fixed_examples=option is not None,
                            information_exempt=invariants.information_exempt)
        declared = {inv.id: inv for inv in invariants.invariants}
        if self.name.startswith("invariant "):
            result = searcher.run(declared[self.invariant_id])
        else:
            result = searcher.run_builtin(self.invariant_id)
        if result.violation is not None:
            raise CheckFailure(f"{result.title} (seed {seed}, {result.examples} examples)\n"
                               + result.violation.report(result.id))


class MutantsItem(_Item):
    """Mutation testing of the pack: fails when the score is below the gate."""

    def runtest(self) -> None:
        from eligibility.testing.mutants import run_mutants  # needs hypothesis
        from eligibility.testing.mutants.runner import DEFAULT_EXAMPLES

        gate = float(self.config.getoption("--eligibility-mutants"))
        examples = self.config.getoption("--eligibility-examples")
        try:
            report = run_mutants(
                self.path.parent, max_mutants=self.config.getoption("--eligibility-mutants-max"),
                seed=self.config.getoption("--eligibility-seed"),
                examples=examples or DEFAULT_EXAMPLES,
                workers=self.config.getoption("--eligibility-mutants-workers"))
        except PackError as exc:
            raise CheckFailure(f"the pack {self.path.parent} does not load:\n" + "\n".join(
                str(d) for d in exc.diagnostics)) from None
        if not report.baseline_ok:
            raise CheckFailure("the unmutated pack fails its own tests: " + ", ".join(
                [f"case {c!r}" for c in report.baseline_failed_cases]
                + [f"invariant {i}" for i in report.baseline_violated]))
        self.add_report_section("call", "mutants", report.text())
        score = report.total.score
        if score is not None and score < gate:
            raise CheckFailure(f"mutation score {score:.1f}% is below {gate:g}%\n"
                               + report.text())


class CaseFile(pytest.File):
    """``rules/<pack>/cases/<case>.yaml``: one example household."""

    def collect(self) -> Iterator[pytest.Item]:
        yield CaseItem.from_parent(self, name=self.path.stem)


class CaseItem(_Item):
    def runtest(self) -> None:
        engine = _engine(self.config, self.path.parent.parent)
        target = self.path.resolve()
        for case in engine.pack.cases:
            if Path(case.file).resolve() == target:
                result = run_case(engine, case)
                if not result.passed:
                    text = f"case {case.name!r} ({case.as_of}):\n  " + "\n  ".join(
                        result.problems)
                    if result.decision is not None:
                        text += "\n" + trace(result.decision, list(case.expect_measures),
                                             list(case.expect_criteria))
                    raise CheckFailure(text)
                return
        raise CheckFailure(f"{self.path} is not a case of the pack")
