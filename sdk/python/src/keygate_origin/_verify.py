"""Verifies the RFC 9421 signature keygate puts on every request it forwards,
and returns the identity it vouches for.

Standard library only. Invariants: every rule docs/origin.md lists is
checked before an identity is returned; a nonce is remembered only once
everything else verified; the MAC is compared with ``hmac.compare_digest``;
keys and secrets never appear in an error, a repr or a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Mapping, Optional, Protocol, Union

LABEL = "keygate"
ALG = "hmac-sha256"
SALT = b"keygate/rfc9421/origin-key/v1"
REQUIRED = ("@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id")
MIN_SECRET_LENGTH = 32

#: Each rule a request can fail, by its stable code (see KeygateError).
RULES = (
    "malformed",
    "algorithm",
    "unknown_product",
    "product_mismatch",
    "not_covered",
    "missing_header",
    "uncovered_header",
    "expired",
    "not_yet_valid",
    "nonce_mismatch",
    "digest_required",
    "digest_mismatch",
    "body_unavailable",
    "signature_mismatch",
    "replay",
    "nonce_store_full",
)


class KeygateError(Exception):
    """A request keygate's signature does not vouch for. ``rule`` is one of RULES."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule


@dataclass(frozen=True)
class Identity:
    """What keygate vouches for. Key fields are ``None`` on a public path."""

    product: str
    key_id: Optional[str]
    account: Optional[str]
    environment: Optional[str]
    scopes: tuple
    meta: Optional[dict]
    client_ip: Optional[str]
    request_id: str
    created: int
    expires: int


class NonceStore(Protocol):
    """Remembers nonces until they expire.

    ``remember`` must be atomic: store ``nonce`` until ``expires`` (Unix
    seconds) and return True, or return False when it is already stored (a
    replay). It may be a coroutine function when used through
    ``verify_async`` (ASGI, FastAPI). With Redis:
    ``redis.set("keygate:" + nonce, 1, nx=True, exat=expires) is not None``.
    Raise ``KeygateError("nonce_store_full", ...)`` to refuse when full.
    """

    def remember(self, nonce: str, expires: int, now: int) -> Union[bool, Awaitable[bool]]: ...


class MemoryNonceStore:
    """In-memory NonceStore for one process: bounded, expiring, thread-safe."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._seen: dict = {}
        self._lock = threading.Lock()

    def remember(self, nonce: str, expires: int, now: int) -> bool:
        with self._lock:
            seen = self._seen.get(nonce)
            if seen is not None and seen >= now:
                return False
            if len(self._seen) >= self.capacity:
                for n in [n for n, e in self._seen.items() if e < now]:
                    del self._seen[n]
                if len(self._seen) >= self.capacity:
                    # Forgetting an unexpired nonce would reopen its replay window.
                    raise KeygateError("nonce_store_full", f"more than {self.capacity} unexpired nonces")
            self._seen.pop(nonce, None)
            self._seen[nonce] = expires
            return True

    def __len__(self) -> int:
        return len(self._seen)


#: The store a Verifier uses when given none: one per process.
default_nonce_store = MemoryNonceStore()

Body = Union[bytes, Callable[[], bytes], Callable[[], Awaitable[bytes]]]


@dataclass
class Request:
    """A request as the origin received it, framework-neutral.

    ``path`` is as received (not decoded), without the query; ``query`` is
    the query without ``?``, or None; ``headers`` every field line (name in
    any case, value); ``body`` the bytes or a function returning them, read
    only when a digest is checked.
    """

    method: str
    authority: str
    path: str
    query: Optional[str]
    headers: Union[Iterable, Mapping]
    body: Body = b""


def product_key(secret: str, product: str) -> bytes:
    """HKDF-SHA256(IKM = the secret trimmed, salt = SALT, info = product id), 32 bytes."""
    trimmed = secret.strip()
    if len(trimmed) < MIN_SECRET_LENGTH:
        raise ValueError(f"KEYGATE_ORIGIN_SECRET must be at least {MIN_SECRET_LENGTH} characters long")
    prk = hmac.new(SALT, trimmed.encode(), hashlib.sha256).digest()
    return hmac.new(prk, product.encode() + b"\x01", hashlib.sha256).digest()


def content_digest(body: bytes) -> str:
    """RFC 9530 Content-Digest as keygate writes it: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


_SF_STRING = re.compile(r'"([\x20\x21\x23-\x5b\x5d-\x7e]*)"\Z')
_COMPONENT = re.compile(r"(@method|@authority|@path|@query|[a-z0-9!#$%&'*+\-.^_`|~]+)\Z")
_INTEGER = re.compile(r"-?[0-9]{1,15}\Z")
_INPUT = re.compile(r"\(([^()]*)\)(.*)\Z", re.S)
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):\Z")


