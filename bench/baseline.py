"""An older engine, importable beside the current one, for paired timings in one process.

``load_baseline(rev)`` extracts ``src/eligibility`` at git revision ``rev`` into a
temporary folder as the package ``eligibility_base`` (imports rewritten) and
imports it, so a benchmark can time today's and the older engine interleaved in
the same process. Used only by the bench scripts.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_baseline(rev: str) -> ModuleType:
    """The package ``eligibility`` at ``rev``, imported as ``eligibility_base``."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src/eligibility"],
                          check=True, capture_output=True).stdout
    target = Path(tempfile.mkdtemp(prefix="eligibility_base_"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    package = target / "eligibility_base"
    (target / "src" / "eligibility").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(from|import) eligibility\b", r"\1 eligibility_base", text)
        text = re.sub(r"\beligibility\.(?=[a-z_])", "eligibility_base.", text)
        path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(target))
    return importlib.import_module("eligibility_base")


def rules_at(rev: str, folder: str = "rules/no") -> Path:
    """The pack folder ``folder`` as it was at ``rev`` (extracted to a temporary folder),
    so an older engine and this one can be timed on the same rules."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, folder],
                          check=True, capture_output=True).stdout
    target = Path(tempfile.mkdtemp(prefix="eligibility_rules_"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")
    return target / folder
