"""Check the built site in a real browser: Debian's Chromium, driven by Playwright.

Loads the home page, the API page of ``neuron.LIFNode`` and every tutorial page from a local HTTP
server. A page fails when the browser logs a console error or an uncaught exception, when it asks for
anything outside the site (every such request is blocked and named), when an image does not load, or
(tutorials) when it shows no figure. A full-page screenshot of each goes to ``site/screenshots/``.

    python scripts/check_site.py site --browser /usr/bin/chromium
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def pages_to_check(site: Path) -> list[tuple[str, str]]:
    """(page, kind) pairs: the home page, the LIFNode API page and every tutorial page."""
    pages = [("index.html", "home"), ("api/neuron.html", "api")]
    pages += [(f"tutorials/{p.name}", "tutorial") for p in sorted((site / "tutorials").glob("*.html"))]
    missing = [page for page, _ in pages if not (site / page).is_file()]
    if missing:
        raise SystemExit(f"check_site: the built site lacks {missing}; build it first (bash scripts/docs.sh)")
    return pages


def check(site: Path, browser: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    shots = site / "screenshots"
    shots.mkdir(exist_ok=True)
    results = []
    try:
        with sync_playwright() as p:
            chrome = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
            for page_path, kind in pages_to_check(site):
                page = chrome.new_page(viewport={"width": 1280, "height": 900})
                problems: list[str] = []
                page.on("console", lambda m, pr=problems: m.type == "error" and pr.append(f"console: {m.text}"))
                page.on("pageerror", lambda e, pr=problems: pr.append(f"exception: {e}"))

                def route(r, pr=problems):
                    if r.request.url.startswith(base) or r.request.url.startswith("data:"):
                        r.continue_()
                    else:
                        pr.append(f"outside request: {r.request.url}")
                        r.abort()

                page.route("**/*", route)
                page.goto(base + page_path, wait_until="networkidle")
                images = page.eval_on_selector_all(
                    "article img", "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth > 0])")
                broken = [src for src, ok in images if not ok]
                problems += [f"image did not load: {src}" for src in broken]
                figures = [src for src, ok in images if ok and src and src.endswith(".png")]
                if kind == "tutorial" and not figures:
                    problems.append("the tutorial page shows no figure")
                if kind == "api" and not page.query_selector("[id='spikesmith.neuron.LIFNode']"):
                    problems.append("no entry for spikesmith.neuron.LIFNode")
                math = page.eval_on_selector_all("mjx-container", "els => els.length")
                shot = shots / (page_path.replace("/", "_").removesuffix(".html") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                results.append({"page": page_path, "figures": len(figures), "math": math,
                                "screenshot": str(shot.relative_to(site.parent)), "problems": problems})
                page.close()
            chrome.close()
    finally:
        server.shutdown()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the built site folder")
    parser.add_argument("--browser", default="/usr/bin/chromium", help="the Chromium executable")
    args = parser.parse_args(argv)
    if not Path(args.browser).is_file():
        parser.error(f"no browser at {args.browser}: install Debian's chromium (apt-get install chromium)")
    results = check(args.site, args.browser)
    failed = [r for r in results if r["problems"]]
    for r in results:
        status = "ok " if not r["problems"] else "BAD"
        print(f"[check_site] {status} {r['page']}: {r['figures']} figures, {r['math']} formulas, {r['screenshot']}")
        for problem in r["problems"]:
            print(f"             - {problem}")
    (args.site / "screenshots" / "check.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"[check_site] {len(results) - len(failed)} of {len(results)} pages clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
