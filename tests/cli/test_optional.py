"""Without the optional dependencies the CLI still works, and names the extra to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Run the CLI in a fresh interpreter in which the optional packages cannot be imported.
BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"hypothesis", "fastapi", "uvicorn", "matplotlib",
                                  "fastapi_offline", "starlette"}:
            raise ImportError(f"blocked: {name}")
        return None
sys.meta_path.insert(0, _Block())
sys.argv = ["eligibility", *sys.argv[1:]]
from eligibility.cli import main
main()
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_help_and_evaluate_need_no_optional_package() -> None:
    assert _cli("--help").returncode == 0
    result = _cli("evaluate", "fixtures/enslig-oslo-lavinntekt.yaml", "--as-of", "2026-07-01",
                  "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "4\u00a0958\u00a0NOK/month" in result.stdout  # bostøtte, whole at 80 columns


def test_each_optional_part_names_its_extra(tmp_path: Path) -> None:
    serve = _cli("serve")
    assert serve.returncode == 2 and "pip install 'eligibility[api]'" in serve.stderr
    check = _cli("check", "no")
    assert check.returncode == 2 and "pip install 'eligibility[testing]'" in check.stderr
    chart = _cli("sweep", "fixtures/enslig-oslo-lavinntekt.yaml", "--as-of", "2026-07-01",
                 "--vary", "members[0].income_month=0..20000", "--step", "10000",
                 "--chart", str(tmp_path / "s.png"))
    assert chart.returncode == 2 and "pip install 'eligibility[charts]'" in chart.stderr
    assert _cli("check", "no", "--no-properties").returncode == 0
