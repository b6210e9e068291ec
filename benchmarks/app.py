"""Browser benchmark: time from pressing Enter to the first result rendered,
in headless Chromium, on a warm app serving the finlex index.

    .venv/bin/python benchmarks/app.py [--queries 24]

Peer, measured in the same run: the Streamlit floor, a page that renders ten
fixed result cards for whatever is typed (no search at all). The difference
is what searching and our page cost on top of Streamlit's round trip.
Each measurement loads the page afresh, types the question, presses Enter
and waits for the first card to be visible.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FLOOR_APP = """
import streamlit as st

q = st.text_input("Ask a question")
if q:
    for i in range(10):
        st.markdown(
            f"<div><b>{i + 1}. Title</b> <code>fi</code> · p. 1<br>{len(q)} characters</div>",
            unsafe_allow_html=True,
        )
"""


def measure(url: str, queries: list[str]) -> list[float]:
    from tests.apprunner import browser_page, search

    samples = []
    with browser_page("en-GB") as page:
        for i, q in enumerate([queries[0], *queries]):
            page.goto(url)
            page.get_by_role("textbox").first.wait_for(timeout=60_000)
            elapsed = search(page, q)
            if i:  # the first search warms the app (model, caches); not counted
                samples.append(elapsed)
    return samples


def summary(samples: list[float]) -> dict:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "p50_ms": 1000 * statistics.median(samples), "p95_ms": 1000 * qs[94]}


def main() -> int:
    from query import FINLEX, build_finlex

    from tests.apprunner import serve_app

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--queries", type=int, default=24)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "app.json")
    args = p.parse_args()
    if not FINLEX.is_dir():
        print(f"{FINLEX} not found", file=sys.stderr)
        return 2
    lines = (ROOT / "eval" / "finlex.qrels.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(x)["query"] for x in lines if x.strip()]
    step = max(1, len(queries) // args.queries)
    queries = queries[::step][: args.queries]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        index = build_finlex(work)
        env = {"KB_INDEX": str(index), "KB_CORPUS": str(work / "corpus")}
        with serve_app(work / "app", env) as url:
            results["ours (hybrid, k=10, highlights)"] = summary(measure(url, queries))
        floor = work / "floor" / "floor.py"
        floor.parent.mkdir()
        floor.write_text(FLOOR_APP, encoding="utf-8")
        with serve_app(work / "floor-run", {}, app=floor) as url:
            results["Streamlit floor (10 fixed cards, no search)"] = summary(measure(url, queries))
    ours, base = results.values()
    ratio = ours["p50_ms"] / base["p50_ms"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d"), "results": results, "p50_ratio": ratio}, indent=2
        )
        + "\n"
    )
    print("| page | queries | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, r in results.items():
        print(f"| {name} | {r['n']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} |")
    print(f"ours / floor at p50: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
