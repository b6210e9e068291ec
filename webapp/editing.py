"""The documents view's editing part: add documents (upload files or fetch
an address, a short form for each) and remove one after a confirmation;
each edit rebuilds the index with the page's own rebuild. The logic is in
ingest/corpus/library.py; this module only draws it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import streamlit as st

from ingest.corpus.audit import Action
from kb.errors import KBError
from kb.labels import label
from webapp.access import record, require_editor
from webapp.cards import plain

# The page's rebuild(settings, ui, searcher) -> True when a new index was written.
Rebuild = Callable[..., bool]


def _after_edit(settings, ui: str, searcher, notes: list[tuple[str, str]], rebuild: Rebuild):
    """Rebuild after documents were added or removed; show the notes after
    the rerun that lists them in the table (now, when no index was written)."""
    from ingest.storage.stores import live_name

    st.session_state.library_notes = notes
    before = live_name(settings)
    # A new generation (even with some file skipped): rerun, so the table shows it.
    if rebuild(settings, ui, searcher) or live_name(settings) != before:
        st.rerun()
    show_notes()


def show_notes() -> None:
    for kind, text in st.session_state.pop("library_notes", []):
        (st.success if kind == "ok" else st.warning)(text)


def uploader_css(ui: str, mb: int, types: list[str]) -> str:
    """Streamlit's uploader has no translation: its button says "Upload"
    and its dropzone "200MB per file • PDF, MD" on every page. Both are
    hidden, and the page's words shown in their place (CSS generated
    content), with the real limit (KB_MAX_FILE_MB). "Upload" stays the
    button's text for assistive technology (axe ignores generated content).
    The texts are our labels, no untrusted text."""
    button = json.dumps(label(ui, "upload_button"), ensure_ascii=False)  # a CSS string
    limit = label(ui, "upload_limit").format(mb=int(mb), types=", ".join(types))
    limit = json.dumps(limit, ensure_ascii=False)
    zone = "[data-testid='stFileUploaderDropzone']"
    notes = "[data-testid='stFileUploaderDropzoneInstructions']"
    return (
        "<style>"
        # "Upload" out of sight, still the button's text for axe (generated
        # content is not): hidden from view, not from assistive technology
        f"{zone} button [data-testid='stMarkdownContainer'] p {{ position: absolute; "
        "width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap }"
        f"{zone} button [data-testid='stMarkdownContainer']::after {{ content: {button} }}"
        f"{notes} span {{ display: none }}"
        f"{notes} > div::after {{ content: {limit}; font-size: 0.875rem }}"
        "</style>"
    )


def _candidates(settings, ui: str, round_: int) -> list:
    """The uploaded and fetched files checked (once each); a refused one
    gets one line with its reason, as text."""
    from ingest.corpus.address import fetch_address
    from ingest.corpus.library import SUFFIXES, check_file

    state = st.session_state
    checked, fetched = state.setdefault("checked", {}), state.setdefault("fetched", {})
    uploads = st.file_uploader(
        label(ui, "upload"),
        type=[s[1:] for s in SUFFIXES],
        accept_multiple_files=True,
        key=f"uploads-{round_}",
        max_upload_size=settings.max_file_mb,  # the build's limit, refused in the browser too
    )
    st.html(uploader_css(ui, settings.max_file_mb, [s[1:].upper() for s in SUFFIXES]))
    cols = st.columns([5, 1], vertical_alignment="bottom")
    address = cols[0].text_input(label(ui, "address"), key=f"address-{round_}")
    if cols[1].button(label(ui, "fetch")) and address.strip():
        with st.spinner(label(ui, "fetching")):
            try:
                require_editor(settings, "fetch")  # at the action, not only the button
                fetched[address.strip()] = fetch_address(address, settings)
            except KBError as exc:
                from webapp.refusals import refusal_text

                st.warning(refusal_text(exc, ui))
    # Only the uploads still in the box keep their bytes in the session.
    current = {u.file_id for u in uploads or []}
    for gone in [k for k in checked if k not in current]:
        del checked[gone]
    with st.spinner(label(ui, "checking")):
        for upload in uploads or []:
            if upload.file_id not in checked:
                try:
                    require_editor(settings, "upload")
                    checked[upload.file_id] = check_file(upload.name, upload.getvalue(), settings)
                except KBError as exc:
                    checked[upload.file_id] = exc
    found = [checked[u.file_id] for u in uploads or []] + list(fetched.values())
    for item in found:
        if isinstance(item, KBError):
            st.warning(f"{label(ui, 'refused')}: {plain(item)}")
    return [item for item in found if not isinstance(item, KBError)]


def add_documents(settings, searcher, ui: str, rebuild: Rebuild) -> None:
    """Upload files or fetch an address; a short form for each (title,
    language, kind, a version of); add them and rebuild (ingest/corpus/library.py)."""
    from ingest.corpus.library import Form, add, documents
    from ingest.corpus.sources import KINDS, LANGS

    state = st.session_state
    st.subheader(label(ui, "add_docs"))
    show_notes()
    round_ = state.setdefault("library_round", 0)
    candidates = _candidates(settings, ui, round_)
    if not candidates:
        return
    try:
        listed = documents(settings)
    except KBError as exc:
        st.error(plain(exc))
        return
    titles = {d.id: d.title or d.path for d in listed}
    with st.form(f"add-{round_}"):
        forms = []
        for i, c in enumerate(candidates):
            st.caption(plain(c.name))
            cols = st.columns([3, 1, 1, 2])
            langs = list(dict.fromkeys([*LANGS, c.lang or "fi"]))
            forms.append(
                Form(
                    cols[0].text_input(label(ui, "form_title"), c.title, key=f"t{round_}-{i}"),
                    cols[1].selectbox(
                        label(ui, "form_lang"),
                        langs,
                        langs.index(c.lang or "fi"),
                        key=f"l{round_}-{i}",
                    ),
                    cols[2].selectbox(
                        label(ui, "form_kind"), KINDS, KINDS.index(c.kind), key=f"k{round_}-{i}"
                    ),
                    cols[3].selectbox(
                        label(ui, "version_of"),
                        ["", *titles],
                        format_func=lambda x: titles.get(x, label(ui, "none")),
                        key=f"v{round_}-{i}",
                    ),
                )
            )
        if not st.form_submit_button(label(ui, "add"), type="primary"):
            return
    try:
        access = require_editor(settings, "add")
    except KBError as exc:
        st.error(plain(exc))
        return
    notes = []
    for c, form in zip(candidates, forms, strict=True):
        try:
            added = add(settings, c, form)
            record(settings, access, Action.ADD, f"{added.id}: {added.title} ({added.path})")
            notes.append(
                ("ok", f"{label(ui, 'added')}: {plain(added.title)} ({plain(added.path)})")
            )
        except KBError as exc:
            notes.append(("warn", f"{label(ui, 'refused')}: {plain(exc)}"))
    state.library_round = round_ + 1  # a fresh uploader and address box
    state.checked, state.fetched = {}, {}
    _after_edit(settings, ui, searcher, notes, rebuild)


def remove_document(settings, searcher, ui: str, rebuild: Rebuild) -> None:
    """Remove a document (its file and its sources.toml entry, to the
    trash) after a confirmation, and rebuild."""
    from ingest.corpus.library import documents, remove

    state = st.session_state
    try:
        listed = documents(settings)
    except KBError as exc:
        st.error(plain(exc))
        return
    if not listed:
        return
    st.subheader(label(ui, "remove_docs"))
    shown = {d.id: f"{d.title or d.path} ({d.path})" for d in listed}
    cols = st.columns([5, 1], vertical_alignment="bottom")
    doc_id = cols[0].selectbox(
        label(ui, "remove_doc"), list(shown), format_func=shown.get, key="remove_doc"
    )
    if cols[1].button(label(ui, "remove")):
        state.confirm_remove = doc_id
    pending = state.get("confirm_remove")
    if pending not in shown:
        return
    st.warning(f"{label(ui, 'confirm_remove')} {plain(shown[pending])}")
    yes, no = st.columns(2)
    if no.button(label(ui, "cancel")):
        del state.confirm_remove
        st.rerun()
    if not yes.button(label(ui, "yes_remove"), type="primary"):
        return
    del state.confirm_remove
    try:
        access = require_editor(settings, "remove")
        removed = remove(settings, pending, who=access.who)
    except KBError as exc:
        st.error(plain(exc))
        return
    record(settings, access, Action.REMOVE, f"{removed.id}: {removed.title} ({removed.path})")
    if pending in state.get("docs", []):  # the search view's document filter
        state.docs = [d for d in state.docs if d != pending]
    text = f"{removed.title or removed.path} ({removed.path})"
    done = f"{label(ui, 'removed')}: {plain(text)} {label(ui, 'to_trash')}"
    _after_edit(settings, ui, searcher, [("ok", done)], rebuild)


def show_trash(settings, searcher, ui: str, rebuild) -> None:
    """The trash's items, each with a Restore button (editors only)."""
    from ingest.corpus import trash

    items = trash.items(settings.corpus_dir)
    st.subheader(label(ui, "trash"), anchor=False)
    st.caption(label(ui, "trash_note").format(days=settings.trash_days))
    if not items:
        st.caption(label(ui, "trash_empty"))
        return
    for item in items[:50]:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(item.removed_at))
        cols = st.columns([5, 1], vertical_alignment="center")
        said = label(ui, "trashed").format(when=when, who=item.who or "?")
        cols[0].text(f"{item.title or item.path} ({item.path}), {said}")
        if cols[1].button(label(ui, "restore"), key=f"restore:{item.name}"):
            _restore(settings, searcher, ui, rebuild, item.name)


def _restore(settings, searcher, ui: str, rebuild, name: str) -> None:
    from ingest.corpus import restoring

    try:
        access = require_editor(settings, "restore")
        doc = restoring.restore(settings, name)
    except KBError as exc:
        st.error(plain(exc))
        return
    text = f"{doc.title or doc.path} ({doc.path})"
    record(settings, access, Action.RESTORE, f"{doc.id}: {text}")
    _after_edit(
        settings, ui, searcher, [("ok", f"{label(ui, 'restored')}: {plain(text)}")], rebuild
    )
