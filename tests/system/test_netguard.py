"""Server-side request forgery (issue 24, fault 2): every address of the
attack's table, through the library, the CLI and the page's function,
against servers on loopback, refused unless the operator allow-lists it;
a redirect to an internal address and a DNS answer that changes between
the check and the connection among them (ingest/fetching/netguard.py)."""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest
import urllib3.util.connection

from ingest.__main__ import main
from ingest.corpus.address import FetchRefusedError, fetch_address
from ingest.fetching import netguard
from ingest.fetching.download import FetchOptions
from ingest.fetching.httpread import Failure, FetchError, read_body, session
from ingest.fetching.netguard import AllowList, NotAllowedError, check_url, refusal
from kb.settings import load_settings
from testsupport.httpserve import serve
from webapp.refusals import refusal_text

SECRET = b"<html><body><h1>Internal</h1><p>secret internal text of the intranet</p></body></html>"


class Internal:
    """An 'internal' service on 127.0.0.1 that counts every request."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.lock = threading.Lock()

    def handle(self, request) -> None:
        with self.lock:
            self.hits.append(request.path)
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(SECRET)))
        request.end_headers()
        request.wfile.write(SECRET)


class Redirector:
    """An allow-listed site (127.0.0.2) whose every page redirects to ``target``."""

    target = ""

    def __init__(self) -> None:
        self.hits: list[str] = []

    def handle(self, request) -> None:
        self.hits.append(request.path)
        request.send_response(302)
        request.send_header("Location", self.target)
        request.send_header("Content-Length", "0")
        request.end_headers()


@pytest.fixture
def internal(monkeypatch):
    monkeypatch.delenv("KB_FETCH_ALLOW", raising=False)
    with serve(Internal()) as state:
        yield state


def table(port: int, redirect: str) -> dict[str, str]:
    """The attack's rows: what was fetched before this fix."""
    return {
        "ipv4": f"http://127.0.0.1:{port}/doc.pdf",
        "ipv6": f"http://[::1]:{port}/doc.pdf",
        "unspecified": f"http://0.0.0.0:{port}/doc.pdf",
        "localhost": f"http://localhost:{port}/doc.pdf",
        "short": f"http://127.1:{port}/doc.pdf",
        "decimal": f"http://2130706433:{port}/doc.pdf",
        "hex": f"http://0x7f000001:{port}/doc.pdf",
        "octal": f"http://0177.0.0.1:{port}/doc.pdf",
        "mapped": f"http://[::ffff:127.0.0.1]:{port}/doc.pdf",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "redirect": redirect,
    }


@pytest.fixture
def rows(internal, monkeypatch):
    """The table, the redirect row served by 127.0.0.2, which alone is allow-listed."""
    port = int(internal.url.rsplit(":", 1)[1])
    with serve(Redirector(), host="127.0.0.2") as site:
        site.target = f"{internal.url}/doc.pdf"
        monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.2")
        yield table(port, f"{site.url}/moved"), site


def test_every_row_is_refused_by_the_library(rows, internal):
    addresses, site = rows
    options = FetchOptions(retries=0, deadline=10)
    for name, url in addresses.items():
        with session(options) as http, pytest.raises(FetchError) as caught:
            read_body(http, url, options, 1000)
        assert caught.value.kind is Failure.NOT_ALLOWED, (name, caught.value.reason)
    assert internal.hits == []
    assert site.hits == ["/moved"]  # the allowed hop was asked; its target never was


def test_every_row_is_refused_by_the_cli(rows, internal, tmp_path, capsys):
    addresses, _ = rows
    corpus = tmp_path / "corpus"
    entries = "".join(f'[[document]]\nid = "{k}"\nurl = "{v}"\n\n' for k, v in addresses.items())
    (corpus / "sources.toml").write_text(entries, encoding="utf-8")
    code = main(["fetch", "--sources", str(corpus / "sources.toml"), "--retries", "0"])
    out = capsys.readouterr().out
    assert code == 1
    for name in addresses:
        line = next(x for x in out.splitlines() if x.startswith(f"{name} "))
        assert "failed" in line and "not allowed" in line, line
    assert internal.hits == []
    assert not list((corpus / "official").glob("*.pdf"))


