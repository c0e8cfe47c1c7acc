"""Worst-case cost of hostile requests to ``eligibility serve`` (issue 11's bound).

Starts the real server (uvicorn, one process, the bundled pack, default settings)
on loopback and sends, one at a time, the most expensive request bodies of at most
1 MB we know of: 1 MB of nesting, 10 000 members, a 1 MB string, exponent strings
in every numeric field of 100 members, a full batch of 100-member households,
why-not on a 100-member household, what-if with ``members = 10000000`` and YAML
bombs in a member mapping, and more. For each it prints the status, the server's
CPU time (from ``/proc/<pid>/stat``) and its resident memory after the request,
then the maxima against the targets (≤ 2 s CPU, ≤ 200 MB RSS, no 5xx). Linux only.

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from serving import wait_ready

from eligibility.api.examples import to_json
from eligibility.pack.yamlio import load_yaml_file, plain

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 1_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def household(members: int) -> dict[str, Any]:
    base = to_json(plain(load_yaml_file(ROOT / "fixtures" / "familie-utkastelse.yaml")))
    doc = copy.deepcopy(base)
    doc["members"] = [copy.deepcopy(base["members"][i % len(base["members"])])
                      for i in range(members)]
    return dict(doc)


def bodies() -> list[tuple[str, str, bytes]]:
    big = household(100)
    out: list[tuple[str, str, Any]] = []
    ev, wi, wn, batch = ("/v1/packs/no/evaluate", "/v1/packs/no/what-if",
                         "/v1/packs/no/why-not", "/v1/packs/no/evaluate/batch")

    def body(doc: Any) -> bytes:
        return json.dumps(doc).encode()

    n = (LIMIT - 100) // 2
    out.append(("1 MB of nested arrays", ev,
                b'{"facts": {"economy": {"savings": ' + b"[" * (n // 2) + b"]" * (n // 2) + b"}}}"))
    out.append(("1 MB of nested objects", ev,
                b'{"facts": ' + b'{"a":' * (LIMIT // 6) + b"1" + b"}" * (LIMIT // 6) + b"}"))
    members = household(1)["members"][0]
    many = len(body(members)) + 2
    count = (LIMIT - 100) // many
    out.append((f"{count} members", ev, body({"facts": {"members": [members] * count}})))
    out.append(("10 000 members", ev, body({"facts": {"members": [{}] * 10_000}})))
    text = "x" * (LIMIT - 100)
    out.append(("one 1 MB string", ev, body({"facts": {"housing": {"tenure": text}}})))
    expo = copy.deepcopy(big)
    for m in expo["members"]:
        for key in ("age", "income_month"):
            m[key] = "9e999999"
    for key in ("savings", "net_wealth", "net_income_month"):
        expo["economy"][key] = "9e999999"
    out.append(("exponent strings in 100 members", ev, body({"facts": expo})))
    out.append(("5 000-digit numbers", ev,
                b'{"facts": {"economy": {"savings": ' + b"9" * 5000 + b"}}}"))
    out.append(("1e5000 floats", ev, body({"facts": big}).replace(b'"income_month": 4000',
                                                                 b'"income_month": 1e5000')))
    out.append(("100-member household", ev, body({"facts": big, "as_of": "2026-07-01"})))
    item = {"facts": big, "as_of": "2026-07-01"}
    per = len(body(item)) + 2
    out.append((f"batch of {min(100, LIMIT // per - 1)} x 100 members", batch,
                body({"items": [item] * min(100, LIMIT // per - 1)})))
    out.append(("why-not, 100 members", wn, body({"facts": big, "as_of": "2026-07-01"})))
    out.append(("why-not startlan, 100 members", wn,
                body({"facts": big, "as_of": "2026-07-01", "measure_id": "startlan"})))
    out.append(("what-if members = 10 000 000", wi,
                body({"facts": big, "changes": {"members": 10_000_000}})))
    bomb = "{a: &a [x,x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], " \
           "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]}"
    out.append(("what-if YAML bomb member", wi,
                body({"facts": big, "changes": {"members[+]": bomb}})))
    out.append(("what-if 1000 changes", wi, body({"facts": big, "changes": {
        f"members[{i % 100}].income_month": str(i) for i in range(1000)}})))
    out.append(("what-if deep member mapping", wi, body({"facts": big, "changes": {
        "members[+]": "{a: " + "[" * 100_000 + "}"}})))
    return [(label, url, data[:LIMIT]) for label, url, data in out]


def main() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from eligibility.cli import main; main()", "serve",
         "--pack", "no", "--host", "127.0.0.1", "--port", str(port), "--log-level", "error"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        idle = rss_mb(server.pid)
        print(f"server idle RSS {idle:.0f} MB")
        worst_cpu, worst_rss, errors = 0.0, idle, 0
        with httpx.Client(timeout=120) as client:
            for label, url, data in bodies():
                before = cpu_seconds(server.pid)
                response = client.post(base + url, content=data,
                                       headers={"content-type": "application/json"})
                cpu = cpu_seconds(server.pid) - before
                rss = rss_mb(server.pid)
                worst_cpu, worst_rss = max(worst_cpu, cpu), max(worst_rss, rss)
                errors += response.status_code >= 500
                print(f"{label:<38} {len(data) / 1e6:5.2f} MB  {response.status_code}  "
                      f"CPU {cpu:5.2f} s  RSS {rss:6.0f} MB")
        peak = rss_mb(server.pid, "VmHWM")
        print(f"\nworst server CPU per request {worst_cpu:.2f} s (target <= 2 s); "
              f"peak RSS {peak:.0f} MB (target <= 200 MB); 5xx: {errors}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
