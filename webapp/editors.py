"""Who may edit: readers and editors (docs/deploying.md has the threat model).

Everyone who can open the page searches. Adding, removing, restoring and
rebuilding are for editors, and a session is an editor in one of three ways:

- the operator: the page is served on a loopback address only, the request
  came from the machine itself (no proxy's forwarding header, a loopback
  Host, so not a DNS-rebinding page) and ``KB_LOCAL_OPERATOR`` is on;
- single sign-on (``st.login``): the signed-in user's verified e-mail
  address is in ``KB_EDITORS``;
- the editor password (ingest/corpus/passwords.py) entered in this session.

Served beyond loopback with neither configured, nobody edits. These are
pure functions of what the page reads from Streamlit (:class:`Request`,
``st.user`` as a mapping); the page only calls them, and checks
:func:`require` at each action, not only when it draws a button.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from kb.errors import KBError
from kb.settings import Settings

logger = logging.getLogger(__name__)

OPERATOR = "operator@localhost"
PASSWORD_EDITOR = "password-editor"
# Headers a reverse proxy adds: a request holding one did not come from
# the machine's own browser, whatever its TCP peer.
FORWARDING = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class Role(Enum):
    READER = "reader"
    EDITOR = "editor"


class How(Enum):
    """How a session became an editor."""

    OPERATOR = "operator"
    SSO = "sso"
    PASSWORD = "password"


class NotAnEditorError(KBError):
    """An edit was asked for by a session that is no editor."""

    def __init__(self, action: str) -> None:
        super().__init__(f"{action}: only an editor may do this")
        self.action = action


@dataclass(frozen=True)
class Request:
    """What the server knows of a page session's connection."""

    server_address: str | None  # Streamlit's server.address ("" or None: every interface)
    remote_ip: str | None  # st.context.ip_address: None for a loopback peer
    headers: Mapping[str, str] = field(default_factory=dict)
    session_id: str = ""

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((str(v) for k, v in self.headers.items() if k.lower() == wanted), "")


@dataclass(frozen=True)
class Access:
    role: Role
    who: str = ""  # the editor's identity for the audit log
    how: How | None = None

    @property
    def can_edit(self) -> bool:
        return self.role is Role.EDITOR


READER = Access(Role.READER)


def is_loopback(address: str | None) -> bool:
    """A loopback address or ``localhost``; False for "" / None (every
    interface) and for anything else."""
    if not address:
        return False
    text = address.strip().strip("[]").lower()
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    """The name in a Host header, without its port."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_local_operator(request: Request, settings: Settings) -> bool:
    """The person at the machine: served on loopback only, reached from it
    directly (no forwarding header), by a loopback name."""
    if settings.local_operator != "on" or not is_loopback(request.server_address):
        return False
    if request.remote_ip is not None and not is_loopback(request.remote_ip):
        return False
    if any(request.header(h) for h in FORWARDING):
        return False
    host = request.header("host")
    return not host or _host_name(host) in LOOPBACK_NAMES


def sso_editor(user: Mapping, settings: Settings) -> str | None:
    """The signed-in user's e-mail address when it is an editor's; None
    when not signed in, not listed, or the provider says it is unverified."""
    if user.get("is_logged_in") is not True:
        return None
    email = str(user.get("email") or "").strip().lower()
    if not email or user.get("email_verified") is False:
        return None
    return email if email in settings.editor_emails else None


def decide(request: Request, user: Mapping, password_ok: bool, settings: Settings) -> Access:
    """The session's access: operator, then single sign-on, then password."""
    if is_local_operator(request, settings):
        return Access(Role.EDITOR, OPERATOR, How.OPERATOR)
    if email := sso_editor(user, settings):
        return Access(Role.EDITOR, email, How.SSO)
    if password_ok:
        return Access(Role.EDITOR, PASSWORD_EDITOR, How.PASSWORD)
    return READER


def require(access: Access, action: str) -> None:
    """Raise NotAnEditorError unless ``access`` may edit; call it at the action."""
    if not access.can_edit:
        logger.warning("refused %s to a reader", action)
        raise NotAnEditorError(action)


def session_tag(session_id: str) -> str:
    """The session as the audit log names it: a short hash, not the id
    itself (which upload addresses hold)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else ""


def client_key(request: Request) -> str:
    """Whom wrong passwords are counted against: the TCP peer (a proxy's
    address behind one, so one count for all)."""
    return request.remote_ip or "loopback"
