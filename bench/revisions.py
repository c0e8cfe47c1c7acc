"""What the paired A/B benches share: a module of this repository as another git
revision has it (:func:`module_at`, ``git show`` into a temporary file, imported under
its own name beside this tree's), the anchor set's generated documents
(:func:`anchor_documents`) and the paired timing of two callables on the same items in
alternating chunks (:func:`paired`), which keeps a shared machine's drift out of the
ratio."""

from __future__ import annotations

import gc
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from time import perf_counter_ns
from types import ModuleType
from typing import Any

from bench_anchors import default_anchors, facts_of

ROOT = Path(__file__).resolve().parents[1]


def source_at(rev: str, path: str) -> str:
    """The text of ``path`` (from the repository's root) at git revision ``rev``."""
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True,
                          check=True, text=True).stdout


def module_at(rev: str, path: str, name: str,
              renames: Mapping[str, str] | None = None) -> ModuleType:
    """``path`` at ``rev``, imported as module ``name`` (put in ``sys.modules``); each
    key of ``renames`` in its text replaced by its value first (to import other
    modules taken from ``rev`` instead of this tree's)."""
    text = source_at(rev, path)
    for old, new in (renames or {}).items():
        text = text.replace(old, new)
    file = Path(tempfile.mkdtemp()) / f"{name.rsplit('.', 1)[-1]}.py"
    file.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def anchor_documents(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` anchor-set households of ``rules_common`` (seed ``seed``) as facts documents."""
    sys.path.insert(0, default_anchors())
    import rules_common  # type: ignore[import-not-found]
    return [facts_of(h) for h in rules_common.generate_households(n, seed=seed)]


def paired(old: Callable[[Any], Any], new: Callable[[Any], Any], items: list[Any],
           rounds: int = 1, clock: Callable[[], int] = perf_counter_ns,
           ) -> tuple[float, float, float]:
    """Medians per item (µs) of ``old`` and ``new`` and of the per-chunk ratios
    old/new: chunks of 20 items, each timed with both, in alternating order (after a
    collection, so that neither side starts with the other's garbage)."""
    ratios: list[float] = []
    olds: list[float] = []
    news: list[float] = []
    gc.collect()
    for r in range(rounds):
        for i in range(0, len(items), 20):
            chunk = items[i:i + 20]
            first, second = (old, new) if (i // 20 + r) % 2 else (new, old)
            t0 = clock()
            for item in chunk:
                first(item)
            t1 = clock()
            for item in chunk:
                second(item)
            t2 = clock()
            o, n = (t1 - t0, t2 - t1) if first is old else (t2 - t1, t1 - t0)
            ratios.append(o / n)
            olds.append(o / len(chunk) / 1e3)
            news.append(n / len(chunk) / 1e3)
    return statistics.median(olds), statistics.median(news), statistics.median(ratios)
