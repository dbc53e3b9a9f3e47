"""Email addresses: one normal form, a basic syntax check, and the Microsoft consumer mail warning (seed 000)."""

from __future__ import annotations

import pytest

from balcao.domain.emails import (
    INVALID_EMAIL_MESSAGE,
    InvalidEmailError,
    email_domain,
    filters_hosting_mail,
    normalise_email,
)
from balcao.domain.errors import FieldProblem


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Ana@Example.COM ", "ana@example.com"),
        ("bruno+facturas@empresa.es", "bruno+facturas@empresa.es"),
        ("joão@exemplo.com.br", "joão@exemplo.com.br"),
        ("a@b.co", "a@b.co"),
        (f"{'a' * 64}@{'b' * 185}.com", f"{'a' * 64}@{'b' * 185}.com"),  # 254 characters
    ],
)
def test_valid_addresses_are_trimmed_and_lower_cased(raw, normalised):
    # Given an address as typed, When it is normalised, Then it is trimmed and lower-cased
    assert normalise_email(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",  # no dot in the domain
        "ana@@example.com",
        "ana@example@com.br",
        "ana silva@example.com",
        "ana@exam\tple.com",
        "ana@.example.com",
        "ana@example.com.",
        "ana@example..com",
        f"{'a' * 65}@example.com",  # local part over 64
        f"{'a' * 64}@{'b' * 186}.com",  # 255 characters
    ],
)
def test_invalid_addresses_are_refused(raw):
    # Given something that is not an email address
    # When it is normalised
    with pytest.raises(InvalidEmailError) as raised:
        normalise_email(raw, field="contact.email")
    # Then one invalid_email problem names the field
    assert raised.value.fields == [FieldProblem("contact.email", "invalid_email", INVALID_EMAIL_MESSAGE)]


def test_the_domain_is_what_follows_the_at_sign():
    # Given addresses, When their domain is taken, Then it is the lower-case part after the @
    assert email_domain("ana@Example.COM") == "example.com"
    assert email_domain("financeiro@loja.com.br") == "loja.com.br"


@pytest.mark.parametrize(
    "email",
    [
        "ana@hotmail.com",
        "ana@outlook.com",
        "ana@live.com",
        "ana@msn.com",
        "ana@hotmail.com.br",
        "ana@outlook.com.br",
        "ana@outlook.es",
        "ana@hotmail.es",
        "ana@live.com.pt",
        "ana@hotmail.co.uk",
        "ANA@HOTMAIL.COM",
    ],
)
def test_microsoft_consumer_mail_is_flagged(email):
    # Given an address on Microsoft's consumer mail, When checked, Then it is known to filter hosting mail
    assert filters_hosting_mail(email) is True


@pytest.mark.parametrize(
    "email",
    [
        "ana@gmail.com",
        "ana@example.com",
        "ana@mail.hotmail.com",  # a subdomain is not the consumer service
        "ana@outlook.minhaempresa.com.br",  # a company host named "outlook"
        "ana@hotmailer.com",
        "ana@live.example.com",
    ],
)
def test_other_domains_are_not_flagged(email):
    # Given an address elsewhere, When checked, Then no warning is due
    assert filters_hosting_mail(email) is False
