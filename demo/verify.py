"""Origin-side verification of keygate's RFC 9421 signature in Python, with
the independent `http-message-signatures` package (PyPI, 3.0.0).
docs/origin.md ("Reference: verifying by hand") shows this file; the e2e tests
run it on requests keygate forwarded (`python3 demo/verify.py < request.json`).
"""
import time
from types import SimpleNamespace

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

SALT = b"keygate/rfc9421/origin-key/v1"
REQUIRED = ("@method", "@authority", "@path", "@query", "keygate-product", "keygate-request-id")


def product_key(origin_secret: str, product_id: str) -> bytes:
    """HKDF-SHA256(IKM = the trimmed secret, salt = SALT, info = product id), 32 bytes."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=product_id.encode())
    return hkdf.derive(origin_secret.strip().encode())


def verify_keygate(method, url, headers, body, keys, nonces):
    """`headers`: a mapping of the received header fields; `keys`: {product id: key}
    for the products this origin serves; `nonces`: {nonce: expires} to refuse
    replays. Returns the verified parameters; raises InvalidSignature."""
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.HMAC_SHA256,
        key_resolver=MappingKeyResolver(public_keys=keys, private_keys={}),
    )
    message = SimpleNamespace(method=method, url=url, headers=headers)
    # One signature only. Checks created/expires (5 s skew), alg, the MAC and
    # Content-Digest against the body whenever one is present or the body is
    # not empty.
    [result] = verifier.verify(message, require_components=REQUIRED, body=body)
    params = result.parameters
    values = {name.lower(): value for name, value in headers.items()}
    covered = {c.strip('"') for c in result.covered_components}
    stray = [n for n in values if n.startswith("keygate-") and n not in covered]
    if stray:
        raise InvalidSignature(f"{stray[0]} is not signed")
    if params["keyid"] != values.get("keygate-product") or params["nonce"] != values.get("keygate-request-id"):
        raise InvalidSignature("keyid or nonce does not match the identity headers")
    now = int(time.time())
    for nonce in [n for n, expires in nonces.items() if expires < now]:
        del nonces[nonce]
    if params["nonce"] in nonces:
        raise InvalidSignature("nonce already used (replay)")
    nonces[params["nonce"]] = params["expires"]
    return params


if __name__ == "__main__":
    import base64
    import json
    import os
    import sys

    # Reads {"method", "url", "headers": {name: value}, "body_base64"} on stdin.
    request = json.load(sys.stdin)
    secret = os.environ["KEYGATE_ORIGIN_SECRET"]
    keys = {p: product_key(secret, p) for p in sys.argv[1:]}
    try:
        params = verify_keygate(
            request["method"], request["url"], request["headers"],
            base64.b64decode(request.get("body_base64", "")), keys, {},
        )
        print(json.dumps({"ok": True, "keyid": params["keyid"]}))
    except HTTPMessageSignaturesException as e:
        print(json.dumps({"ok": False, "error": str(e)}))
