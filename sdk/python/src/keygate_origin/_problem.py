"""The refusal every adapter answers with: 401 problem+json naming the rule.

Invariant: the body names the rule only, never a key, secret or header value.
"""

import json

STATUS = "401 Unauthorized"
CONTENT_TYPE = "application/problem+json"


def body(rule: str) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": "keygate signature refused", "status": 401, "code": rule}
    ).encode()
