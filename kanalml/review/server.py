"""The local review server behind ``kanalml review`` (Starlette on uvicorn: the ``review`` extra).

It owns the HTTP side only: routes, the access token (on every host, loopback
included: other accounts on the machine reach loopback too; kept off the browser's
command line by a private redirect page), the CSRF token, request limits, security
headers, and binding the socket. What the page shows
and how decisions reach the disk are :mod:`kanalml.review`'s; it knows nothing
about scoring.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from kanalml.review import STATIC, page_data, safe_json, served_page
from kanalml.review.store import DecisionStore, DecisionStoreError

# Scripts and styles from this server only: no inline script, nothing from elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Cache-Control": "no-store"}
ASSETS = {"review.js": "text/javascript; charset=utf-8", "review.css": "text/css; charset=utf-8"}
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")
MIN_TOKEN_CHARS = 22  # 16 random bytes in base64url
MAX_BODY = 64 * 1024  # a decision is well under 1 KB; a longer body is refused unread


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the page is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of any given text (non-ASCII included) with a secret."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                               expected.encode("utf-8"))


def check_token(token: str) -> str | None:
    """Why ``token`` is not a usable access token, or None: at least :data:`MIN_TOKEN_CHARS`
    URL-safe characters (the 16 random bytes of ``secrets.token_urlsafe(16)``)."""
    if len(token) < MIN_TOKEN_CHARS or not TOKEN_CHARS.fullmatch(token):
        return (f"an access token needs at least {MIN_TOKEN_CHARS} characters of A-Z, a-z, "
                "0-9, - and _ (16 random bytes, e.g. python -c \"import secrets; "
                "print(secrets.token_urlsafe(32))\")")
    return None


def new_token() -> str:
    """A fresh access token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


class _Guard(BaseHTTPMiddleware):
    """The access token (Jupyter's way: ``?token=`` in the printed URL, then a cookie, or an
    ``Authorization: token ...`` header), allowed Host names (loopback: no DNS rebinding), the
    CSRF token on every POST, and the security headers on every answer."""

    def __init__(self, app: Any, *, token: str | None, hosts: set[str] | None,
                 csrf: str, cookie: str) -> None:
        super().__init__(app)
        self.token, self.hosts, self.csrf, self.cookie = token, hosts, csrf, cookie

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        answer = self._refuse(request)
        if answer is None:
            given = request.query_params.get("token")
            if self.token and given is not None and request.url.path == "/":
                # The page: the token becomes a cookie and leaves the address bar and history.
                answer = RedirectResponse("/", status_code=303)
            else:
                answer = await call_next(request)
            if self.token and given is not None:
                answer.set_cookie(self.cookie, self.token, httponly=True, samesite="strict")
        answer.headers.update(HEADERS)
        return answer

    def _given_token(self, request: Request) -> str:
        given = request.query_params.get("token")
        if given is None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "token" else None
        return request.cookies.get(self.cookie, "") if given is None else given

    def _refuse(self, request: Request) -> Response | None:
        if self.hosts is not None and request.headers.get("host", "") not in self.hosts:
            return PlainTextResponse("unknown Host", status_code=421)
        if self.token and not _same(self._given_token(request), self.token):
            return PlainTextResponse("open the URL with the token printed at start",
                                     status_code=403)
        if request.method != "GET":
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
                return PlainTextResponse("cross-origin request", status_code=403)
            if not _same(request.headers.get("x-csrf-token", ""), self.csrf):
                return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        return None


