"""Take the README's screenshot of the caseworker page (docs/img/page.png).

Starts ``eligibility serve`` on a free port, loads fixtures/familie-utkastelse.yaml into
the page in Debian's chromium (Playwright, headless) and saves the first screenful.
Run: .venv/bin/python scripts/readme-screenshot.py
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from eligibility.cli import main; main()",
                             "serve", "--port", str(port), "--log-level", "warning"])
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/rules/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(base_url=f"http://127.0.0.1:{port}",
                                    viewport={"width": 1100, "height": 720})
            page.goto("/")
            page.set_input_files("#upload-file", str(ROOT / "fixtures/familie-utkastelse.yaml"))
            page.wait_for_selector("#decision article.measure")
            page.evaluate("document.getElementById('decision-title').scrollIntoView()")
            out = ROOT / "docs" / "img" / "page.png"
            page.screenshot(path=str(out))
            browser.close()
            print(f"wrote {out}")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
