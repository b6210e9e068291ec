"""Another origin cannot drive the page: against the real app (``streamlit
run`` on 127.0.0.1 with the project's .streamlit/config.toml, as
testsupport/apprunner.py starts it), a websocket whose Origin is a foreign site is
closed, an upload without the XSRF cookie's token is refused, and no
answer carries ``Access-Control-Allow-Origin: *``."""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from kb.settings import PROJECT_ROOT
from testsupport.apprunner import serve_app

FOREIGN = "http://evil.example"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("origin")
    (root / "corpus").mkdir()
    env = {"KB_INDEX": str(root / "index"), "KB_CORPUS": str(root / "corpus")}
    with serve_app(root / "app", env) as url:
        yield url


def test_the_config_keeps_the_protections_on():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["address"] == "127.0.0.1" and server["enableAgentApi"] is False
    assert server["maxUploadSize"] <= 200


def _opens(url: str, origin: str | None) -> bool:
    """Whether the page's websocket stays open for a message's exchange."""
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        with connect(ws_url, origin=origin, open_timeout=10, close_timeout=2) as ws:
            try:
                ws.recv(timeout=3)
            except TimeoutError:
                pass  # open and quiet: accepted
            return True
    except (ConnectionClosed, InvalidStatus):
        return False


def test_a_websocket_from_another_origin_is_refused(app_url):
    same = app_url  # http://127.0.0.1:port
    assert _opens(app_url, same)  # the page's own origin: accepted (the test can fail)
    assert not _opens(app_url, FOREIGN)
    assert not _opens(app_url, "null")  # a sandboxed frame or a file:// page


def test_an_upload_without_the_xsrf_token_is_refused(app_url):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.md"\r\n'
        b"Content-Type: text/markdown\r\n\r\n# x\r\n--b--\r\n"
    )
    request = urllib.request.Request(
        f"{app_url}/_stcore/upload_file/some-session/some-file",
        data=body,
        method="PUT",
        headers={"Origin": FOREIGN, "Content-Type": "multipart/form-data; boundary=b"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers.get("Access-Control-Allow-Origin") in (None, app_url)


def test_no_answer_allows_every_origin(app_url):
    for path in ("/_stcore/health", "/"):
        request = urllib.request.Request(app_url + path, headers={"Origin": FOREIGN})
        with urllib.request.urlopen(request, timeout=10) as answer:
            allowed = answer.headers.get("Access-Control-Allow-Origin")
        assert allowed not in ("*", FOREIGN), (path, allowed)
