"""keygate-origin: the README's test vector verifies, and each replay case
is refused with its rule; the WSGI, ASGI and FastAPI adapters."""

import asyncio
import base64
import hashlib
import hmac
import io
import json

import pytest

from keygate_origin import KeygateError, MemoryNonceStore, Request, Verifier, product_key, verify
from keygate_origin.asgi import KeygateMiddleware as AsgiMiddleware
from keygate_origin.wsgi import KeygateMiddleware as WsgiMiddleware

# The README's test vector (src/signature/tests.rs asserts the same).
SECRET = "keygate-test-origin-secret-0123456789"
KEY = "VWgn+CerwFD/VvHau0HY2AebG6nW+Mklg6PZoSvUHPE="
NONCE = "0123456789abcdef0123456789abcdef"
CREATED = 1795416000
BODY = b'{"name":"Ada"}'
INPUT = (
    'keygate=("@method" "@authority" "@path" "@query" "keygate-product" "keygate-key-id" "keygate-account" '
    '"keygate-environment" "keygate-scopes" "keygate-request-id" "content-digest" "content-length" "content-type")'
    ';created=1795416000;expires=1795416300;nonce="0123456789abcdef0123456789abcdef";keyid="salesforge";alg="hmac-sha256"'
)
SIGNATURE = "keygate=:l9mBd3My/QvYZQ8uByxV45F94c1lJUvKcrA05WtDS/s=:"
HEADERS = {
    "Host": "origin.salesforge.example",
    "Keygate-Product": "salesforge",
    "Keygate-Key-Id": "key_0c586b3T70e9ieZfx",
    "Keygate-Account": "acct_demo",
    "Keygate-Environment": "live",
    "Keygate-Scopes": "read write",
    "Keygate-Request-Id": NONCE,
    "Content-Digest": "sha-256=:iLq22PbcaKh3Bk1YTLtbbFDnT2F+pQ2B06U8Lub/vE8=:",
    "Content-Length": "14",
    "Content-Type": "application/json",
    "Signature-Input": INPUT,
    "Signature": SIGNATURE,
}


def vector(method="POST", authority="origin.salesforge.example", path="/v2/leads", query="page=2", headers=None, body=BODY):
    merged = {**HEADERS, **(headers or {})}
    return Request(method, authority, path, query, [(k, v) for k, v in merged.items() if v is not None], body)


def verifier(now=CREATED, **options):
    options.setdefault("keys", {"salesforge": KEY})
    return Verifier(nonces=MemoryNonceStore(), clock=lambda: now, **options)


def refused(rule, call):
    with pytest.raises(KeygateError) as caught:
        call()
    assert caught.value.rule == rule, str(caught.value)


def sign(components, values, nonce, key=KEY, product="salesforge", created=CREATED):
    """Signs like keygate, independently of the library."""
    params = "(" + " ".join(f'"{c}"' for c in components) + ")"
    params += f';created={created};expires={created + 300};nonce="{nonce}";keyid="{product}";alg="hmac-sha256"'
    base = "\n".join([f'"{c}": {values[c]}' for c in components] + [f'"@signature-params": {params}'])
    mac = hmac.new(base64.b64decode(key), base.encode(), hashlib.sha256).digest()
    return {"Signature-Input": f"keygate={params}", "Signature": f"keygate=:{base64.b64encode(mac).decode()}:"}


def test_readme_vector():
    assert base64.b64encode(product_key(SECRET, "salesforge")).decode() == KEY
    assert base64.b64encode(product_key(SECRET, "mailforge")).decode() == "fsqABOjoL55VN2zNlmG7HAejZo+4rORh5CSKh5qD9wI="
    assert product_key(f"  {SECRET}\n", "salesforge") == product_key(SECRET, "salesforge")
    for options in ({"keys": {"salesforge": KEY}}, {"keys": None, "secret": SECRET, "products": ["salesforge", "mailforge"]}):
        identity = verifier(sign_body=True, **options).verify(vector())
        assert identity.product == "salesforge"
        assert identity.key_id == "key_0c586b3T70e9ieZfx"
        assert identity.account == "acct_demo"
        assert identity.environment == "live"
        assert identity.scopes == ("read", "write")
        assert identity.meta is None and identity.client_ip is None
        assert identity.request_id == NONCE
        assert (identity.created, identity.expires) == (CREATED, CREATED + 300)
    components = [c.strip('"') for c in INPUT[INPUT.index("(") + 1 : INPUT.index(")")].split(" ")]
    values = {"@method": "POST", "@authority": "origin.salesforge.example", "@path": "/v2/leads", "@query": "?page=2"}
    values.update({k.lower(): v for k, v in HEADERS.items()})
    assert sign(components, values, NONCE) == {"Signature-Input": INPUT, "Signature": SIGNATURE}


other_digest = "sha-256=:" + base64.b64encode(hashlib.sha256(b"{}").digest()).decode() + ":"