def _members(value: str) -> Optional[list]:
    if len(value) > 8192:
        return None
    out, start, depth, quoted = [], 0, 0, False
    for i, c in enumerate(value):
        if quoted:
            if c == "\\":
                return None  # keygate never escapes
            if c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "," and depth == 0:
            out.append(value[start:i])
            start = i + 1
    out.append(value[start:])
    pairs = []
    for m in out:
        name, eq, rest = m.strip().partition("=")
        if not eq or not name:
            return None
        pairs.append((name, rest))
    return pairs


def _only(value: Optional[str]) -> str:
    members = None if value is None else _members(value)
    if not members or len(members) != 1 or members[0][0] != LABEL:
        raise KeygateError("malformed", "expected exactly one signature, labelled keygate")
    return members[0][1]


@dataclass
class _Input:
    components: list
    created: int
    expires: int
    nonce: str
    keyid: str
    alg: str
    params: str


def _parse_input(member: str) -> _Input:
    def bad(why: str) -> KeygateError:
        return KeygateError("malformed", f"Signature-Input: {why}")

    m = _INPUT.match(member)
    if not m:
        raise bad("not an inner list")
    components: list = []
    for item in filter(None, m.group(1).split(" ")):
        s = _SF_STRING.match(item)
        if not s or not _COMPONENT.match(s.group(1)):
            raise bad(f"component {item}")
        if s.group(1) in components:
            raise bad(f"component {s.group(1)} twice")
        components.append(s.group(1))
    values: dict = {}
    params = "(" + " ".join(f'"{c}"' for c in components) + ")"
    rest = m.group(2)
    if rest:
        if not rest.startswith(";"):
            raise bad("parameters")
        for p in rest[1:].split(";"):
            name, eq, raw = p.partition("=")
            name = name.strip()
            if not eq or name in values:
                raise bad("parameters")
            if name in ("created", "expires"):
                if not _INTEGER.match(raw):
                    raise bad(name)
                values[name] = int(raw)
                params += f";{name}={values[name]}"
            elif name in ("nonce", "keyid", "alg"):
                s = _SF_STRING.match(raw)
                if not s:
                    raise bad(name)
                values[name] = s.group(1)
                params += f';{name}="{values[name]}"'
            else:
                raise bad(f"unknown parameter {name}")
    for name in ("created", "expires", "nonce", "keyid", "alg"):
        if name not in values:
            raise bad(f"no {name}")
    return _Input(components, values["created"], values["expires"], values["nonce"], values["keyid"], values["alg"], params)


def _collect(headers: Union[Iterable, Mapping]) -> dict:
    """Header values by lowercase name, several lines joined by ", ", trimmed."""
    items = headers.items() if hasattr(headers, "items") else headers
    out: dict = {}
    for name, value in items:
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        n, v = name.lower(), value.strip(" \t")
        out[n] = f"{out[n]}, {v}" if n in out else v
    return out


def _is_reserved(name: str) -> bool:
    return name.replace("_", "-").startswith("keygate-")


