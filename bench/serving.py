"""Helpers the HTTP benchmarks share: wait until a started ``eligibility serve`` answers.

``bench_http.py`` and ``bench_hostile.py`` each start the real server in a child
process on 127.0.0.1 and poll ``/v1/ready`` before they measure anything; this module
owns that poll so both stop the same way when the server never comes up.
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx


def wait_ready(base: str, server: subprocess.Popen[bytes], tries: int = 300) -> None:
    """Return once ``base``/v1/ready answers 200; exit if the server dies or never does."""
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/v1/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            sys.exit("the server did not start")
        time.sleep(0.1)
    sys.exit("the server did not become ready")
