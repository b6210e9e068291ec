"""Readers and editors in a real browser: the app on 127.0.0.1 driven by
headless Chromium (testsupport/apprunner.py). A visitor who reaches the host by
another name than a loopback one, or any visitor once the operator has
switched the loopback operator off, sees the documents table and no
editing control; the person at the machine, and an editor who
signed in with the editor password, see them."""

from __future__ import annotations

import pytest

from ingest.corpus.passwords import set_password
from testsupport.apprunner import browser_page, require_chromium, screenshot, serve_app

pytestmark = [pytest.mark.model, pytest.mark.browser]

SECRET = "correct horse battery staple"
NAME = "kb.example.test"  # a reserved name (RFC 2606), resolved by Chromium's rule only
EDITING = ("Rebuild index", "Remove…", "Fetch")


@pytest.fixture
def indexed(settings, real_embedder):
    require_chromium()
    from ingest.pipeline import build_index

    (settings.corpus_dir / "sida.sv.md").write_text(
        "# Upphandlingar\n\nUpphandlande enheter främjar innovationer.\n", encoding="utf-8"
    )
    build_index(settings, embedder=real_embedder)
    return settings


def _env(settings, **extra) -> dict[str, str]:
    env = {"KB_INDEX": str(settings.index_dir), "KB_CORPUS": str(settings.corpus_dir)}
    return dict(env, KB_WORKERS="1", **extra)


def _docs_view(page, url: str) -> None:
    page.goto(f"{url}/?view=docs&ui=en")
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
    page.get_by_text("Language of the page").first.wait_for()  # the sidebar is drawn


def _editing_controls(page) -> list[str]:
    shown = [n for n in EDITING if page.get_by_role("button", name=n, exact=True).count()]
    if page.locator("[data-testid='stFileUploader']").count():
        shown.append("uploader")
    return shown


def test_by_another_name_no_editing_at_the_machine_editing(indexed, tmp_path):
    """The page reached by the organisation's name for the host (mapped to
    127.0.0.1 inside Chromium only: no traffic leaves loopback) is not the
    machine's own browser: no editing, as for a DNS-rebinding page."""
    with serve_app(tmp_path / "app", _env(indexed)) as url:
        named = url.replace("127.0.0.1", NAME)
        with browser_page(
            "en-GB", extra_args=(f"--host-resolver-rules=MAP {NAME} 127.0.0.1",)
        ) as page:
            _docs_view(page, named)
            page.get_by_text("Editing is off").wait_for(timeout=30_000)
            assert _editing_controls(page) == []
            screenshot(page, tmp_path / "access-reader.png")
        with browser_page("en-GB") as page:  # the operator: the same page edits
            _docs_view(page, url)
            # the documents view draws its controls in turn: wait for the last ones
            page.get_by_role("button", name="Rebuild index").wait_for(timeout=30_000)
            page.get_by_role("button", name="Remove…", exact=True).wait_for(timeout=30_000)
            page.locator("[data-testid='stFileUploader']").wait_for(timeout=30_000)
            assert _editing_controls(page) == [*EDITING, "uploader"]


def test_beyond_the_operator_only_a_signed_in_editor_edits(indexed, tmp_path):
    set_password(indexed, SECRET)
    with serve_app(tmp_path / "app", _env(indexed, KB_LOCAL_OPERATOR="off")) as url:
        with browser_page("en-GB") as page:
            _docs_view(page, url)
            box = page.get_by_label("Editor password")
            box.wait_for(timeout=30_000)
            assert _editing_controls(page) == []
            box.fill(SECRET)
            page.get_by_role("button", name="Sign in as editor").click()
            # the documents view draws its controls in turn: wait for the last ones
            page.get_by_role("button", name="Rebuild index").wait_for(timeout=30_000)
            page.get_by_role("button", name="Remove…", exact=True).wait_for(timeout=30_000)
            page.locator("[data-testid='stFileUploader']").wait_for(timeout=30_000)
            assert _editing_controls(page) == [*EDITING, "uploader"]
            page.get_by_text("Editing as: password-editor").wait_for()
            screenshot(page, tmp_path / "access-editor.png")
            page.reload()  # a new session: a reader again
            _docs_view(page, url)
            page.get_by_label("Editor password").wait_for(timeout=30_000)
            assert _editing_controls(page) == []