class _BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def read_json(request: Request) -> Any:
    """The request's JSON body: at most :data:`MAX_BODY` bytes (longer ones are not read
    further), UTF-8, of bounded depth; :class:`_BadBody` otherwise."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _BadBody(415, "expected Content-Type: application/json")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise _BadBody(413, f"request body over {MAX_BODY} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise _BadBody(413, f"request body over {MAX_BODY} bytes")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadBody(400, "malformed JSON") from None


def create_app(items: list[dict[str, Any]], log: DecisionStore, *, name: str, reviewer: str,
               token: str | None, hosts: set[str] | None = None,
               cookie: str = "kanalml_token") -> Starlette:
    """The review app over ``items``, writing decisions to ``log`` as ``reviewer``; ``token``
    (None: no token, by the user's explicit choice) guards every request, remembered in the
    cookie ``cookie`` (one per port: cookies do not tell ports apart)."""
    csrf = secrets.token_urlsafe(32)
    by_key = {item["key"]: item for item in items}
    page = served_page(name, csrf)
    assets = {n: (STATIC / n).read_bytes() for n in ASSETS}

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def asset(request: Request) -> Response:
        file = request.path_params["file"]
        if file not in assets:
            return PlainTextResponse("not found", status_code=404)
        return Response(assets[file], media_type=ASSETS[file])

    listed = safe_json(items)  # once; the decisions, which change, per request

    async def queue(request: Request) -> Response:
        body = page_data(listed, name=name, reviewer=reviewer, decisions=log.state)
        return Response(body, media_type="application/json")

    def decision(key: Any, label: int | None) -> Response:
        item = by_key.get(key) if isinstance(key, str) else None
        if item is None:
            return PlainTextResponse("unknown item", status_code=404)
        try:
            decided_at = log.append(item, label, reviewer)  # on disk before the answer
        except DecisionStoreError as exc:  # nothing of it was kept: the page says NOT saved
            return PlainTextResponse(f"not saved: {exc}", status_code=503)
        return JSONResponse({"saved": True, "decided_at": decided_at,
                             "reviewers": log.state.get(key, {})})

    async def body(request: Request, expected: str) -> dict[str, Any] | Response:
        try:
            data = await read_json(request)
        except _BadBody as bad:
            return PlainTextResponse(f"{bad}; {expected}", status_code=bad.status)
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            return PlainTextResponse(expected, status_code=400)
        return data

    async def decide(request: Request) -> Response:
        data = await body(request, "expected JSON {key, label: 0 or 1}")
        if isinstance(data, Response):
            return data
        label = data.get("label")
        if type(label) is not int or label not in (0, 1):  # not 1.0, not true
            return PlainTextResponse("expected JSON {key, label: 0 or 1}", status_code=400)
        return decision(data["key"], label)

    async def undo(request: Request) -> Response:
        data = await body(request, "expected JSON {key}")
        if isinstance(data, Response):
            return data
        return decision(data["key"], None)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route("/", index), Route("/favicon.ico", no_icon), Route("/static/{file}", asset),
              Route("/api/queue", queue), Route("/api/decide", decide, methods=["POST"]),
              Route("/api/undo", undo, methods=["POST"])]
    return Starlette(routes=routes, middleware=[
        Middleware(_Guard, token=token, hosts=hosts, csrf=csrf, cookie=cookie)])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port), so the URL is known before serving."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    return sock


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl+C)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


REDIRECT = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url={url}"><title>kanalml review</title></head>
<body><p>Opening the review page. If nothing happens, <a href="{url}">open it here</a>.</p>
</body></html>
"""


@contextlib.contextmanager
def redirect_page(url: str) -> Iterator[Path]:
    """A page that sends the browser on to ``url``, readable by this user only (in a private
    temporary directory) and removed on exit. The browser opens it instead of ``url``, so
    the token stays out of the browser's command line, which ``ps`` shows every account."""
    directory = Path(tempfile.mkdtemp(prefix="kanalml-review-"))  # mode 0700
    try:
        page = directory / "open.html"
        with os.fdopen(os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                       encoding="utf-8") as f:
            f.write(REDIRECT.format(url=html.escape(url, quote=True)))
        yield page
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """Host header values a loopback server answers (None: any, the token guards it)."""
    if not is_loopback(host):
        return None
    return {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]", host)}


def default_decisions(queue: str | Path) -> Path:
    """``queue.csv`` -> the store ``queue.decisions.sqlite`` beside it (its CSV export:
    ``queue.decisions.csv``)."""
    path = Path(queue)
    name = path.name.split(".")[0] or path.name
    return path.with_name(f"{name}.decisions.sqlite")
