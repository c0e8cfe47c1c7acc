"""HTTP throughput and latency of ``eligibility serve`` on loopback.

Starts the real server (uvicorn, httptools, uvloop; ``--workers`` processes, by
default 2 — the issue's figure, two cores — then 1) on 127.0.0.1 with the bundled
pack, waits until ``/v1/ready`` answers, then drives single evaluations (full, the
issue's figure, and ``?detail=summary``) and batch evaluations with ``--concurrency``
closed-loop clients (threads in this process, each on its own keep-alive connection,
each sending its next request when the last answer is in) for a fixed short time
each, and prints requests/s, p50 and p99 latency, the CPU time the server (all its
processes) and the clients (this process) used per request, and how busy each server
process was. The clients run on the same cores as the server, so their CPU is the
server's loss: the default ``raw`` client is the light one, ``httpx`` the one earlier
runs used (``--client both``, the default, prints each row with each):

* ``raw``: a persistent HTTP/1.1 connection over a plain socket (TCP_NODELAY): it
  writes the request line, ``Host``, ``Content-Type``, ``Content-Length`` and the
  body (each fixture's JSON, encoded once before the run), then reads the status
  line and headers and exactly ``Content-Length`` bytes of body (buffered reads).
* ``httpx``: an ``httpx.Client`` per client thread, ``client.post(url, json=...)``
  (it encodes the JSON on every request and builds its request and response objects).

Every answer is verified (:class:`Verifier`): status 200, a complete body, the first
one for each fixture parsed as JSON and checked to be a Decision (a batch: all items
``ok`` with a Decision), and every later one byte-equal to it; anything else counts
as an error. Nothing is cached by the server: each request is a full evaluation (the
six fixtures repeat, so an engine's bounded memos of reasons are warm, as they are in
service; the "again" rows of bench_anchors.py measure that path on its own).
Client ``k`` connects ``k`` × 3 ms after the first so that one idle worker does not
accept all four connections at once; when that happens anyway (a worker did less than
a fifth of the busiest one's work) the row is printed as discarded and run again with
new connections, up to ``--retries`` times: with many clients every worker has work,
with four the accept race can leave one without. The server runs at ``--log-level warning`` (no
access log) unless ``--log-level info`` is given. Loopback only; the server is
stopped at the end.

    .venv/bin/python bench/bench_http.py [--seconds 5] [--concurrency 4] [--batch 20]
        [--workers 2 1] [--client raw|httpx|both] [--no-batch] [--log-level info]
        [--baseline REV]   # then the engine at git revision REV
"""

from __future__ import annotations

import argparse
import json
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
from urllib.parse import urlsplit

import httpx
from serving import wait_ready

from eligibility.api.examples import to_json
from eligibility.pack.yamlio import load_yaml_text, plain

ROOT = Path(__file__).resolve().parents[1]
MAX_REQUESTS = 20_000
#: client ``k`` connects ``k`` times this late: connections that all arrive in the same
#: instant are often all accepted by one idle worker (uvicorn's workers share one
#: listening socket), leaving the other worker without a client for the whole run
STAGGER_SECONDS = 0.003


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