@pytest.mark.parametrize(
    "request_, rule",
    [
        (vector(body=b'{"name":"Eve"}'), "digest_mismatch"),
        (vector(body=b"{}", headers={"Content-Digest": other_digest}), "signature_mismatch"),
        (vector(authority="evil.example"), "signature_mismatch"),
        (vector(path="/v2/leads/1"), "signature_mismatch"),
        (vector(query="page=3"), "signature_mismatch"),
        (vector(query=None), "signature_mismatch"),
        (vector(method="PUT"), "signature_mismatch"),
        (vector(headers={"Keygate-Product": "mailforge"}), "product_mismatch"),
        (vector(headers={"Keygate-Account": "acct_victim"}), "signature_mismatch"),
        (vector(headers={"Keygate-Admin": "true"}), "uncovered_header"),
        (vector(headers={"Keygate_Account": "acct_victim"}), "uncovered_header"),
        (vector(headers={"Keygate-Request-Id": "f" * 32}), "nonce_mismatch"),
        (vector(headers={"Content-Type": None}), "missing_header"),
        (vector(headers={"Signature": None}), "malformed"),
        (vector(headers={"Signature": SIGNATURE + ", other=:AAAA:"}), "malformed"),
        (vector(headers={"Signature-Input": INPUT.replace("keygate=", "other=")}), "malformed"),
        (vector(headers={"Signature-Input": INPUT.replace('"hmac-sha256"', '"ed25519"')}), "algorithm"),
        (vector(headers={"Signature-Input": INPUT.replace('"salesforge"', '"mailforge"'), "Keygate-Product": "mailforge"}), "unknown_product"),
        (vector(headers={"Signature-Input": INPUT + ';tag="x"'}), "malformed"),
    ],
)
def test_replay_cases_are_refused(request_, rule):
    refused(rule, lambda: verifier().verify(request_))


def test_reused_nonce_and_nonce_kept_only_when_verified():
    v = verifier()
    refused("signature_mismatch", lambda: v.verify(vector(path="/other")))
    v.verify(vector())
    refused("replay", lambda: v.verify(vector()))
    # The one-off verify() shares one store per process.
    verify(vector(), keys={"salesforge": KEY}, clock=lambda: CREATED)
    refused("replay", lambda: verify(vector(), keys={"salesforge": KEY}, clock=lambda: CREATED))


def test_stale_and_future():
    verifier(now=CREATED + 300).verify(vector())
    verifier(now=CREATED - 5).verify(vector())
    refused("expired", lambda: verifier(now=CREATED + 301).verify(vector()))
    refused("not_yet_valid", lambda: verifier(now=CREATED - 6).verify(vector()))
    refused("not_yet_valid", lambda: verifier(now=CREATED - 60, max_skew=30).verify(vector()))


def test_wrong_key_or_secret():
    other = base64.b64encode(product_key(SECRET, "mailforge")).decode()
    refused("signature_mismatch", lambda: verifier(keys={"salesforge": other}).verify(vector()))
    refused("signature_mismatch", lambda: verifier(keys=None, secret=SECRET + "x", products=["salesforge"]).verify(vector()))
    with pytest.raises(ValueError, match="at least 32"):
        Verifier(secret="short", products=["salesforge"])
    with pytest.raises(ValueError, match="32 bytes"):
        Verifier(keys={"salesforge": "AAAA"})
    with pytest.raises(ValueError):
        Verifier()
    assert SECRET not in repr(Verifier(secret=SECRET, products=["salesforge"]))


CORE = ["@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id"]


def public(components, extra=None):
    values = {"@method": "GET", "@authority": "o.example", "@path": "/x", "@query": "?", "keygate-product": "salesforge", "keygate-request-id": "a" * 32}
    headers = {"keygate-product": "salesforge", "keygate-request-id": "a" * 32, **sign(components, values, "a" * 32), **(extra or {})}
    return Request("GET", "o.example", "/x", None, headers, b"")


def test_core_components_digest_required_and_uncovered_digest():
    assert verifier().verify(public(CORE)).key_id is None
    for c in CORE:
        refused("not_covered", lambda: verifier().verify(public([x for x in CORE if x != c])))
    refused("digest_required", lambda: verifier(sign_body=["salesforge"]).verify(public(CORE)))
    refused("digest_required", lambda: verifier(sign_body=True).verify(public(CORE)))
    verifier(sign_body=["bodyforge"]).verify(public(CORE))
    refused("uncovered_header", lambda: verifier().verify(public(CORE, {"content-digest": "sha-256=:AAAA:"})))


def test_meta_and_client_ip():
    components = CORE[:5] + ["keygate-key-id", "keygate-account", "keygate-environment", "keygate-scopes", "keygate-key-meta", "keygate-request-id", "keygate-client-ip"]
    headers = {"keygate-product": "salesforge", "keygate-key-id": "key_x", "keygate-account": "acct_a", "keygate-environment": "test",
               "keygate-scopes": "read", "keygate-key-meta": '{"org":"acme","plan":"pro"}', "keygate-request-id": "b" * 32, "keygate-client-ip": "203.0.113.7"}
    values = {"@method": "GET", "@authority": "o.example:8788", "@path": "/x", "@query": "?a=1", **headers}
    signed = {**headers, **sign(components, values, "b" * 32)}
    identity = verifier().verify(Request("GET", "O.example:8788", "/x", "a=1", signed))
    assert (identity.environment, identity.scopes, identity.meta, identity.client_ip) == ("test", ("read",), {"org": "acme", "plan": "pro"}, "203.0.113.7")
    refused("signature_mismatch", lambda: verifier().verify(Request("GET", "o.example:8788", "/x", "a=1", {**signed, "keygate-client-ip": "198.51.100.1"})))


