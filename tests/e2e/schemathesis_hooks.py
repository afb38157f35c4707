"""Schemathesis hooks for tests/e2e/schemathesis.test.mjs.

Two rules of the management API depend on what JSON Schema cannot say, so
Schemathesis would take a request breaking them for a valid one. These hooks
turn such values into ones that keep the rule, touching only values the
schema already accepts (so a request meant to be invalid stays invalid):

- `expires_at` must be in the future and at most 365 days ahead, counted
  from the moment the request arrives: a schema-valid date-time outside that
  window becomes one 30 days ahead.
- `updateKey`'s `scopes` must be permissions of the key's product, which
  the request does not name (the schema lists every product's): a valid,
  non-empty list without duplicates becomes `["read"]`, which every product
  has.
- An `Idempotency-Key` names one request: sent again with another body it
  is 422 `idempotency_key_reused`, as documented. Generated values repeat
  (`0`, `a`), so a valid one becomes a fresh UUID.
- A product's `key_limit` caps an account's working keys, and generated
  account ids repeat (`0`), so creates would soon all be 409 and the
  stateful phase would have no key to follow its links with: a valid
  account id on `createKey` gets a fresh suffix.
- `allowed_ips` entries must be CIDR ranges without host bits set, each
  range once after normalisation (`1.2.3.4` and `1.2.3.4/32` are one): the
  schema's pattern only says which characters a range has. A schema-valid
  list (at most 100 distinct strings of the pattern) becomes as many
  distinct valid ranges; a schema-valid `client_ip` on verify becomes a
  valid address.
- `lookupKey`'s `key` must be a keygate key, whose last six characters are a
  CRC32 of the rest: a schema-valid string becomes a forged key with the
  documented format and a correct checksum, which the API answers with 404
  `key_not_found` (its tag is wrong), as it does any key it did not issue.
"""

import datetime
import re
import secrets
import uuid
import zlib

import schemathesis

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DAY = datetime.timedelta(days=1)


def base62(data: bytes, width: int) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = ALPHABET[r] + out
    return out.rjust(width, "0")


def forged_key(prefix: str = "fai", env: str = "live") -> str:
    text = f"{prefix}_{env}_{base62(secrets.token_bytes(32), 43)}{base62(secrets.token_bytes(6), 9)}"
    return text + base62(zlib.crc32(text.encode()).to_bytes(4, "big"), 6)


# The documented check value: CRC32("123456789") = 0xCBF43926 = "3jZRME".
assert base62(zlib.crc32(b"123456789").to_bytes(4, "big"), 6) == "3jZRME"


def in_window(text: str) -> bool:
    try:
        at = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return True  # not a date-time the hook understands: leave it
    if at.tzinfo is None:
        return True
    now = datetime.datetime.now(datetime.timezone.utc)
    return now + datetime.timedelta(minutes=5) < at < now + 364 * DAY


def fix_body(operation_id, body):
    if not isinstance(body, dict):
        return body
    expires = body.get("expires_at")
    if isinstance(expires, str) and not in_window(expires):
        later = datetime.datetime.now(datetime.timezone.utc) + 30 * DAY
        body = {**body, "expires_at": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
    scopes = body.get("scopes")
    if (
        operation_id == "updateKey"
        and isinstance(scopes, list)
        and scopes
        and all(isinstance(s, str) for s in scopes)
        and len(set(scopes)) == len(scopes)
    ):
        body = {**body, "scopes": ["read"]}
    # A URL the schema's pattern admits may still name no public host
    # (`https://0`, an address in 10/8): one rule JSON Schema cannot say.
    for member in ("webhook_url", "url"):
        value = body.get(member)
        if operation_id in ("createKey", "createWebhook") and isinstance(value, str) and value.startswith("https://"):
            body = {**body, member: "https://hooks.example.com/keygate"}
    ips = body.get("allowed_ips")
    if (
        operation_id in ("createKey", "updateKey")
        and isinstance(ips, list)
        and len(ips) <= 100
        and all(isinstance(r, str) and 2 <= len(r) <= 49 and CIDR.fullmatch(r) for r in ips)
        and len(set(ips)) == len(ips)
    ):
        body = {**body, "allowed_ips": [f"10.{i}.0.0/16" for i in range(len(ips))]}
    client_ip = body.get("client_ip")
    if operation_id == "verify" and isinstance(client_ip, str) and CLIENT_IP.fullmatch(client_ip):
        body = {**body, "client_ip": "203.0.113.7"}
    key = body.get("key")
    if operation_id == "lookupKey" and isinstance(key, str) and 1 <= len(key) <= 256:
        body = {**body, "key": forged_key()}
    return body


# Valid account ids, possibly percent-encoded already (`:` as `%3A`).
ACCOUNT = re.compile(r"(?:[A-Za-z0-9_.:-]|%3[Aa]){1,64}")
OPERATIONS = {
    ("POST", "/accounts/{account}/keys"): "createKey",
    ("PATCH", "/accounts/{account}/keys/{id}"): "updateKey",
    ("POST", "/keys/lookup"): "lookupKey",
    ("POST", "/accounts/{account}/webhooks"): "createWebhook",
    ("POST", "/verify"): "verify",
}
VISIBLE = re.compile(r"[!-~]{1,255}")
# The schema's patterns for an allowlist entry and a verify client_ip.
CIDR = re.compile(r"[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?")
CLIENT_IP = re.compile(r"[0-9A-Fa-f:.]{2,45}")


@schemathesis.hook
def map_case(context, case):
    operation = getattr(case, "operation", None) or getattr(context, "operation", None)
    route = (str(getattr(operation, "method", "")).upper(), str(getattr(operation, "path", "")))
    operation_id = OPERATIONS.get(route)
    case.body = fix_body(operation_id, case.body)
    headers = case.headers
    if headers is not None and hasattr(headers, "items"):
        for name, value in list(headers.items()):
            if name.lower() == "idempotency-key" and isinstance(value, str) and VISIBLE.fullmatch(value):
                headers[name] = str(uuid.uuid4())
    params = case.path_parameters
    if operation_id == "createKey" and isinstance(params, dict):
        account = params.get("account")
        if isinstance(account, str) and len(account) <= 40 and ACCOUNT.fullmatch(account):
            params["account"] = account + "_" + secrets.token_hex(8)
    return case
