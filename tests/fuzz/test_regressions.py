"""What the fuzzer found, kept as tests of their own (the bodies it found are in ``tests/integration/test_abuse.py``).

- An owner whose session did not pass 2FA may turn on ``require_mfa``; from then on every route of the account answers
  403 ``mfa_required`` (API.md) — which the document did not declare for account routes.
"""

from __future__ import annotations

import json

from devstack.openapi import DOCUMENT
from support.fuzzing import FuzzWorld, group_of, signed_up


def test_an_account_requiring_2fa_refuses_a_session_without_it_with_a_documented_403(fuzz_world: FuzzWorld):
    # Given an owner signed in without TOTP who turns on require_mfa for the account
    client = fuzz_world.client
    owner = signed_up(client, ["regression-mfa"])["regression-mfa"]
    base = f"/api/accounts/{owner.ids['account_id']}"
    turned_on = client.patch(base, {"require_mfa": True}, token=owner.token)
    assert turned_on.status_code == 200, turned_on.text
    # When the same session reads the account's contacts
    refused = client.get(f"{base}/contacts", token=owner.token)
    # Then it is refused with mfa_required, and every account route documents that 403
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_required"
    paths = json.loads(DOCUMENT.read_text())["paths"]
    account_routes = [
        (method.upper(), path, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if operation.get("x-balcao-access") == "account"
    ]
    assert account_routes
    assert [f"{m} {p}" for m, p, operation in account_routes if "403" not in operation["responses"]] == []


def test_the_operation_that_can_turn_on_require_mfa_is_fuzzed_by_a_user_of_its_own():
    # The rest of the account's operations keep a session that require_mfa does not lock out
    assert group_of("PATCH", "/api/accounts/{account_id}") == "account-settings"
    assert group_of("GET", "/api/accounts/{account_id}/contacts") != "account-settings"
