"""What keeps other web pages and other hosts from driving the dashboard (see docs/security.md).

The dashboard listens on 127.0.0.1 behind a login token that becomes a cookie. A browser still sends that cookie
with requests another page makes to the dashboard, so every request passes these checks:

* **Host**: a malformed ``Host`` header (no browser sends one) is refused, and so is a host name the dashboard
  does not serve — a page on another site could resolve its own name to 127.0.0.1 (DNS rebinding).
* **Origin**: a state-changing request (POST, PUT, PATCH, DELETE) must come from the dashboard's own origin —
  scheme, host *and* port — told by its ``Origin`` header, else its ``Referer``. ``Origin: null`` (sandboxed
  frames, ``file:`` pages, some redirects) and a request carrying neither header are refused: any other web page on
  this machine, on any port, is another origin.
* **CSRF token**: on top, every state-changing request carries a token only the dashboard's own pages know: a
  hidden ``csrf_token`` field in every POST form (put there when the templates load, so a new form gets it too)
  and an ``X-CSRF-Token`` header on the JavaScript's ``fetch`` calls (``static/csrf.js``).
* **Cookie**: ``HttpOnly; SameSite=Strict`` (and ``Secure`` when served over https), so no script reads it and no
  other site's request carries it.

Scripts that send the token as ``Authorization: Bearer …`` are exempt from the Origin and CSRF-token checks: a
browser never adds that header by itself, so another page cannot forge such a request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from jinja2.ext import Extension

COOKIE = "qbsf_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# RFC 7230 Host: a registered name or IPv4 address, or an IPv6 literal in brackets, then an optional port.
_HOST = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?))"
                   r"(?::(?P<port>[0-9]{1,5}))?")
# An opening <form …> tag whose quoted attribute values may hold '>' (data-confirm texts).
_FORM_TAG = re.compile(r"<form\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
_POST_METHOD = re.compile(r"\bmethod\s*=\s*[\"']?post\b", re.IGNORECASE)
_HEAD_TAG = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Origin:
    """A web origin: scheme, lower-case host and port (the scheme's default when none is written)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{shown}:{self.port}"


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``"127.0.0.1:8765"`` → ``("127.0.0.1", 8765)``; None for anything a browser would never send."""
    match = _HOST.fullmatch(value)
    if match is None:
        return None
    port_text = match.group("port")
    port = int(port_text) if port_text is not None else None
    if port is not None and not 0 < port <= 65535:
        return None
    if match.group("ip6") is not None:
        try:
            host = str(ipaddress.IPv6Address(match.group("ip6")))
        except ValueError:
            return None
    else:
        host = match.group("name").lower()
        if ".." in host:
            return None
    return host, port


def parse_origin(value: str) -> Origin | None:
    """An ``Origin`` header (``scheme://host[:port]``, nothing more) as an :class:`Origin`; None if malformed."""
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        return None
    parsed = parse_host(rest)
    if parsed is None:
        return None
    host, port = parsed
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme])


def referer_origin(value: str) -> Origin | None:
    """The origin a ``Referer`` URL was on; None if it is not an http(s) URL."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parse_origin(f"{parts.scheme}://{parts.netloc}")


def own_origin(scheme: str, host_header: str) -> Origin | None:
    """The dashboard's origin as this request reached it: its scheme, and the host and port of its Host header."""
    parsed = parse_host(host_header)
    if parsed is None or scheme not in DEFAULT_PORTS:
        return None
    host, port = parsed
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme])


def check_host(headers: Iterable[tuple[bytes, bytes]], allowed_hosts: Iterable[str]) -> str:
    """Why the request's Host header is refused, or "" when it is one well-formed header naming an allowed host."""
    hosts = [value for name, value in headers if name.lower() == b"host"]
    if len(hosts) != 1:
        return "Malformed Host header: a request carries exactly one"
    try:
        text = hosts[0].decode("ascii")
    except UnicodeDecodeError:
        return "Malformed Host header"
    parsed = parse_host(text)
    if parsed is None:
        return "Malformed Host header"
    allowed = {_normal_host(host) for host in allowed_hosts}
    if parsed[0] not in allowed:
        return "Host not allowed"
    return ""


def _normal_host(host: str) -> str:
    host = host.strip("[]").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def check_same_origin(method: str, scheme: str, headers: Any) -> str:
    """Why a state-changing request is refused as cross-site, or "" when it comes from the dashboard's own origin.

    ``headers`` is the request's header mapping (case-insensitive ``get``).
    """
    if method.upper() in SAFE_METHODS:
        return ""
    own = own_origin(scheme, headers.get("host", ""))
    if own is None:
        return "Malformed Host header"
    origin = headers.get("origin")
    if origin is not None:
        if origin.strip() == "null":
            return "Cross-site request refused: Origin null (a sandboxed frame or a local file)"
        theirs = parse_origin(origin.strip())
        if theirs != own:
            return f"Cross-site request refused: it came from {theirs or 'a malformed Origin'}, not {own}"
        return ""
    referer = headers.get("referer")
    if referer is not None:
        theirs = referer_origin(referer.strip())
        if theirs != own:
            return f"Cross-site request refused: it came from {theirs or 'a malformed Referer'}, not {own}"
        return ""
    return "Cross-site request refused: it carries neither an Origin nor a Referer header"


