"""axe-core in a real browser page: the serious and critical violations
(tests/page/test_accessibility.py and the other browser tests)."""

from __future__ import annotations

# Violations that only Streamlit's own frontend causes, which the page
# cannot change: rule id -> why. Matched per node: a node of ours that
# breaks the same rule still fails. Empty: on Streamlit 1.67 axe finds no
# serious or critical violation outside our markup.
STREAMLIT_ONLY: dict[str, str] = {}
BLOCKING = ("serious", "critical")


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is,
    one line each (rule, impact, where), the allow-list left out."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    found = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING and v["id"] not in STREAMLIT_ONLY:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"]]
            found.append(f"{v['id']} ({v['impact']}): {v['help']}: {targets[:5]}")
    return found
