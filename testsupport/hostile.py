"""Untrusted text for the page's tests (AppTest and the browser): document
text holding HTML and script, and file names, a title and a language that
are Markdown and KaTeX. Shown anywhere, each must stay plain text."""

from __future__ import annotations

from pathlib import Path

HOSTILE = """# Hankinnat

Hankintayksiköt edistävät innovaatioita. <script>alert(1)</script>
<img src=x onerror=alert(2)> [avaa](javascript:alert(3)) **lihava**
"""

LINK_NAME = "[Session expired, log in again](https:127.0.0.1:8999).md"
IMAGE_NAME = "![t](https:127.0.0.1:8999).md"
MATH_NAME = "$\\huge{BIG}$ **BOLD**.md"
HOSTILE_TITLE = "[Log in](https:127.0.0.1:8999) $\\huge{T}$ **T**"
HOSTILE_LANG = "[x](https:127.0.0.1:8999)"
HOSTILE_SOURCES = f"""
[[document]]
id = "vieras"
file = "vieras.md"
title = '{HOSTILE_TITLE}'
lang = '{HOSTILE_LANG}'
"""


def write_hostile_names(c: Path) -> None:
    """Files whose names, title and language are Markdown and KaTeX: three
    fail to index, two are indexed (one titled and tagged by sources.toml)."""
    (c / LINK_NAME).write_text("")  # empty: fails
    (c / IMAGE_NAME).write_bytes(b"\x00\xff\xfe binary")  # binary: fails
    (c / MATH_NAME).write_text("  \n\n ")  # no text: fails
    (c / "hankinnat.md").write_text("Hankinnat ja innovaatiot.\n", encoding="utf-8")
    (c / "vieras.md").write_text("# Vieras\n\nInnovaatiot hankinnoissa.\n", encoding="utf-8")
    (c / "sources.toml").write_text(HOSTILE_SOURCES, encoding="utf-8")
