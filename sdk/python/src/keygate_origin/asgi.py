"""ASGI middleware: verifies keygate's signature on every HTTP request and
puts the Identity in ``scope["state"]["keygate"]`` (Starlette and FastAPI:
``request.state.keygate``) and ``scope["keygate"]``; answers 401
problem+json naming the rule otherwise.

Invariant: the wrapped app runs only for a request that verified. The body
is read only when a Content-Digest is signed (at most ``max_body`` bytes,
default 16 MiB), and then replayed to the app unchanged. WebSocket and lifespan scopes pass through untouched (keygate
signs a WebSocket upgrade like any request, but check it in your handler).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional
from urllib.parse import quote

from . import _problem
from ._verify import KeygateError, Request, Verifier


def request_from_scope(scope: dict, body: Optional[Callable[[], Awaitable[bytes]]] = None) -> Request:
    """The framework-neutral Request of an ASGI HTTP scope."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1").partition("?")[0] if raw_path else quote(scope.get("root_path", "") + scope["path"])
    query = scope.get("query_string", b"").decode("latin-1") or None
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"host"), "")
    return Request(method=scope["method"], authority=host, path=path, query=query, headers=scope["headers"], body=body or b"")


class KeygateMiddleware:
    """``app = KeygateMiddleware(app, Verifier(secret=..., products=[...]))``."""

    def __init__(self, app: Callable, verifier: Verifier, max_body: int = 16 << 20) -> None:
        self.app = app
        self.verifier = verifier
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        messages: list = []

        async def body() -> bytes:
            chunks, length = [], 0
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                length += len(chunks[-1])
                if length > self.max_body:
                    raise KeygateError("body_unavailable", f"the body is longer than {self.max_body} bytes")
                if not message.get("more_body", False):
                    break
            return b"".join(chunks)

        try:
            identity = await self.verifier.verify_async(request_from_scope(scope, body))
        except KeygateError as error:
            payload = _problem.body(error.rule)
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", _problem.CONTENT_TYPE.encode()), (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        scope.setdefault("state", {})["keygate"] = identity
        scope["keygate"] = identity

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
