"""Many large uploads from two sessions at once: the Streamlit process's
memory (issue 24, part 5). The app runs on 127.0.0.1 (the operator may
upload); two Chromium pages each put ``--files`` files of ``--mb`` MB of
random bytes (named .pdf: each is refused by the check, as an attacker's
would be) into the documents view's uploader. The server's resident and
peak memory are read from /proc before and after, with the per-session
cap (KB_SESSION_UPLOAD_MB) as set and with it effectively off.

    PYTHONPATH=. .venv/bin/python benchmarks/uploads.py [--files 10 --mb 150]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.apprunner import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402


def _mem(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            name, value = line.split(":")
            fields[name] = int(value.split()[0]) // 1024  # MB
    return fields


def _serve(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "app.py", workdir / "app.py")
    shutil.copytree(ROOT / ".streamlit", workdir / ".streamlit", dirs_exist_ok=True)
    port = free_port()
    full = dict(os.environ, **env, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    log = (workdir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", f"--server.port={port}"],
        cwd=workdir,
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the app did not start")


def _session(url: str, files: list[Path], results: list, name: str, ready) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        codes: list[int] = []
        page.on(
            "response",
            lambda r: codes.append(r.status) if "/_stcore/upload_file/" in r.url else None,
        )
        page.goto(f"{url}/?view=docs&ui=en")
        box = page.locator("[data-testid='stFileUploader'] input[type='file']")
        box.wait_for(state="attached", timeout=120_000)
        ready.wait()  # both pages drawn: the baseline is read
        ready.wait()
        start = time.monotonic()
        box.set_input_files([str(f) for f in files])
        deadline = time.monotonic() + 900
        while len(codes) < len(files):
            if time.monotonic() > deadline:
                break
            page.wait_for_timeout(500)
        seconds = time.monotonic() - start
        page.wait_for_timeout(10_000)  # the page's rerun checks what was accepted
        results.append(
            {
                "session": name,
                "accepted": codes.count(204),
                "refused_413": codes.count(413),
                "other": [c for c in codes if c not in (204, 413)],
                "upload_s": round(seconds, 1),
            }
        )
        ready.wait()  # the memory is read while the sessions still hold their files
        ready.wait()
        browser.close()


def run(limit_mb: int, n: int, mb: int, settings_env: dict, tmp: Path) -> dict:
    env = dict(settings_env, KB_SESSION_UPLOAD_MB=str(limit_mb), KB_WORKERS="1")
    proc, url = _serve(tmp / f"app-{limit_mb}", env)
    try:
        files = []
        for i in range(n):
            path = tmp / f"junk-{i}.pdf"
            if not path.exists():
                with path.open("wb") as f:
                    f.write(os.urandom(mb * 1_000_000))
            files.append(path)
        results: list = []
        ready = threading.Barrier(3)
        threads = [
            threading.Thread(target=_session, args=(url, files, results, f"s{k}", ready))
            for k in range(2)
        ]
        for t in threads:
            t.start()
        ready.wait()
        before = _mem(proc.pid)
        ready.wait()
        ready.wait()
        after = _mem(proc.pid)
        ready.wait()
        for t in threads:
            t.join()
        return {"limit_mb": limit_mb, "before": before, "after": after, "sessions": results}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--mb", type=int, default=150)
    args = p.parse_args()
    from ingest.pipeline import build_index
    from kb.settings import Settings

    with tempfile.TemporaryDirectory(prefix="kb-uploads-") as name:
        tmp = Path(name)
        corpus, index = tmp / "corpus", tmp / "index"
        corpus.mkdir()
        (corpus / "sida.sv.md").write_text("# Upphandlingar\n\nInnovationer.\n", encoding="utf-8")
        build_index(Settings(corpus_dir=corpus, index_dir=index))
        env = {"KB_CORPUS": str(corpus), "KB_INDEX": str(index), "KB_STATIC": str(tmp / "st")}
        out = [run(limit, args.files, args.mb, env, tmp) for limit in (400, 100_000)]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