@pytest.mark.parametrize("ui", ["en", "fi", "sv"])
def test_every_row_is_refused_on_the_page_with_a_class_only(rows, internal, settings, ui):
    addresses, _ = rows
    for url in addresses.values():
        with pytest.raises(FetchRefusedError) as caught:
            fetch_address(url, settings)
        text = refusal_text(caught.value, ui)
        assert caught.value.kind is Failure.NOT_ALLOWED
        expected = {
            "en": "Could not fetch this address: not allowed",
            "fi": "Osoitetta ei voitu hakea: ei sallittu",
            "sv": "Adressen kunde inte hämtas: inte tillåten",
        }[ui]
        assert text == expected  # no address, no socket error, no server bytes
    assert internal.hits == []


def test_allow_listed_loopback_is_fetched(internal, settings, monkeypatch):
    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.0/8")
    options = FetchOptions(retries=0)
    with session(options) as http:
        body = read_body(http, f"{internal.url}/page", options, 10_000)
    assert body.data == SECRET and internal.hits == ["/page"]


def test_a_dns_answer_that_changes_is_not_asked_again(internal, monkeypatch):
    """The resolver answers a public address first, then 127.0.0.1: the
    connection goes to the address that was checked (here carried to the
    local server by a fake socket layer, so no packet leaves the machine),
    and a second request to the same name is checked anew and refused."""
    answers = ["8.8.8.8", "127.0.0.1"]
    asked: list[str] = []
    connected: list[tuple[str, int]] = []
    port = int(internal.url.rsplit(":", 1)[1])

    def fake_resolve(host, _port):
        asked.append(host)
        return [answers[min(len(asked), len(answers)) - 1]]

    def fake_connect(address, *args, **kw):
        connected.append(address)
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    monkeypatch.setattr(netguard, "resolve", fake_resolve)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", fake_connect)
    options = FetchOptions(retries=0, allow=AllowList())
    with session(options) as http:
        body = read_body(http, "http://kb-test.example/page", options, 10_000)
        assert body.data == SECRET
        assert connected == [("8.8.8.8", 80)] and asked == ["kb-test.example"]
        with pytest.raises(FetchError) as caught:  # the name now points inside
            read_body(http, "http://kb-test.example/again", options, 10_000)
    assert caught.value.kind is Failure.NOT_ALLOWED
    assert connected == [("8.8.8.8", 80)]  # never to the second answer
    assert internal.hits == ["/page"]


def test_a_redirect_hop_is_resolved_and_checked_again(monkeypatch):
    """A public site redirects to a name that resolves inside: refused at that hop."""
    answers = {"public.example": ["8.8.8.8"], "inside.example": ["10.0.0.1"]}
    monkeypatch.setattr(netguard, "resolve", lambda host, port: answers[host])
    connected: list = []
    with serve(Redirector()) as site:
        site.target = "http://inside.example/secret"
        port = int(site.url.rsplit(":", 1)[1])

        def fake_connect(address, *args, **kw):
            connected.append(address)
            return socket.create_connection(("127.0.0.1", port), timeout=5)

        monkeypatch.setattr(urllib3.util.connection, "create_connection", fake_connect)
        options = FetchOptions(retries=0, allow=AllowList())
        with session(options) as http, pytest.raises(FetchError) as caught:
            read_body(http, "http://public.example/moved", options, 1000)
    assert caught.value.kind is Failure.NOT_ALLOWED and "10.0.0.1" in caught.value.reason
    assert connected == [("8.8.8.8", 80)] and site.hits == ["/moved"]


def test_one_connection_per_click(monkeypatch):
    class Busy:
        hits = 0

        def handle(self, request):
            Busy.hits += 1
            request.send_response(503)
            request.send_header("Content-Length", "0")
            request.end_headers()

    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.1")
    with serve(Busy()) as state, pytest.raises(FetchRefusedError) as caught:
        fetch_address(f"{state.url}/doc.pdf", load_settings())
    assert Busy.hits == 1 and caught.value.kind is Failure.NOT_REACHABLE


