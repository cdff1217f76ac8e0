"""Screenshots of the package's components mounted outside an org, in Chromium (``make salesforce-screenshots``).

Serves this folder (index.html + the rollup build in dist/) on a free loopback port, opens each scene and writes
docs/screenshots/salesforce-<scene>.png. Fails with one line when the build or the browser is missing.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SCENES = {"dashboard": 1100, "offline": 1100, "invoices": 900}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


def main() -> int:
    if not (HERE / "dist" / "main.js").is_file():
        print(f"{HERE}/dist/main.js is missing: run `make salesforce-screenshots` (it builds it)", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HERE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            for scene, width in SCENES.items():
                page = browser.new_page(viewport={"width": width, "height": 600})
                page.on("pageerror", lambda error: errors.append(str(error)[:300]))
                page.goto(f"http://127.0.0.1:{server.server_port}/index.html#{scene}")
                page.wait_for_selector("lightning-card", timeout=20000)
                page.wait_for_timeout(1500)  # the Apex mocks answer asynchronously
                target = OUT / f"salesforce-{scene}.png"
                page.locator("#root").screenshot(path=str(target))
                print(f"{target}")
                page.close()
            browser.close()
    finally:
        server.shutdown()
    if errors:
        print("the components failed in the browser: " + "; ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
