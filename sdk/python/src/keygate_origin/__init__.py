"""keygate-origin: verify keygate's RFC 9421-signed identity at your origin.

    from keygate_origin import Verifier
    verifier = Verifier(secret=os.environ["KEYGATE_ORIGIN_SECRET"], products=["salesforge"])
    identity = verifier.verify(Request(method, host, raw_path, query, headers, body))

WSGI: ``keygate_origin.wsgi.KeygateMiddleware``; ASGI:
``keygate_origin.asgi.KeygateMiddleware``; FastAPI:
``keygate_origin.fastapi.KeygateDependency``.
"""

from ._verify import (
    ALG,
    LABEL,
    REQUIRED,
    RULES,
    SALT,
    Identity,
    KeygateError,
    MemoryNonceStore,
    NonceStore,
    Request,
    Verifier,
    content_digest,
    default_nonce_store,
    product_key,
    verify,
)

__all__ = [
    "ALG",
    "LABEL",
    "REQUIRED",
    "RULES",
    "SALT",
    "Identity",
    "KeygateError",
    "MemoryNonceStore",
    "NonceStore",
    "Request",
    "Verifier",
    "content_digest",
    "default_nonce_store",
    "product_key",
    "verify",
]