class Verifier:
    """Checks keygate signatures with reusable state: the keys (derived once)
    and the nonce store. Build one per process.

    Give ``secret`` (KEYGATE_ORIGIN_SECRET) and ``products`` (the products
    this origin serves), or ``keys`` ({product: base64 key from
    ``keygate origin-key``, or 32 bytes}). ``sign_body``: True, or the
    products that set ``sign_body = true``, whose signatures must cover
    ``content-digest``. ``max_skew``: seconds ``created`` may lie ahead.
    ``authority``: the host keygate signed, when a proxy rewrites Host.
    """

    def __init__(
        self,
        *,
        secret: Optional[str] = None,
        products: Iterable = (),
        keys: Optional[Mapping] = None,
        sign_body: Union[bool, Iterable] = False,
        max_skew: int = 5,
        nonces: Optional[Any] = None,
        authority: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys: dict = {}
        if secret is not None:
            products = list(products)
            if not products:
                raise ValueError("with secret, name the products this origin serves")
            for p in products:
                self._keys[p] = product_key(secret, p)
        for product, key in (keys or {}).items():
            raw = key
            if isinstance(key, str):
                try:
                    raw = base64.b64decode(key.strip(), validate=True)
                except (binascii.Error, ValueError):
                    raw = b""
            if not isinstance(raw, bytes) or len(raw) != 32:
                raise ValueError(f"the key for {product} is not 32 bytes of base64")
            self._keys[product] = raw
        if not self._keys:
            raise ValueError("give secret and products, or keys")
        self._sign_body = sign_body if isinstance(sign_body, bool) else frozenset(sign_body)
        self._skew = max_skew
        self.nonces = nonces if nonces is not None else default_nonce_store
        self._authority = authority.lower() if authority else None
        self._clock = clock

    def __repr__(self) -> str:
        return f"Verifier(products={sorted(self._keys)!r})"

    def _signs_body(self, product: str) -> bool:
        return self._sign_body if isinstance(self._sign_body, bool) else product in self._sign_body

    def _check(self, request: Request) -> tuple:
        """Every rule up to the body digest; returns what the rest needs."""
        headers = _collect(request.headers)
        inp = _parse_input(_only(headers.get("signature-input")))
        presented = _BYTES.match(_only(headers.get("signature")))
        try:
            mac = base64.b64decode(presented.group(1), validate=True) if presented else None
        except (binascii.Error, ValueError):
            mac = None
        if mac is None:
            raise KeygateError("malformed", "Signature is not a byte sequence")
        if inp.alg != ALG:
            raise KeygateError("algorithm", f"alg {inp.alg!r} is not {ALG}")
        key = self._keys.get(inp.keyid)
        if key is None:
            raise KeygateError("unknown_product", f"this origin does not serve {inp.keyid!r}")
        if headers.get("keygate-product") != inp.keyid:
            raise KeygateError("product_mismatch", "keyid is not the Keygate-Product header")
        for c in REQUIRED:
            if c not in inp.components:
                raise KeygateError("not_covered", f"{c} is not covered")
        for name in headers:
            if (_is_reserved(name) or name == "content-digest") and name not in inp.components:
                raise KeygateError("uncovered_header", f"{name} is not signed")
        now = int(self._clock())
        if now > inp.expires:
            raise KeygateError("expired", "the signature has expired")
        if inp.created - self._skew > now:
            raise KeygateError("not_yet_valid", "created is in the future")
        if headers.get("keygate-request-id") != inp.nonce:
            raise KeygateError("nonce_mismatch", "nonce is not the Keygate-Request-Id header")
        digested = "content-digest" in inp.components
        if not digested and self._signs_body(inp.keyid):
            raise KeygateError("digest_required", f"{inp.keyid} signs bodies, but content-digest is not covered")
        lines = []
        for c in inp.components:
            if c == "@method":
                value = request.method
            elif c == "@authority":
                value = (self._authority or request.authority).lower()
            elif c == "@path":
                value = request.path or "/"
            elif c == "@query":
                value = "?" + (request.query or "")
            else:
                value = headers.get(c)
            if value is None:
                raise KeygateError("missing_header", f"covered header {c} is absent")
            lines.append(f'"{c}": {value}')
        lines.append(f'"@signature-params": {inp.params}')
        return headers, inp, key, mac, "\n".join(lines), digested, now

    def _finish(self, headers: dict, inp: _Input, key: bytes, mac: bytes, base: str, digested: bool, body: Optional[bytes]) -> Identity:
        if digested and headers.get("content-digest") != content_digest(body or b""):
            raise KeygateError("digest_mismatch", "Content-Digest does not match the body")
        expected = hmac.new(key, base.encode("latin-1", "replace"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, mac):
            raise KeygateError("signature_mismatch", "the signature does not match")
        return _identity(headers, inp)

    def verify(self, request: Request) -> Identity:
        """Verifies a request; returns its Identity or raises KeygateError."""
        headers, inp, key, mac, base, digested, now = self._check(request)
        body = None
        if digested:
            body = request.body() if callable(request.body) else request.body
            if inspect.isawaitable(body):
                raise TypeError("an async body needs verify_async")
        identity = self._finish(headers, inp, key, mac, base, digested, body)
        fresh = self.nonces.remember(inp.nonce, inp.expires, now)
        if inspect.isawaitable(fresh):
            raise TypeError("an async nonce store needs verify_async")
        if not fresh:
            raise KeygateError("replay", "nonce already used")
        return identity

    async def verify_async(self, request: Request) -> Identity:
        """As verify, for an async body reader or nonce store."""
        headers, inp, key, mac, base, digested, now = self._check(request)
        body = None
        if digested:
            body = request.body() if callable(request.body) else request.body
            if inspect.isawaitable(body):
                body = await body
        identity = self._finish(headers, inp, key, mac, base, digested, body)
        fresh = self.nonces.remember(inp.nonce, inp.expires, now)
        if inspect.isawaitable(fresh):
            fresh = await fresh
        if not fresh:
            raise KeygateError("replay", "nonce already used")
        return identity


def _identity(headers: dict, inp: _Input) -> Identity:
    meta = None
    if "keygate-key-meta" in headers:
        try:
            meta = json.loads(headers["keygate-key-meta"])
        except ValueError:
            raise KeygateError("malformed", "Keygate-Key-Meta is not JSON") from None
    env = headers.get("keygate-environment")
    return Identity(
        product=inp.keyid,
        key_id=headers.get("keygate-key-id"),
        account=headers.get("keygate-account"),
        environment=env if env in ("live", "test") else None,
        scopes=tuple(s for s in headers.get("keygate-scopes", "").split(" ") if s),
        meta=meta,
        client_ip=headers.get("keygate-client-ip"),
        request_id=inp.nonce,
        created=inp.created,
        expires=inp.expires,
    )


def verify(request: Request, **options: Any) -> Identity:
    """One-off verification: ``verify(request, secret=..., products=[...])``.
    Prefer a long-lived Verifier (keys derived once). Nonces go to
    ``options["nonces"]``, else to the one in-memory store per process."""
    return Verifier(**options).verify(request)
