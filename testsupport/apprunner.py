"""Start the real Streamlit app on 127.0.0.1 and drive it with Debian's
Chromium through Playwright (its own browser download is impossible here).
Used by the page's tests (tests/page/) and by benchmarks/app.py and uploads.py."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip the calling test, saying why, where Debian's Chromium is absent."""
    if not os.access(CHROMIUM, os.X_OK):
        import pytest

        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does)")


def index_env(index) -> dict[str, str]:
    """The page's settings for a test index (its ``index_dir`` and ``corpus_dir``)."""
    return {"KB_INDEX": str(index.index_dir), "KB_CORPUS": str(index.corpus_dir)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(
    workdir: Path, env: dict[str, str], app: Path = ROOT / "app.py", timeout: float = 90
) -> Iterator[str]:
    """Run ``app`` (copied into ``workdir`` with the project's Streamlit
    config, so that its static/ folder is workdir/static) and yield its URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(app, workdir / "app.py")
    shutil.copytree(ROOT / ".streamlit", workdir / ".streamlit", dirs_exist_ok=True)
    port = free_port()
    full_env = dict(
        os.environ,
        **env,
        PYTHONPATH=str(ROOT),
        KB_STATIC=str(workdir / "static"),
        HF_HUB_OFFLINE="1",
    )
    log = (workdir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.headless=true",
        ],
        cwd=workdir,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the app did not start: " + (workdir / "streamlit.log").read_text()[-2000:]
                )
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def browser_page(locale: str = "fi-FI", extra_args: tuple[str, ...] = ()):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = [*CHROMIUM_ARGS, *extra_args]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(locale=locale, viewport={"width": 1300, "height": 1800})
            yield context.new_page()
        finally:
            browser.close()


CARD = "div[data-testid='stHtml'] div:has(> code)"


def search(page, text: str, timeout_ms: int = 60_000) -> float:
    """On a freshly loaded page, type ``text`` into the question box, press
    Enter and wait for the first result card; seconds from Enter to it."""
    box = page.get_by_role("textbox", name=re.compile("question|Kysy|Ställ"))
    box.fill(text)
    start = time.perf_counter()
    box.press("Enter")
    page.locator(CARD).first.wait_for(state="visible", timeout=timeout_ms)
    return time.perf_counter() - start


# What the browser tests share.
QUESTION = "Mitä innovaatiokumppanuus tarkoittaa?"
ANSWER = "div[role='region']"
SCREENSHOTS = ROOT / ".cache" / "screenshots"


def screenshot(page, path: Path, full_page: bool = True) -> None:
    """Save the page to ``path`` and a copy to .cache/screenshots/ (git-ignored)."""
    page.screenshot(path=str(path), full_page=full_page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)


def assert_inert(page) -> None:
    """No link to, no image from the hostile address (testsupport/hostile.py);
    no KaTeX anywhere."""
    assert page.locator("a[href*='8999']").count() == 0
    assert page.locator("img[src*='8999']").count() == 0
    assert page.locator(".katex, .katex-html, math").count() == 0
