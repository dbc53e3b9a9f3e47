"""Deployed stacks fail closed (API.md "Payments: what webhooks accept"): nothing in template.yaml enables the sandbox
provider or holds a ``*_local_only`` value, and the providers' secrets are created without any value."""

from __future__ import annotations

from devstack import template


def test_template_yaml_never_enables_the_sandbox_nor_holds_a_local_only_value():
    text = template.TEMPLATE.read_text()
    assert "local_only" not in text
    assert "PAYMENTS_MODE" not in text
    assert "sandbox" not in text.lower()
    variables = template.load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "PAYMENTS_MODE" not in variables


def test_the_provider_secrets_have_no_default_value():
    secrets = template.resources("AWS::SecretsManager::Secret")
    for logical_id in ("StripeSecret", "MercadoPagoSecret"):
        properties = secrets[logical_id]["Properties"]
        assert "SecretString" not in properties and "GenerateSecretString" not in properties, logical_id
    variables = template.load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) >= {"STRIPE_SECRET_ID", "MERCADOPAGO_SECRET_ID"}


def test_the_settings_default_to_real_providers():
    from balcao.runtime.settings import PaymentsMode, Settings

    assert Settings.model_fields["payments_mode"].default is PaymentsMode.PROVIDERS
