"""Docs that run: every marked example in README.md and docs/*.md is executed as written.

A fenced block right after the line ``<!-- docs-test -->`` is run:

* a shell block (```` ```sh ````): each ``$ command`` (``\\`` continues it) runs in
  bash from the repository root with the project's ``eligibility`` on PATH; the
  lines after it, up to the next ``$``, are output that must appear in what the
  command prints, line by line and in order (whitespace, table borders and
  no-break spaces are ignored; a line ``…`` skips any output). A command exits 0
  unless its output ends with a line ``(exit N)``;
* a python block: runs as a script from the repository root and must exit 0;
* a json block after ``<!-- docs-test: POST /v1/... -->``: is sent to that route
  and must be answered 200;
* the block after ``<!-- docs-test: server -->`` shows how to start the service:
  its first line is the command that starts the server the HTTP examples use.

Examples that talk to ``http://127.0.0.1:8000`` are sent to one ``eligibility
serve`` started for this module on a free port (the only rewrite: the port).
Every command of the CLI and every route of the API must appear in some
executed example.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
SERVER = "127.0.0.1:8000"
MARK = re.compile(r"^<!-- docs-test(?::\s*(?P<arg>[^>]*?))?\s*-->\s*$")
_BORDERS = str.maketrans({c: " " for c in "│┃┏┓┗┛━─┼╇┡┩└┘├┤┬┴╭╮╰╯┳┻╋┠┨┯┷═║╔╗╚╝\u00a0"})
CLI_COMMANDS = {"evaluate", "check", "what-if", "why-not", "counterfactual", "sweep", "ask",
                "packs", "serve"}
ROUTES = {"/v1/health", "/v1/ready", "/v1/packs", "/v1/packs/no", "/v1/packs/no/schema",
          "/v1/packs/no/parameters", "/v1/packs/no/evaluate", "/v1/packs/no/evaluate/batch",
          "/v1/packs/no/what-if", "/v1/packs/no/why-not"}


@dataclass(frozen=True)
class Example:
    file: str
    line: int
    lang: str
    arg: str
    body: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def examples() -> list[Example]:
    found: list[Example] = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            mark = MARK.match(line)
            if mark is None:
                continue
            fence = lines[i + 1] if i + 1 < len(lines) else ""
            assert fence.startswith("```"), f"{doc.name}:{i + 1}: the marker must precede a fence"
            end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
            found.append(Example(str(doc.relative_to(ROOT)), i + 2, fence[3:].strip(),
                                 (mark.group("arg") or "").strip(),
                                 "\n".join(lines[i + 2:end])))
    return found


EXAMPLES = examples()


def commands(body: str) -> list[tuple[str, list[str]]]:
    """The ``$ command`` lines of a shell block with the output lines shown after each."""
    out: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            assert not out or line.strip() == "" or out, line
            if out:
                out[-1][1].append(line)
            i += 1
            continue
        command = line[2:]
        while i + 1 < len(lines) and (command.endswith("\\") or command.count("'") % 2):
            i += 1
            if command.endswith("\\"):  # a continued line
                command = command[:-1] + " " + lines[i].strip()
            else:  # inside a quoted string that spans lines
                command += "\n" + lines[i]
        out.append((command, []))
        i += 1
    return out


def _norm(text: str) -> str:
    return " ".join(text.translate(_BORDERS).split())


def assert_shown(shown: list[str], actual: str, where: str) -> None:
    """Each shown line appears in the output, in order (``…`` skips)."""
    got = [_norm(line) for line in actual.splitlines()]
    got = [g for g in got if g]
    pos = 0
    for line in shown:
        want = _norm(line)
        if not want or want in ("…", "..."):
            continue
        for k in range(pos, len(got)):
            if want in got[k]:
                pos = k  # the next shown line may sit on the same output line (tables)
                break
        else:
            raise AssertionError(f"{where}: shown output line not printed (in order):\n"
                                 f"  {line}\n--- actual output ---\n{actual}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command() -> list[str]:
    """The documented command that starts the service (the ``server`` example)."""
    block = next(e for e in EXAMPLES if e.arg == "server")
    first = block.body.splitlines()[0].split("#")[0].split()
    assert first[:2] == ["eligibility", "serve"], first
    return [str(BIN / "eligibility"), *first[1:]]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([*serve_command(), "--port", str(port),
                             "--log-level", "warning"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://{address}/v1/ready", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(
                        proc.stderr.read().decode() if proc.stderr else "") from None
                time.sleep(0.1)
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _workdir(tmp: Path) -> Path:
    """A folder that looks like the repository (links to its files) where commands may
    write (e.g. ``--chart sweep.png``) without touching the checkout."""
    work = tmp / "repo"
    work.mkdir()
    for child in ROOT.iterdir():
        if child.name not in (".git", ".venv") and not child.name.startswith("."):
            (work / child.name).symlink_to(child)
    return work


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env["TMPDIR"] = str(tmp)
    env.pop("ELIGIBILITY_RULES", None)
    return env


def _run_shell(example: Example, address: str | None, tmp: Path) -> None:
    work = _workdir(tmp)
    for command, shown in commands(example.body):
        code = 0
        if shown and (m := re.fullmatch(r"\(exit (\d+)\)", shown[-1].strip() or "-")):
            code, shown = int(m.group(1)), shown[:-1]
        if address:
            command = command.replace(SERVER, address)
        result = subprocess.run(["bash", "-c", f"set -o pipefail\n{command}"], cwd=work,
                                env=_env(tmp), capture_output=True, text=True, timeout=300)
        where = f"{example.id}: $ {command}"
        output = result.stdout + result.stderr
        assert result.returncode == code, f"{where}\nexit {result.returncode}\n{output}"
        assert_shown(shown, output, where)


def _needs_server(example: Example) -> bool:
    return SERVER in example.body or example.arg.startswith(("GET ", "POST "))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_docs_example_runs_as_written(example: Example, request: pytest.FixtureRequest,
                                      tmp_path: Path) -> None:
    if example.arg == "server":
        assert serve_command()[1] == "serve"  # run by the server fixture
        return
    address = request.getfixturevalue("server") if _needs_server(example) else None
    if example.lang in ("sh", "console", "bash"):
        _run_shell(example, address, tmp_path)
    elif example.lang == "python":
        code = example.body.replace(SERVER, address) if address else example.body
        result = subprocess.run([sys.executable, "-"], input=code, cwd=_workdir(tmp_path),
                                env=_env(tmp_path),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{example.id}\n{result.stdout}{result.stderr}"
    elif example.lang == "json" and example.arg.startswith("POST "):
        assert address is not None
        route = example.arg.removeprefix("POST ").strip()
        body = json.loads(example.body)
        req = urllib.request.Request(f"http://{address}{route}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as response:
            assert response.status == 200, example.id
    else:
        raise AssertionError(f"{example.id}: no way to run a {example.lang!r} block")


def test_the_examples_cover_every_command_and_route() -> None:
    text = "\n".join(e.body + "\n" + e.arg for e in EXAMPLES)
    used = set(re.findall(r"\beligibility ([a-z-]+)", text)) & CLI_COMMANDS
    assert used == CLI_COMMANDS, f"commands without a run example: {CLI_COMMANDS - used}"
    routes = {r.split("?")[0] for r in re.findall(r"(/v1/[A-Za-z0-9_/\-{}]+)", text)}
    missing = {r for r in ROUTES if r not in routes}
    assert not missing, f"routes without a run example: {sorted(missing)}"


def test_the_docs_markers_find_examples() -> None:
    assert len(EXAMPLES) >= 10
    assert {e.file for e in EXAMPLES} >= {"README.md", "docs/api.md", "docs/whatif.md"}
