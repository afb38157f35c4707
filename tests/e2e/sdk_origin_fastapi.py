"""A FastAPI origin built on keygate-origin (sdk/python), under uvicorn:
every route depends on keygate's FastAPI dependency, and echoes the
verified identity. tests/e2e/sdk-origins.test.mjs runs it behind keygate.

Usage: python sdk_origin_fastapi.py PRODUCT... PORT (KEYGATE_ORIGIN_SECRET
from the env; KEYGATE_SIGN_BODY: comma-separated products that sign bodies)
"""

import os
import sys

import uvicorn
from fastapi import Depends, FastAPI, Request

from keygate_origin import Identity, Verifier
from keygate_origin.fastapi import KeygateDependency

*products, port = sys.argv[1:]
keygate = KeygateDependency(
    Verifier(
        secret=os.environ["KEYGATE_ORIGIN_SECRET"],
        products=products,
        sign_body=[p for p in os.environ.get("KEYGATE_SIGN_BODY", "").split(",") if p],
    )
)
app = FastAPI()


@app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def echo(request: Request, identity: Identity = Depends(keygate)):
    body = await request.body()
    return {
        "product": identity.product,
        "key_id": identity.key_id,
        "account": identity.account,
        "environment": identity.environment,
        "scopes": list(identity.scopes),
        "meta": identity.meta,
        "client_ip": identity.client_ip,
        "request_id": identity.request_id,
        "body_length": len(body),
        "headers": dict(request.headers),
    }


uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