def test_a_web_page_is_fetched_once(monkeypatch):
    page = (
        "<html><head><title>Sivu</title></head><body><article><h1>Hankinnat</h1>"
        + "<p>Julkiset hankinnat ovat tärkeä osa kuntien ja valtion toimintaa. " * 20
        + "</p></article></body></html>"
    ).encode()

    class Page:
        hits = 0

        def handle(self, request):
            Page.hits += 1
            request.send_response(200)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(page)))
            request.end_headers()
            request.wfile.write(page)

    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.1")
    with serve(Page()) as state:
        candidate = fetch_address(f"{state.url}/hankinnat", load_settings())
    assert candidate.suffix == ".html" and Page.hits == 1


# ---------------------------------------------------------------- the address rules


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.255.0.9",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "fec0::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(ip):
    assert refusal(ipaddress.ip_address(ip)) is not None


@pytest.mark.parametrize("ip", ["8.8.8.8", "193.166.3.2", "2001:4860:4860::8888"])
def test_public_addresses_pass(ip):
    assert refusal(ipaddress.ip_address(ip)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://foo.localhost/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http:///x",
    ],
)
def test_numeric_spellings_local_names_and_other_schemes_are_refused(url, monkeypatch):
    monkeypatch.setattr(netguard, "resolve", lambda host, port: pytest.fail(f"resolved {host}"))
    if url.startswith("http://[") or url.startswith("http://0.0.0.0"):
        monkeypatch.undo()  # literals are checked without resolving
    with pytest.raises(NotAllowedError):
        check_url(url, AllowList())


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["8.8.8.8", "127.0.0.1"])
    with pytest.raises(NotAllowedError, match="loopback"):
        check_url("https://x.example/", AllowList())


def test_the_allow_list(monkeypatch):
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["10.2.3.4"])
    allow = AllowList.parse(" intra.example.fi, .sisainen.fi ,10.9.0.0/16, 127.0.0.1")
    assert check_url("https://intra.example.fi/x", allow).ip == "10.2.3.4"
    assert check_url("https://a.b.sisainen.fi/x", allow).ip == "10.2.3.4"
    with pytest.raises(NotAllowedError):
        check_url("https://other.example.fi/x", allow)
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["10.9.1.1"])
    assert check_url("https://other.example.fi/x", allow).ip == "10.9.1.1"
    assert check_url("http://127.0.0.1:8080/", allow).port == 8080
    with pytest.raises(NotAllowedError):
        check_url("http://127.0.0.2/", allow)
    with pytest.raises(Exception, match="KB_FETCH_ALLOW"):
        AllowList.parse("not a host!")


def _self_signed(tmp_path, name: str):
    """A certificate for ``name`` and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_a_pinned_https_connection_keeps_the_name_for_sni_and_the_certificate(
    tmp_path, monkeypatch
):
    """Connected to the checked IP, TLS still names the host: the server's
    certificate for kb-test.example is verified, and the SNI it saw is that name."""
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert_file, key_file = _self_signed(tmp_path, "kb-test.example")
    seen_sni: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = f"host={self.headers['Host']}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    connected: list = []

    def fake_connect(address, *args, **kw):
        connected.append(address)
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    monkeypatch.setattr(netguard, "resolve", lambda host, p: ["8.8.8.8"])
    monkeypatch.setattr(urllib3.util.connection, "create_connection", fake_connect)
    try:
        options = FetchOptions(retries=0, allow=AllowList())
        with session(options) as http:
            http.verify = str(cert_file)
            body = read_body(http, f"https://kb-test.example:{port}/x", options, 1000)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert connected == [("8.8.8.8", port)]
    assert seen_sni == ["kb-test.example"]
    assert body.data == f"host=kb-test.example:{port}".encode()


def test_a_session_without_the_guard_is_refused(internal):
    import requests

    options = FetchOptions(retries=0, allow=AllowList.parse("127.0.0.1"))
    with requests.Session() as plain, pytest.raises(FetchError) as caught:
        read_body(plain, f"{internal.url}/x", options, 1000)
    assert caught.value.kind is Failure.NOT_ALLOWED and internal.hits == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/"])
def test_a_redirect_to_another_scheme_is_refused(monkeypatch, target):
    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.1")
    options = FetchOptions(retries=0)
    with serve(Redirector()) as site, session(options) as http:
        site.target = target
        with pytest.raises(FetchError) as caught:
            read_body(http, f"{site.url}/moved", options, 1000)
    assert caught.value.kind is Failure.NOT_ALLOWED