def same_secret(offered: str, secret: str) -> bool:
    """Constant-time comparison; bytes, so a non-ASCII guess is a plain mismatch (str compare_digest raises)."""
    return hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), secret.encode("utf-8"))


def csrf_token(login_token: str) -> str:
    """The CSRF token of a dashboard: derived from its login token, so knowing it does not log anyone in."""
    return hmac.new(login_token.encode("utf-8"), b"qbsf dashboard csrf token", hashlib.sha256).hexdigest()


def set_session_cookie(response: Response, token: str, *, scheme: str) -> None:
    """The login cookie: never readable by scripts, never sent by another site's request, https-only over TLS."""
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=scheme == "https", path="/")


def add_security_headers(response: Response) -> None:
    """No framing by other pages (clickjacking), no content sniffing, no Referer to other sites."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


def _bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    return value[7:] if value.lower().startswith("bearer ") else ""


async def guard(request: Request, call_next: Callable[[Request], Any], *, token: str,
                allowed_hosts: Iterable[str], locked: Callable[[], Response]) -> Response:
    """The dashboard's middleware: Host check, token login (query → cookie), cookie or bearer check, same origin."""
    # DNS rebinding: a page on another site could resolve its name to 127.0.0.1; refuse foreign Host headers.
    problem = check_host(request.scope.get("headers", []), allowed_hosts)
    if problem:
        return _refused(problem, 400)
    if request.url.path.startswith("/static/"):
        return await call_next(request)
    offered = request.query_params.get("token")
    if offered is not None and same_secret(offered, token) and request.method in SAFE_METHODS:
        rest = {k: v for k, v in request.query_params.items() if k != "token"}
        target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(response, token, scheme=request.url.scheme)
        add_security_headers(response)
        return response
    bearer = _bearer(request)
    via_bearer = bool(bearer) and same_secret(bearer, token)
    if not (same_secret(request.cookies.get(COOKIE, ""), token) or via_bearer):
        response = locked()
        add_security_headers(response)
        return response
    origin = request.headers.get("origin")
    if not via_bearer or (origin is not None and request.method not in SAFE_METHODS):
        problem = check_same_origin(request.method, request.url.scheme, request.headers)
        if problem:
            return _refused(problem, 403)
    request.state.via_bearer = via_bearer
    response = await call_next(request)
    add_security_headers(response)
    return response


def _refused(reason: str, status: int) -> Response:
    response = Response(f"{reason}\n", status_code=status, media_type="text/plain; charset=utf-8")
    add_security_headers(response)
    return response


def require_csrf_token(token: Callable[[], str]) -> Callable[[Request], Any]:
    """A FastAPI dependency refusing a state-changing request without the dashboard's CSRF token (403)."""

    async def check(request: Request) -> None:
        if request.method in SAFE_METHODS or getattr(request.state, "via_bearer", False):
            return
        expected = csrf_token(token())
        offered = request.headers.get(CSRF_HEADER)
        if offered is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            offered = value if isinstance(value, str) else ""
        if not same_secret(offered, expected):
            raise HTTPException(status_code=403, detail="The dashboard page was out of date (its form token did not "
                                                        "match): reload the dashboard and try again")

    return check


class CsrfFormExtension(Extension):
    """Adds the CSRF token to every ``<form method="post">`` and a ``<meta name="csrf-token">`` + ``csrf.js`` to
    every ``<head>`` as templates load — a form added to any template later is covered without remembering to."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        def form(match: re.Match[str]) -> str:
            tag = match.group(0)
            if not _POST_METHOD.search(tag):
                return tag
            return f'{tag}<input type="hidden" name="{CSRF_FIELD}" value="{{{{ {CSRF_FIELD} }}}}">'

        source = _FORM_TAG.sub(form, source)
        return _HEAD_TAG.sub(lambda m: f'{m.group(0)}\n  <meta name="csrf-token" content="{{{{ {CSRF_FIELD} }}}}">'
                                       '\n  <script src="/static/csrf.js"></script>', source, count=1)


def protect_templates(templates: Any, token: str) -> None:
    """Give ``templates`` (a Jinja2Templates) the CSRF token: hidden form fields, meta tag and header script."""
    templates.env.add_extension(CsrfFormExtension)
    templates.env.globals[CSRF_FIELD] = csrf_token(token)
