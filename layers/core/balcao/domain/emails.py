"""Email addresses used for login, contacts and invitations: one normal form, and a deliverability warning.

``normalise_email`` trims and lower-cases the address (logins compare addresses case-insensitively) and makes a
basic syntax check, not a full RFC 5322 parse: exactly one ``@``, no white space, a local part of 1 to 64 characters
and a domain of dot-separated, non-empty labels containing at least one dot (RFC 5321 §4.5.3.1), 254 characters
at most in all (RFC 5321 path limit less the angle brackets, RFC 3696 erratum 1690).

``filters_hosting_mail`` tells whether the address is on Microsoft's consumer mail (Outlook.com: the hotmail,
outlook, live and msn domains, also under country domains such as ``hotmail.com.br``, ``outlook.es`` or
``live.com.pt``), which often filters mail sent from shared hosting; seed 000 asks customers on @hotmail, @outlook
and @live to follow a guide, so the portal warns them.
"""

from __future__ import annotations

import re

from balcao.domain.errors import N_, FieldProblem, InvalidInputError

INVALID_EMAIL = "invalid_email"
INVALID_EMAIL_MESSAGE = N_("Enter a valid email address, such as name@example.com.")
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

MICROSOFT_CONSUMER_MAIL = re.compile(r"(?:hotmail|outlook|live|msn)\.(?:com|(?:com\.|co\.)?[a-z]{2})")
_WHITE_SPACE = re.compile(r"\s")


class InvalidEmailError(InvalidInputError):
    """The email address is not syntactically valid."""


def normalise_email(raw: str, field: str = "email") -> str:
    """The trimmed, lower-case form of ``raw``; raise ``InvalidEmailError`` when it is not an address."""
    email = raw.strip().lower()
    local_part, _, domain = email.partition("@")
    labels = domain.split(".")
    valid = (
        email.count("@") == 1
        and not _WHITE_SPACE.search(email)
        and len(email) <= MAX_EMAIL_LENGTH
        and 1 <= len(local_part) <= MAX_LOCAL_PART_LENGTH
        and len(labels) >= 2
        and all(labels)
    )
    if not valid:
        raise InvalidEmailError([FieldProblem(field=field, code=INVALID_EMAIL, message=INVALID_EMAIL_MESSAGE)])
    return email


def email_domain(email: str) -> str:
    """The domain of an address (after its ``@``), lower-cased."""
    return email.rpartition("@")[2].strip().lower()


def filters_hosting_mail(email: str) -> bool:
    """Whether the address is on a consumer mail service known to filter mail sent from shared hosting."""
    return bool(MICROSOFT_CONSUMER_MAIL.fullmatch(email_domain(email)))
