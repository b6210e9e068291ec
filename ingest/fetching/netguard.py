"""What a fetch may connect to: public addresses only, unless the operator
allow-lists more (``KB_FETCH_ALLOW``).

Every request of ``python -m ingest fetch``, of a document added by address
on the page, and of any other fetch made through :func:`guarded_session`
goes through :class:`GuardedAdapter`, which for each request (so for each
redirect hop, which ingest/fetching/httpread.py follows itself):

1. parses the address: http or https only; a host written as a number in an
   unusual spelling (``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
   ``127.1``) is refused outright, as are ``localhost`` and ``*.localhost``;
2. resolves the host (:func:`resolve`) and refuses it when *any* of its
   addresses is not a public one (:func:`refusal`): loopback, private,
   link-local (169.254.0.0/16, cloud metadata), unique-local, unspecified,
   multicast, reserved, shared (100.64.0.0/10), or one of those inside an
   IPv4-mapped, IPv4-compatible, 6to4, Teredo or NAT64 address;
3. connects to the address it checked (the connection is pinned to it: no
   second DNS answer), while the ``Host`` header, TLS SNI and certificate
   check still use the name.

The allow-list (``KB_FETCH_ALLOW``, comma-separated): host names (``intra.example.fi``;
``.example.fi`` for a domain and its sub-domains) and addresses or CIDR
ranges (``10.1.0.0/16``, ``127.0.0.1``). An allow-listed name may resolve to
any address; an address in an allow-listed range may be connected to.

Proxies from the environment are not used: a proxy would resolve the name
itself, past the check.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import logging
import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection

from kb.errors import KBError

__all__ = [
    "ALLOW_ENV",
    "AllowList",
    "GuardedAdapter",
    "NotAllowedError",
    "Refusal",
    "Target",
    "check_url",
    "guarded_session",
    "refusal",
    "resolve",
]

logger = logging.getLogger(__name__)

ALLOW_ENV = "KB_FETCH_ALLOW"
SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# An IPv4 address written as numbers other than four decimal parts.
_NUMERIC_PART = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; is_global is False too


class Refusal(enum.Enum):
    """Why an address may not be fetched."""

    SCHEME = "not an http or https address"
    NUMERIC = "an IP address in an unusual spelling"
    LOCAL_NAME = "a local host name"
    INTERNAL = "an internal address"
    NO_HOST = "no host in the address"
    UNGUARDED = "a session without this guard"


class NotAllowedError(KBError):
    """An address a fetch may not connect to; ``reason`` says why (no bytes of any answer)."""

    def __init__(self, url: str, why: Refusal, detail: str = "") -> None:
        reason = f"not allowed: {why.value}" + (f" ({detail})" if detail else "")
        super().__init__(reason)
        self.url = url
        self.why = why
        self.reason = reason


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks the operator allows beyond public addresses."""

    names: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """From ``KB_FETCH_ALLOW``'s syntax; KBError on an entry that is neither."""
        names, networks = [], []
        for raw in (text or "").split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if not re.fullmatch(r"\.?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", entry):
                raise KBError(f"{ALLOW_ENV}: {raw.strip()!r} is not a host name, address or range")
            names.append(entry.rstrip("."))
        return cls(tuple(names), tuple(networks))

    @classmethod
    def from_env(cls) -> AllowList:
        return cls.parse(os.environ.get(ALLOW_ENV, ""))

    def allows_name(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(
            host == n or (n.startswith(".") and (host.endswith(n) or host == n[1:]))
            for n in self.names
        )

    def allows_ip(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


@dataclass(frozen=True)
class Target:
    """A checked address: connect to ``ip``, speak to ``host``."""

    url: str
    scheme: str
    host: str
    port: int
    ip: str


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address (a short phrase), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = refusal(inner)
            return f"{why}, inside an IPv6 address" if why else None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared", isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("not global", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64) or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # NAT64, or ::a.b.c.d
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to play DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_numeric_spelling(host: str) -> bool:
    parts = host.split(".")
    return all(_NUMERIC_PART.fullmatch(p) for p in parts if p) and any(parts)


def check_url(url: str, allow: AllowList | None = None) -> Target:
    """The address to connect to for ``url``; NotAllowedError when it may not
    be fetched; OSError (socket.gaierror) when its host does not resolve."""
    allow = AllowList.from_env() if allow is None else allow
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise NotAllowedError(url, Refusal.SCHEME)
    try:
        host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:  # a port that is no number
        raise NotAllowedError(url, Refusal.NO_HOST, str(exc)) from exc
    if not host:
        raise NotAllowedError(url, Refusal.NO_HOST)
    host = host.rstrip(".").split("%")[0]
    literal = _literal(host)
    if literal is None and _is_numeric_spelling(host):
        raise NotAllowedError(url, Refusal.NUMERIC, host)
    named_ok = literal is None and allow.allows_name(host)
    if literal is None and not named_ok and (host == "localhost" or host.endswith(".localhost")):
        raise NotAllowedError(url, Refusal.LOCAL_NAME, host)
    ips = [str(literal)] if literal is not None else resolve(host, port)
    if not ips:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
    for text in ips:
        ip = ipaddress.ip_address(text.split("%")[0])
        why = None if named_ok or allow.allows_ip(ip) else refusal(ip)
        if why:
            shown = host if host == str(ip) else f"{host} = {ip}"
            raise NotAllowedError(url, Refusal.INTERNAL, f"{shown} is {why}")
    return Target(url, scheme, host, port, ips[0])


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# ---------------------------------------------------------------- pinned connections


class _Pinned:
    """A urllib3 connection that connects to ``pinned_ip`` instead of
    resolving its host again; everything else (Host header, SNI, the
    certificate's name) keeps the host name."""

    pinned_ip: str = ""

    def _new_conn(self):
        name = self._dns_host
        self._dns_host = self.pinned_ip
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


@functools.cache
def _pinned_class(base: type, ip: str) -> type:
    return type(f"Pinned{base.__name__}", (_Pinned, base), {"pinned_ip": ip})


class GuardedAdapter(HTTPAdapter):
    """requests' adapter that checks every request's address (check_url)
    and pins its connections to the address checked."""

    def __init__(self, allow: AllowList | None = None, **kw) -> None:
        self.allow = AllowList.from_env() if allow is None else allow
        super().__init__(**kw)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        target = check_url(request.url, self.allow)
        pool = super().get_connection_with_tls_context(request, verify, None, cert)
        base = HTTPSConnection if target.scheme == "https" else HTTPConnection
        pool.ConnectionCls = _pinned_class(base, target.ip)
        logger.debug("%s:%s pinned to %s", target.host, target.port, target.ip)
        return pool


def guarded_session(allow: AllowList | None = None, **adapter_kw) -> requests.Session:
    """A requests session whose every connection is checked and pinned.
    It does not follow redirects by itself when asked with
    ``allow_redirects=False``; each hop it is asked for is checked."""
    s = requests.Session()
    s.trust_env = False  # no proxy from the environment: it would resolve past the check
    adapter = GuardedAdapter(allow, **adapter_kw)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s