def cpu_by_process(pid: int) -> dict[int, float]:
    """CPU seconds of process ``pid`` and of each of its live child processes (uvicorn
    workers), by process id."""
    out: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            out[int(stat.parent.name)] = ((int(fields[11]) + int(fields[12]))
                                          / os.sysconf("SC_CLK_TCK"))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid`` and of its live child processes (uvicorn workers)."""
    return sum(cpu_by_process(pid).values())


def client_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _is_decision(doc: Any) -> bool:
    return isinstance(doc, dict) and {"measures", "provenance"} <= doc.keys()


class Verifier:
    """Checks that a response body is the Decision (or batch) the server owes.

    The first 200 body seen for each request body is parsed as JSON and must have the
    keys of its kind (a Decision: ``measures`` and ``provenance``; a batch: ``results``
    whose items are all ``ok``); it becomes the reference, and every later body for
    that request must equal it byte for byte (an evaluation of the same facts on the
    same date gives the same bytes). Any other status, a short body or different bytes
    count as an error."""

    def __init__(self, batch: bool) -> None:
        self.batch = batch
        self.reference: dict[int, bytes] = {}
        self.lock = threading.Lock()

    def ok(self, index: int, status: int, body: bytes) -> bool:
        if status != 200:
            return False
        known = self.reference.get(index)
        if known is not None:
            return body == known
        try:
            doc = json.loads(body)
        except ValueError:
            return False
        if self.batch:
            items = doc.get("results") if isinstance(doc, dict) else None
            good = isinstance(items, list) and bool(items) and all(
                isinstance(item, dict) and item.get("ok") is True
                and _is_decision(item.get("decision")) for item in items)
        else:
            good = _is_decision(doc)
        if good:
            with self.lock:
                self.reference.setdefault(index, body)
        return good


class RawConnection:
    """One persistent HTTP/1.1 keep-alive connection over a plain socket: writes the
    request (method line, ``Host``, ``Content-Type``, ``Content-Length``, the body) and
    reads the response's status line, headers and exactly ``Content-Length`` bytes of
    body (buffered reads); a response without a length, a closed connection or a
    chunked body raises."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=1 << 16)
        self.host = f"{host}:{port}".encode()

    def head(self, path: str, body: bytes) -> bytes:
        return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n")

    def request(self, raw: bytes) -> tuple[int, bytes]:
        self.sock.sendall(raw)
        status_line = self.reader.readline(65536)
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ConnectionError(f"bad status line {status_line[:80]!r}")
        length = -1
        while True:
            line = self.reader.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length < 0:
            raise ConnectionError("a response without Content-Length")
        body = self.reader.read(length)
        if len(body) != length:
            raise ConnectionError(f"short body: {len(body)} of {length} bytes")
        return int(parts[1]), body

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def drive(url: str, bodies: list[dict[str, Any]], seconds: float, concurrency: int,
          client: str = "raw", batch: bool = False) -> tuple[list[float], int, float]:
    """``concurrency`` client threads, each on its own keep-alive connection, post the
    bodies in turn until ``seconds`` pass (or :data:`MAX_REQUESTS` answers); returns the
    latencies of verified answers, the number of failures and the wall time."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    verifier = Verifier(batch)
    raw_bodies = [json.dumps(b).encode() for b in bodies]
    split = urlsplit(url)
    path = split.path + (f"?{split.query}" if split.query else "")
    deadline = time.perf_counter() + seconds

    def record(elapsed: float, good: bool) -> bool:
        with lock:
            if good:
                latencies.append(elapsed)
            else:
                errors[0] += 1
            return len(latencies) + errors[0] < MAX_REQUESTS

    def raw_worker(offset: int) -> None:
        time.sleep(offset * STAGGER_SECONDS)
        host, port = split.hostname or "127.0.0.1", split.port or 80
        conn = RawConnection(host, port)
        requests = [conn.head(path, b) + b for b in raw_bodies]
        try:
            i = offset
            while time.perf_counter() < deadline:
                k = i % len(requests)
                start = time.perf_counter()
                try:
                    status, body = conn.request(requests[k])
                except (OSError, ValueError):  # a broken answer: an error, a new connection
                    conn.close()
                    conn = RawConnection(host, port)
                    status, body = 0, b""
                elapsed = time.perf_counter() - start
                if not record(elapsed, verifier.ok(k, status, body)):
                    return
                i += 1
        finally:
            conn.close()

    def httpx_worker(offset: int) -> None:
        time.sleep(offset * STAGGER_SECONDS)
        with httpx.Client(timeout=30) as session:
            i = offset
            while time.perf_counter() < deadline:
                k = i % len(raw_bodies)
                start = time.perf_counter()
                response = session.post(url, json=bodies[k])
                elapsed = time.perf_counter() - start
                if not record(elapsed, verifier.ok(k, response.status_code,
                                                   response.content)):
                    return
                i += 1

    worker = raw_worker if client == "raw" else httpx_worker
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def measured(server: int, url: str, bodies: list[dict[str, Any]], seconds: float,
             concurrency: int, client: str, batch: bool = False,
             ) -> tuple[list[float], int, float, float, float, list[float]]:
    """:func:`drive`, with the CPU seconds the server and the clients used meanwhile, and
    the server's by process (the busiest first)."""
    s0, c0 = cpu_by_process(server), client_seconds()
    latencies, errors, wall = drive(url, bodies, seconds, concurrency, client, batch)
    s1, c1 = cpu_by_process(server), client_seconds()
    by_process = sorted((s1[k] - s0.get(k, 0.0) for k in s1), reverse=True)
    return latencies, errors, wall, sum(by_process), c1 - c0, by_process


def report(label: str, latencies: list[float], errors: int, wall: float, server_cpu: float,
           client_cpu: float, by_process: list[float], per: int) -> None:
    if not latencies:
        print(f"{label}: no successful requests ({errors} errors)")
        return
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    n = len(latencies)
    rps = n / wall
    share = client_cpu / max(server_cpu + client_cpu, 1e-9)
    print(f"{label:<44} {n:>6} req {rps:>7.1f} req/s {rps * per:>7.1f} households/s  "
          f"p50 {p50:>6.2f} ms  p99 {p99:>6.2f} ms  errors {errors}  CPU/req server "
          f"{server_cpu / n * 1000:.2f} ms, clients {client_cpu / n * 1000:.2f} ms "
          f"({share:.0%} of the CPU used; {(server_cpu + client_cpu) / wall:.2f} cores busy)"
          + (" · server processes " + "/".join(f"{c / wall:.2f}" for c in by_process
                                                if c / wall >= 0.005)
             + " cores" if len(by_process) > 1 else ""))


