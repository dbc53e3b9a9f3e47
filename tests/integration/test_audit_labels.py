"""The audit log page names what happened: every audited route a customer can call has a label in three languages."""

from __future__ import annotations

from balcao.web import i18n
from balcao.web.views.identity import AUDIT_ACTIONS
from devstack import openapi

MUTATING = ("post", "put", "patch", "delete")


def audited_customer_routes() -> set[str]:
    document = openapi.build_document()
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in MUTATING
        and operation.get("x-balcao-access") in ("account", "self")
        and "{" in path
        and (path.startswith("/api/accounts/") or path.startswith("/api/invitations/"))
    }


def test_every_audited_account_route_has_a_label():
    missing = sorted(audited_customer_routes() - AUDIT_ACTIONS.keys())
    assert not missing, f"add a label to AUDIT_ACTIONS for: {missing}"


def test_no_label_names_a_route_that_does_not_exist():
    assert not AUDIT_ACTIONS.keys() - audited_customer_routes()


def test_every_label_is_translated():
    for language in ("pt-BR", "es"):
        untranslated = [label for label in AUDIT_ACTIONS.values() if i18n.gettext(language, label) == label]
        assert not untranslated, f"{language}: {untranslated}"