def test_memory_store_bounded_and_expiring():
    store = MemoryNonceStore(2)
    assert store.remember("a", 100, 50)
    assert not store.remember("a", 100, 60)
    assert store.remember("b", 100, 60)
    refused("nonce_store_full", lambda: store.remember("c", 200, 60))
    assert store.remember("c", 200, 101)
    assert len(store) == 1
    assert store.remember("a", 300, 150)


def environ():
    env = {"REQUEST_METHOD": "POST", "RAW_URI": "/v2/leads?page=2", "PATH_INFO": "/v2/leads", "QUERY_STRING": "page=2",
           "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "14", "wsgi.input": io.BytesIO(BODY)}
    for name, value in HEADERS.items():
        if name not in ("Content-Type", "Content-Length"):
            env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def test_wsgi_middleware():
    seen = {}

    def app(env, start_response):
        seen["identity"] = env["keygate.identity"]
        seen["body"] = env["wsgi.input"].read()
        start_response("200 OK", [])
        return [b"ok"]

    mw = WsgiMiddleware(app, verifier())
    statuses = []
    assert mw(environ(), lambda s, h: statuses.append(s)) == [b"ok"]
    assert seen["identity"].account == "acct_demo" and seen["body"] == BODY, "the app still reads the body"
    env = environ()
    del env["RAW_URI"]
    out = mw(env, lambda s, h: statuses.append((s, h)))
    assert statuses[-1][0] == "401 Unauthorized"
    assert json.loads(out[0])["code"] == "replay", "PATH_INFO is re-encoded when no raw URI is given"


def test_body_limits():
    mw = WsgiMiddleware(lambda env, sr: [b"never"], verifier(), max_body=4)
    out = mw(environ(), lambda s, h: None)
    assert json.loads(out[0])["code"] == "body_unavailable"

    async def app(scope, receive, send):
        raise AssertionError("never called")

    async def call():
        scope = {"type": "http", "method": "POST", "path": "/v2/leads", "raw_path": b"/v2/leads", "query_string": b"page=2",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]}
        chunks = [{"type": "http.request", "body": BODY[:5], "more_body": True}, {"type": "http.request", "body": BODY[5:]}]
        sent = []

        async def receive():
            return chunks.pop(0)

        async def send(message):
            sent.append(message)

        await AsgiMiddleware(app, verifier(), max_body=4)(scope, receive, send)
        return sent

    sent = asyncio.run(call())
    assert sent[0]["status"] == 401 and json.loads(sent[1]["body"])["code"] == "body_unavailable"


def test_asgi_middleware():
    seen = {}

    async def app(scope, receive, send):
        seen["identity"] = scope["state"]["keygate"]
        message = await receive()
        seen["body"] = message["body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    mw = AsgiMiddleware(app, verifier())

    async def call():
        scope = {"type": "http", "method": "POST", "path": "/v2/leads", "raw_path": b"/v2/leads", "query_string": b"page=2",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]}
        chunks = [{"type": "http.request", "body": BODY[:5], "more_body": True}, {"type": "http.request", "body": BODY[5:]}]
        sent = []

        async def receive():
            return chunks.pop(0)

        async def send(message):
            sent.append(message)

        await mw(scope, receive, send)
        return sent

    sent = asyncio.run(call())
    assert sent[0]["status"] == 200 and seen["identity"].key_id == "key_0c586b3T70e9ieZfx"
    assert seen["body"] == BODY[:5], "the app receives the body messages as sent"
    sent = asyncio.run(call())
    assert sent[0]["status"] == 401 and json.loads(sent[1]["body"])["code"] == "replay"


def test_fastapi_dependency():
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from keygate_origin.fastapi import KeygateDependency

    keygate = KeygateDependency(verifier())
    app = fastapi.FastAPI()

    @app.post("/v2/leads")
    async def leads(request: fastapi.Request, identity=fastapi.Depends(keygate)):
        return {"account": identity.account, "body": (await request.body()).decode()}

    client = TestClient(app, base_url="http://origin.salesforge.example")
    headers = {k: v for k, v in HEADERS.items() if k not in ("Host", "Content-Length")}
    res = client.post("/v2/leads?page=2", content=BODY, headers=headers)
    assert res.status_code == 200, res.text
    assert res.json() == {"account": "acct_demo", "body": BODY.decode()}
    res = client.post("/v2/leads?page=2", content=BODY, headers=headers)
    assert res.status_code == 401 and res.json()["detail"]["code"] == "replay"
