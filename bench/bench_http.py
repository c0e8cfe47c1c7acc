"""HTTP throughput and latency of ``eligibility serve`` on loopback.

Starts the real server (uvicorn; ``--workers`` processes) on 127.0.0.1 with the
bundled pack, waits until ``/v1/ready`` answers, then drives single evaluations
(full and ``?detail=summary``) and batch evaluations with a few concurrent clients
for a fixed short time each (bounded by both time and request count), and prints
requests/s, p50 and p99 latency, and the CPU time the server (all its processes)
and the clients (this process: the client threads) used per request, with the
clients' share: the clients run on the same cores as the server. The facts are the
bundled fixtures. Loopback only; the server is stopped at the end.

    .venv/bin/python bench/bench_http.py [--seconds 5] [--concurrency 4] [--batch 20]
        [--workers 2] [--baseline REV]   # then the engine at git revision REV
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from serving import wait_ready

from eligibility.api.examples import to_json
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fixtures() -> list[dict[str, Any]]:
    out = []
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        out.append(to_json(plain(load_yaml_text(text, path.name))))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` and of its live child processes (uvicorn workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def client_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drive(url: str, bodies: list[dict[str, Any]], seconds: float, concurrency: int,
          ) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        with httpx.Client(timeout=30) as client:
            i = offset
            while time.perf_counter() < deadline:
                with lock:
                    if len(latencies) + errors[0] >= MAX_REQUESTS:
                        return
                start = time.perf_counter()
                response = client.post(url, json=bodies[i % len(bodies)])
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def measured(server: int, url: str, bodies: list[dict[str, Any]], seconds: float,
             concurrency: int) -> tuple[list[float], int, float, float, float]:
    """:func:`drive`, with the CPU seconds the server and the clients used meanwhile."""
    s0, c0 = cpu_seconds(server), client_seconds()
    latencies, errors, wall = drive(url, bodies, seconds, concurrency)
    return latencies, errors, wall, cpu_seconds(server) - s0, client_seconds() - c0


def report(label: str, latencies: list[float], errors: int, wall: float, server_cpu: float,
           client_cpu: float, per: int) -> None:
    if not latencies:
        print(f"{label}: no successful requests ({errors} errors)")
        return
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    n = len(latencies)
    rps = n / wall
    share = client_cpu / max(server_cpu + client_cpu, 1e-9)
    print(f"{label:<22} {n:>6} req  {rps:>7.1f} req/s  {rps * per:>7.1f} households/s  "
          f"p50 {p50:>6.2f} ms  p99 {p99:>6.2f} ms  errors {errors}  CPU/req server "
          f"{server_cpu / n * 1000:.2f} ms, clients {client_cpu / n * 1000:.2f} ms "
          f"({share:.0%} of the CPU used; {(server_cpu + client_cpu) / wall:.2f} cores busy)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--pack", default="no")
    parser.add_argument("--workers", type=int, default=1,
                        help="server worker processes (eligibility serve --workers)")
    parser.add_argument("--baseline", default=None,
                        help="also serve the engine at this git revision and drive it "
                             "the same way, right after (bench/baseline.py)")
    args = parser.parse_args()
    run(args, None)
    if args.baseline:
        run(args, args.baseline)


def run(args: argparse.Namespace, revision: str | None) -> None:
    seconds = min(args.seconds, 30.0)
    port = free_port()
    env = {**os.environ, "ELIGIBILITY_MAX_BATCH": str(max(args.batch, 1))}
    code = "from eligibility.cli import main; main()"
    if revision:
        code = (f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                f"from baseline import load_baseline; load_baseline({revision!r}); "
                "from eligibility_base.cli import main; main()")
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve",
         "--pack", args.pack, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         *(["--workers", str(args.workers)] if args.workers > 1 else [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        pack = httpx.get(f"{base}/v1/packs/{args.pack}").json()
        households = fixtures()
        as_of = "2026-07-01"
        singles = [{"facts": f, "as_of": as_of} for f in households]
        batch = [{"items": [singles[(i + k) % len(singles)] for k in range(args.batch)]}
                 for i in range(len(singles))]
        url = f"{base}/v1/packs/{args.pack}/evaluate"
        drive(url, singles, 0.5, 1)  # warm up
        print(f"{'engine at ' + revision if revision else 'this engine'}: "
              f"pack {pack['pack_id']} {pack['pack_version']} sha256:{pack['content_hash'][:12]}"
              f" · {len(households)} fixtures · {args.concurrency} clients · "
              f"{seconds:g} s per run · {args.workers} server worker(s) · "
              f"Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
              f"load average {os.getloadavg()[0]:.1f}")
        pid = server.pid
        report("evaluate (single)", *measured(pid, url, singles, seconds, args.concurrency), 1)
        if not revision:
            report("evaluate ?detail=summary", *measured(
                pid, url + "?detail=summary", singles, seconds, args.concurrency), 1)
        report(f"evaluate/batch ({args.batch})",
               *measured(pid, url + "/batch", batch, seconds, args.concurrency), args.batch)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
