"""The local review server behind ``kanalml review`` (Starlette on uvicorn: the ``review`` extra).

It owns the HTTP side only: routes, the access token for a non-loopback host,
the CSRF token, security headers, and binding the socket. What the page shows
and how decisions reach the disk are :mod:`kanalml.review`'s; it knows nothing
about scoring.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
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
TOKEN_COOKIE = "kanalml_token"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the page is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Guard(BaseHTTPMiddleware):
    """Access token (non-loopback hosts), allowed Host names (loopback: no DNS rebinding), the
    CSRF token on every POST, and the security headers on every answer."""

    def __init__(self, app: Any, *, token: str | None, hosts: set[str] | None,
                 csrf: str) -> None:
        super().__init__(app)
        self.token, self.hosts, self.csrf = token, hosts, csrf

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        answer = self._refuse(request)
        if answer is None:
            answer = await call_next(request)
            given = request.query_params.get("token")
            if self.token and given and hmac.compare_digest(given, self.token):
                answer.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        answer.headers.update(HEADERS)
        return answer

    def _refuse(self, request: Request) -> Response | None:
        if self.hosts is not None and request.headers.get("host", "") not in self.hosts:
            return PlainTextResponse("unknown Host", status_code=421)
        if self.token:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(given, self.token):
                return PlainTextResponse("open the URL with the token printed at start",
                                         status_code=403)
        if request.method != "GET":
            origin = request.headers.get("origin")
            if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
                return PlainTextResponse("cross-origin request", status_code=403)
            if not hmac.compare_digest(request.headers.get("x-csrf-token", ""), self.csrf):
                return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        return None


def create_app(items: list[dict[str, Any]], log: DecisionStore, *, name: str, reviewer: str,
               token: str | None = None, hosts: set[str] | None = None) -> Starlette:
    """The review app over ``items``, writing decisions to ``log`` as ``reviewer``."""
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

    async def body(request: Request) -> dict[str, Any] | None:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return None
        try:
            data = json.loads(await request.body())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def decide(request: Request) -> Response:
        data = await body(request)
        if data is None or data.get("label") not in (0, 1) or isinstance(data["label"], bool):
            return PlainTextResponse("expected JSON {key, label: 0 or 1}", status_code=400)
        return decision(data.get("key"), data["label"])

    async def undo(request: Request) -> Response:
        data = await body(request)
        if data is None:
            return PlainTextResponse("expected JSON {key}", status_code=400)
        return decision(data.get("key"), None)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route("/", index), Route("/favicon.ico", no_icon), Route("/static/{file}", asset),
              Route("/api/queue", queue), Route("/api/decide", decide, methods=["POST"]),
              Route("/api/undo", undo, methods=["POST"])]
    return Starlette(routes=routes, middleware=[
        Middleware(_Guard, token=token, hosts=hosts, csrf=csrf)])


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
