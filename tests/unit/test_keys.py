"""Key shapes are a storage contract: pinned here so a change is deliberate (and migrated)."""

from __future__ import annotations

from balcao.adapters.dynamodb import keys


def test_key_shapes():
    assert keys.settings_pk() == "SETTINGS" and keys.SETTINGS == "COMPANY"
    assert keys.account_pk("01J") == "ACCOUNT#01J"
    assert keys.audit_sk("01K") == "AUDIT#01K" and keys.audit_sk("x").startswith(keys.AUDIT_PREFIX)
    assert keys.user_audit_pk("sub-1") == "USERAUDIT#sub-1"
    assert keys.login_lookup_pk(" Ana@Example.COM ") == "LOGIN#ana@example.com"
    assert keys.session_pk("jti") == "SESSION#jti"
    assert keys.refresh_lookup_pk("r") == "SESSION#" + keys.digest("r") and len(keys.digest("r")) == 64
    assert keys.gsi1_name_pk("São João") == "NAME#sa" and keys.gsi1_name_sk("São  João", "A1") == "sao joao#A1"
    assert keys.member_sk("u") == "MEMBER#u" and keys.gsi1_membership_sk("a") == "ACCOUNT#a"
    assert keys.mail_claim_pk("e1", "Ana@X.com") == "MAILCLAIM#e1#ana@x.com"
    assert keys.tax_id_lookup_pk("br", "12345678909") == "TAXID#BR#12345678909"


def test_the_overview_range_holds_services_the_invoice_summary_and_the_ticket_counts():
    first, last = keys.overview_range()
    inside = [keys.service_sk("01J0000000000000000000000A"), keys.SUMMARY, keys.TICKET_COUNTS]
    outside = [keys.invoice_sk("x"), keys.order_sk("x"), keys.provisioning_sk("x"), keys.audit_sk("x")]
    assert all(first <= sk <= last for sk in inside)
    assert not any(first <= sk <= last for sk in outside)


def test_a_saved_methods_range_starts_at_the_method_and_holds_every_service():
    # Given a saved method's range
    first, last = keys.method_services_range("01J0000000000000000000000M")
    # Then the method and every service are in it, and the items of other kinds around them are not
    inside = [keys.payment_method_sk("01J0000000000000000000000M"), keys.service_sk("01J0000000000000000000000A")]
    inside.append(keys.service_sk("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"))
    outside = [keys.payment_method_sk("01J0000000000000000000000A"), keys.payment_sk("x"), keys.SUMMARY]
    outside += [keys.TICKET_COUNTS, keys.invoice_sk("x"), keys.order_sk("x")]
    assert all(first <= sk <= last for sk in inside)
    assert not any(first <= sk <= last for sk in outside)
