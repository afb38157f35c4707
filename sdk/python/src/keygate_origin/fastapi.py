"""FastAPI dependency: verifies keygate's signature and returns the Identity,
or raises ``HTTPException(401)`` whose detail names the rule.

    keygate = KeygateDependency(Verifier(secret=..., products=["salesforge"]))
    app = FastAPI(dependencies=[Depends(keygate)])        # every route
    @app.get("/v1/leads")
    async def leads(identity: Identity = Depends(keygate)): ...

Invariant: a route that depends on it runs only for a request that
verified. The body is read through Starlette's cache (``await
request.body()``), so the route can read it again.
"""

from __future__ import annotations

from fastapi import HTTPException, Request as HTTPRequest

from ._verify import Identity, KeygateError, Verifier
from .asgi import request_from_scope


class KeygateDependency:
    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier

    async def __call__(self, request: HTTPRequest) -> Identity:
        cached = getattr(request.state, "keygate", None)
        if isinstance(cached, Identity):
            return cached  # verified once per request, by this or the ASGI middleware
        try:
            identity = await self.verifier.verify_async(request_from_scope(request.scope, request.body))
        except KeygateError as error:
            raise HTTPException(
                status_code=401,
                detail={"code": error.rule, "title": "keygate signature refused"},
            ) from None
        request.state.keygate = identity
        return identity
