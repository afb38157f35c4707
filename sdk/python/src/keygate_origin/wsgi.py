"""WSGI middleware: verifies keygate's signature on every request and puts
the Identity in ``environ["keygate.identity"]``; answers 401 problem+json
naming the rule otherwise.

Invariant: the wrapped app runs only for a request that verified. The body
is read only when a Content-Digest is signed (``CONTENT_LENGTH`` bytes, at
most ``max_body``; PEP 3333 gives no other end), and then handed on to the
app as a fresh ``wsgi.input``. The path is the server's raw request target
(``RAW_URI`` under gunicorn, ``REQUEST_URI`` elsewhere) when it gives one;
otherwise ``SCRIPT_NAME + PATH_INFO`` re-encoded, which is exact for every
path keygate forwards unless it holds percent-encoded bytes.
"""

from __future__ import annotations

import io
from typing import Any, Callable, Iterable
from urllib.parse import quote

from . import _problem
from ._verify import Identity, KeygateError, Request, Verifier


def request_from_environ(environ: dict, max_body: int = 16 << 20) -> Request:
    """The framework-neutral Request of a WSGI environ (body read lazily)."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target:
        path, _, query = target.partition("?")
        query = query if "?" in target else None
    else:
        raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
        path = quote(raw, safe="/:@!$&'()*+,;=-._~")
        query = environ.get("QUERY_STRING") or None
    headers = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers.append((name, environ[key]))

    def body() -> bytes:
        stream = environ["wsgi.input"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= max_body:
            raise KeygateError("body_unavailable", f"Content-Length is not a length up to {max_body} bytes")
        data = stream.read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(data)
        return data

    return Request(
        method=environ["REQUEST_METHOD"],
        authority=environ.get("HTTP_HOST", ""),
        path=path or "/",
        query=query,
        headers=headers,
        body=body,
    )


class KeygateMiddleware:
    """``app = KeygateMiddleware(app, Verifier(secret=..., products=[...]))``."""

    def __init__(self, app: Callable, verifier: Verifier, max_body: int = 16 << 20) -> None:
        self.app = app
        self.verifier = verifier
        self.max_body = max_body

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            identity: Identity = self.verifier.verify(request_from_environ(environ, self.max_body))
        except KeygateError as error:
            body = _problem.body(error.rule)
            start_response(_problem.STATUS, [("Content-Type", _problem.CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        environ["keygate.identity"] = identity
        return self.app(environ, start_response)
