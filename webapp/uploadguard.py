"""A limit on the upload bytes Streamlit holds for the page's sessions.

Streamlit's upload route (``PUT /_stcore/upload_file/<session>/<file>``)
keeps every file a session sends in memory until the session ends, for any
file id, whether or not the page drew an uploader: a visitor could send
file after file of ``server.maxUploadSize``. The page installs this guard
on the server's upload manager once; it then refuses (HTTP 413) a file

- for a session the page has not marked as an editor's (:func:`allow`),
- that would take the session's held bytes past its limit
  (``KB_SESSION_UPLOAD_MB``).

It wraps the manager's ``add_file`` and nothing else; a file refused is
dropped at once, so one request holds at most ``server.maxUploadSize``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_editors: set[str] = set()


class UploadRefusedError(Exception):
    """Raised inside Streamlit's upload route; answered as HTTP 413."""


def allow(session_id: str, editor: bool) -> None:
    """Mark ``session_id`` as an editor's (its uploads are held) or not."""
    with _lock:
        (_editors.add if editor else _editors.discard)(session_id)


def allowed(session_id: str) -> bool:
    with _lock:
        return session_id in _editors


def held_bytes(manager, session_id: str) -> int:
    """The bytes ``manager`` holds for ``session_id`` (Streamlit's memory manager)."""
    storage = getattr(manager, "file_storage", {}).get(session_id) or {}
    return sum(len(rec.data) for rec in list(storage.values()))


def _refusal(reason: str) -> Exception:
    try:
        from starlette.exceptions import HTTPException
    except ImportError:  # another server: the route answers 500, the file is still dropped
        return UploadRefusedError(reason)
    return HTTPException(status_code=413, detail=reason)


def install(manager, limit_bytes: Callable[[], int]) -> bool:
    """Wrap ``manager.add_file`` (once); True when the guard is on."""
    from streamlit.runtime.uploaded_file_manager import UploadedFileManager

    if not isinstance(manager, UploadedFileManager):
        return False  # AppTest's mock runtime: its uploads never reach the route
    if getattr(manager, "_kb_guarded", False):
        return True
    original = manager.add_file

    def add_file(session_id: str, file) -> None:
        if not allowed(session_id):
            logger.warning("refused an upload to a session that is no editor's")
            raise _refusal("uploads are for editors only")
        with _lock:  # two files of one session at once must not both pass
            held = held_bytes(manager, session_id) + len(file.data)
            if held > limit_bytes():
                logger.warning("refused an upload past the session's limit (%d bytes)", held)
                raise _refusal("the session holds too many uploaded bytes")
            original(session_id, file)

    manager.add_file = add_file
    manager._kb_guarded = True
    return True


def install_on_server(limit_bytes: Callable[[], int]) -> bool:
    """Install the guard on the running server's upload manager, if any."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return False
    return install(Runtime.instance().uploaded_file_mgr, limit_bytes)
