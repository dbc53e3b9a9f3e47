"""Key shapes are a storage contract: pinned here so a change is deliberate (and migrated)."""

from __future__ import annotations

from balcao.adapters.dynamodb import keys


def test_key_shapes():
    assert keys.settings_pk() == "SETTINGS" and keys.SETTINGS == "COMPANY"
    assert keys.account_pk("01J") == "ACCOUNT#01J"
    assert keys.audit_sk("01K") == "AUDIT#01K" and keys.audit_sk("x").startswith(keys.AUDIT_PREFIX)
    assert keys.user_audit_pk("sub-1") == "USERAUDIT#sub-1"