def unbalanced(by_process: list[float], workers: int) -> bool:
    """Whether some worker did less than a fifth of the busiest one's work (its clients'
    connections all went to other workers)."""
    busy = [c for c in by_process if c > 0]
    return workers > 1 and (len(busy) < workers or busy[workers - 1] < 0.2 * busy[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--pack", default="no")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1],
                        help="server worker processes (eligibility serve --workers); "
                             "several numbers: one server after the other")
    parser.add_argument("--client", choices=["raw", "httpx", "both"], default="both",
                        help="raw: keep-alive sockets (the figure); httpx: httpx.Client "
                             "(heavier, for comparison); both: each row with each")
    parser.add_argument("--no-batch", action="store_true", help="skip the batch rows")
    parser.add_argument("--retries", type=int, default=2,
                        help="with several workers, run a row again (up to this many "
                             "times, every attempt printed) when a worker got no "
                             "connection and sat idle")
    parser.add_argument("--log-level", default="warning",
                        help="the server's (info: one JSON access line per request)")
    parser.add_argument("--baseline", default=None,
                        help="also serve the engine at this git revision (bench/baseline.py) "
                             "beside this one and drive both the same way, row by row "
                             "in turn")
    args = parser.parse_args()
    for workers in args.workers:
        run(args, [None, args.baseline] if args.baseline else [None], workers)


def start_server(args: argparse.Namespace, revision: str | None, workers: int,
                 ) -> tuple[subprocess.Popen[bytes], str]:
    """``eligibility serve`` (this engine, or the one at ``revision``) on a free port."""
    port = free_port()
    env = {**os.environ, "ELIGIBILITY_MAX_BATCH": str(max(args.batch, 1))}
    code = "from eligibility.cli import main; main()"
    if revision:
        code = (f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
                f"from baseline import load_baseline; load_baseline({revision!r}); "
                "from eligibility_base.cli import main; main()")
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve",
         "--pack", args.pack, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", args.log_level,
         *(["--workers", str(workers)] if workers > 1 else [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, f"http://127.0.0.1:{port}"


def run(args: argparse.Namespace, revisions: list[str | None], workers: int) -> None:
    seconds = min(args.seconds, 30.0)
    clients = ["raw", "httpx"] if args.client == "both" else [args.client]
    servers = [start_server(args, revision, workers) for revision in revisions]
    try:
        households = fixtures()
        as_of = "2026-07-01"
        singles = [{"facts": f, "as_of": as_of} for f in households]
        batch = [{"items": [singles[(i + k) % len(singles)] for k in range(args.batch)]}
                 for i in range(len(singles))]
        for (server, base), revision in zip(servers, revisions, strict=True):
            wait_ready(base, server)
            pack = httpx.get(f"{base}/v1/packs/{args.pack}").json()
            drive(f"{base}/v1/packs/{args.pack}/evaluate", singles, 0.5,
                  args.concurrency)  # warm up (every worker)
            print(f"{'engine at ' + revision if revision else 'this engine'}: "
                  f"pack {pack['pack_id']} {pack['pack_version']} "
                  f"sha256:{pack['content_hash'][:12]} · {len(households)} fixtures · "
                  f"{args.concurrency} clients · {seconds:g} s per run · "
                  f"{workers} server worker(s) · log level {args.log_level} · "
                  f"Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
                  f"load average {os.getloadavg()[0]:.1f}")
        rows: list[tuple[str, str, list[dict[str, Any]], int]] = [
            ("evaluate (single)", "", singles, 1),
            ("evaluate ?detail=summary", "?detail=summary", singles, 1)]
        if not args.no_batch:
            rows.append((f"evaluate/batch ({args.batch})", "/batch", batch, args.batch))
        for label, tail, bodies, per in rows:
            for client in clients:
                for (server, base), revision in zip(servers, revisions, strict=True):
                    who = f" @{revision}" if revision else ""
                    for attempt in range(args.retries + 1):
                        result = measured(
                            server.pid, f"{base}/v1/packs/{args.pack}/evaluate{tail}",
                            bodies, seconds, args.concurrency, client, per > 1)
                        idle = unbalanced(result[5], workers)
                        last = attempt == args.retries or not idle
                        report(f"{label} [{client}]{who}"
                               + ("" if last else " (discarded: a worker idle)"), *result,
                               per=per)
                        if last:
                            break
    finally:
        for server, _ in servers:
            server.send_signal(signal.SIGINT)
        for server, _ in servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
