"""Drives the management API through a client that openapi-python-client
generated from the served OpenAPI document (package `keygate_client` on
PYTHONPATH). Prints one JSON object of what it saw; the e2e test checks it.

Usage: python_client.py BASE_URL ACCOUNT   (admin token in KEYGATE_ADMIN_TOKEN)
"""

import json
import os
import sys

from keygate_client import AuthenticatedClient
from keygate_client.api.keys import (
    create_key,
    get_key,
    list_keys,
    revoke_key,
    rotate_key,
    update_key,
)
from keygate_client.models import (
    CreatedKey,
    CreateKey,
    CreateKeyProduct,
    KeyList,
    KeyView,
    RotatedKey,
    RotateKey,
    UpdateKey,
)


def main():
    base_url, account = sys.argv[1], sys.argv[2]
    client = AuthenticatedClient(base_url=base_url, token=os.environ["KEYGATE_ADMIN_TOKEN"])
    seen = {}
    with client as c:
        created = create_key.sync(
            account,
            client=c,
            # The served document names this deployment's products as an enum.
            body=CreateKey(product=CreateKeyProduct("forgeai"), name="from python", expires_in_days=30),
        )
        assert isinstance(created, CreatedKey), f"create_key gave {created!r}"
        seen["created"] = {"id": created.id, "key": created.key, "status": str(created.status)}

        listed = list_keys.sync(account, client=c)
        assert isinstance(listed, KeyList), f"list_keys gave {listed!r}"
        seen["listed"] = [k.id for k in listed.keys]

        patched = update_key.sync(account, created.id, client=c, body=UpdateKey(name="renamed"))
        assert isinstance(patched, KeyView), f"update_key gave {patched!r}"
        seen["patched"] = {"id": patched.id, "name": patched.name}

        rotated = rotate_key.sync(account, created.id, client=c, body=RotateKey(grace_seconds=0))
        assert isinstance(rotated, RotatedKey), f"rotate_key gave {rotated!r}"
        seen["rotated"] = {
            "id": rotated.id,
            "key": rotated.key,
            "previous": rotated.previous.id,
            "previous_replaced_by": rotated.previous.replaced_by,
        }

        revoked = revoke_key.sync(account, rotated.id, client=c)
        assert isinstance(revoked, KeyView), f"revoke_key gave {revoked!r}"
        seen["revoked"] = {"id": revoked.id, "status": str(revoked.status)}

        got = get_key.sync(account, rotated.id, client=c)
        assert isinstance(got, KeyView), f"get_key gave {got!r}"
        seen["got"] = {"id": got.id, "status": str(got.status)}

        # A problem is parsed too: an unknown key id.
        missing = get_key.sync_detailed(account, "key_" + "0" * 17, client=c)
        seen["missing"] = {"status": int(missing.status_code), "code": json.loads(missing.content)["code"]}
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
