"""Retake the README's screenshot: a real `attune ui` (bundled model) in a throwaway data folder, one question
asked in headless Chromium, the page saved to ui/screenshot.png.

`python eval/measure/screenshot.py` (needs Debian's chromium on the PATH; about two minutes here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

QUESTION = "How do I tell my partner I feel lonely without blaming them?"
PORT = 7873


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on the PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="attune-shot-"))
    env = {**os.environ, "ATTUNE_HOME": str(home)}
    attune = str(Path(sys.executable).with_name("attune"))
    server = subprocess.Popen([attune, "ui", "--port", str(PORT)], env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2)
                break
            except OSError:
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"http://127.0.0.1:{PORT}/")
            page.locator("#ask-box textarea").fill(QUESTION)
            page.locator("#ask-send").click()
            page.locator("#ask-chat").get_by_text("Sources").wait_for(timeout=240_000)
            page.locator("#ask-chat").get_by_text("Sources").first.click()  # open the cited passages
            time.sleep(1)
            out = Path(__file__).resolve().parents[2] / "ui" / "screenshot.png"
            page.screenshot(path=str(out), full_page=False)
            browser.close()
        print(f"wrote {out}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
