"""SEPA Direct Debit identifiers and the pre-notification deadline.

Rules implemented (payments reference §4.1):
- IBAN (ISO 13616): two-letter country, two check digits, then the national account number; the length is fixed
  per country (SWIFT IBAN registry, SEPA countries below). Check: move the first four characters to the end,
  replace letters by numbers (A = 10 … Z = 35); the number modulo 97 must be 1 (ISO 7064 MOD 97-10), and the
  check digits lie between 02 and 98. Spaces are ignored and letters upper-cased (the print format is accepted).
- SEPA Creditor Identifier (EPC262-08 "Creditor Identifier Overview"): country (2) · check digits (2) · creditor
  business code (3 letters or digits, "ZZZ" when unused) · national identifier (up to 28 letters or digits; in
  Spain the NIF, 16 characters in all). The check digits are MOD 97-10 over the national identifier followed by
  the country and the check digits: the business code is left out.
- Mandate reference (Unique Mandate Reference, EPC SDD Core rulebook and implementation guidelines): 1 to 35
  characters of the SEPA basic character set (a–z, A–Z, 0–9, space and / - ? : ( ) . , ' +); like every SEPA
  reference it must not start or end with "/" nor contain "//" (EPC clarification paper on slashes).
- Pre-notification: the debtor is told at least 14 calendar days before the debit date unless another period was
  agreed (SEPA Core rulebook, as summarised by cleardebit and payzen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, FieldProblem, InvalidInputError

PRE_NOTIFICATION_DAYS = 14
MAX_MANDATE_REFERENCE_LENGTH = 35
MAX_CREDITOR_IDENTIFIER_LENGTH = 35

# IBAN length by country, for the countries of the SEPA schemes (SWIFT IBAN registry).
# fmt: off
SEPA_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}
# fmt: on

_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+")
_CREDITOR_IDENTIFIER_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")
_MANDATE_REFERENCE_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")


class SepaProblem(StrEnum):
    """Which SEPA rule an identifier breaks; the value is the field-problem code."""

    IBAN_FORMAT = "iban_format"
    IBAN_COUNTRY = "iban_country"
    IBAN_LENGTH = "iban_length"
    IBAN_CHECK_DIGITS = "iban_check_digits"
    CREDITOR_IDENTIFIER_FORMAT = "creditor_identifier_format"
    CREDITOR_IDENTIFIER_COUNTRY = "creditor_identifier_country"
    CREDITOR_IDENTIFIER_CHECK_DIGITS = "creditor_identifier_check_digits"
    MANDATE_REFERENCE_LENGTH = "mandate_reference_length"
    MANDATE_REFERENCE_CHARACTERS = "mandate_reference_characters"
    MANDATE_REFERENCE_SLASHES = "mandate_reference_slashes"


SEPA_PROBLEM_MESSAGES: dict[SepaProblem, str] = {
    SepaProblem.IBAN_FORMAT: N_(
        "An IBAN starts with a two-letter country code and two check digits, followed by letters and digits."
    ),
    SepaProblem.IBAN_COUNTRY: N_("IBANs from this country cannot be used for SEPA direct debits."),
    SepaProblem.IBAN_LENGTH: N_("This IBAN does not have the length used in its country."),
    SepaProblem.IBAN_CHECK_DIGITS: N_("The check digits of this IBAN do not match. Check for typing errors."),
    SepaProblem.CREDITOR_IDENTIFIER_FORMAT: N_(
        "A SEPA creditor identifier has a country code, two check digits, a three-character business code "
        "and a national identifier."
    ),
    SepaProblem.CREDITOR_IDENTIFIER_COUNTRY: N_("This creditor identifier is not from a SEPA country."),
    SepaProblem.CREDITOR_IDENTIFIER_CHECK_DIGITS: N_("The check digits of this creditor identifier do not match."),
    SepaProblem.MANDATE_REFERENCE_LENGTH: N_("A mandate reference must have 1 to 35 characters."),
    SepaProblem.MANDATE_REFERENCE_CHARACTERS: N_(
        "A mandate reference may contain only unaccented letters, digits, spaces and / - ? : ( ) . , ' +"
    ),
    SepaProblem.MANDATE_REFERENCE_SLASHES: N_(
        "A mandate reference must not start or end with a slash, nor contain two slashes in a row."
    ),
}


class SepaIdentifierInvalidError(InvalidInputError):
    """A SEPA identifier breaks a rule; ``problem`` names it, ``detail`` says where (English, for logs)."""

    def __init__(self, problem: SepaProblem, detail: str, field: str) -> None:
        message = SEPA_PROBLEM_MESSAGES[problem]
        super().__init__([FieldProblem(field=field, code=problem.value, message=message)], message)
        self.problem = problem
        self.detail = detail


class IbanInvalidError(SepaIdentifierInvalidError):
    """An IBAN has the wrong shape, country, length or check digits. ``detail`` is English, for logs."""

    def __init__(self, problem: SepaProblem, detail: str, field: str = "iban") -> None:
        super().__init__(problem, detail, field)


class CreditorIdentifierInvalidError(SepaIdentifierInvalidError):
    """A SEPA Creditor Identifier has the wrong shape, country or check digits. ``detail`` is English, for logs."""

    def __init__(self, problem: SepaProblem, detail: str, field: str = "creditor_identifier") -> None:
        super().__init__(problem, detail, field)


class MandateReferenceInvalidError(SepaIdentifierInvalidError):
    """A mandate reference is empty, too long, or uses characters SEPA does not carry. ``detail`` is English."""

    def __init__(self, problem: SepaProblem, detail: str, field: str = "mandate_reference") -> None:
        super().__init__(problem, detail, field)


@dataclass(frozen=True, slots=True)
class CreditorIdentifier:
    """A checked SEPA Creditor Identifier, split into its parts."""

    country_code: str
    check_digits: str
    business_code: str
    national_identifier: str

    def __str__(self) -> str:
        return f"{self.country_code}{self.check_digits}{self.business_code}{self.national_identifier}"


def validate_iban(text: str) -> str:
    """The IBAN in electronic format (no spaces, upper case), or ``IbanInvalidError``."""
    iban = _compact(text)
    if not _IBAN_SHAPE.fullmatch(iban):
        raise IbanInvalidError(SepaProblem.IBAN_FORMAT, "expected 2 letters, 2 digits, then letters or digits")
    country = iban[:2]
    expected_length = SEPA_IBAN_LENGTHS.get(country)
    if expected_length is None:
        raise IbanInvalidError(SepaProblem.IBAN_COUNTRY, f"country {country} is not in the SEPA table")
    if len(iban) != expected_length:
        raise IbanInvalidError(SepaProblem.IBAN_LENGTH, f"{country} IBANs have {expected_length}, not {len(iban)}")
    if not _mod97_check_passes(iban[4:] + iban[:4], iban[2:4]):
        raise IbanInvalidError(SepaProblem.IBAN_CHECK_DIGITS, "ISO 7064 MOD 97-10 does not give 1")
    return iban


def validate_creditor_identifier(text: str) -> CreditorIdentifier:
    """A checked SEPA Creditor Identifier (spaces ignored, letters upper-cased), or the named error."""
    identifier = _compact(text)
    if len(identifier) > MAX_CREDITOR_IDENTIFIER_LENGTH or not _CREDITOR_IDENTIFIER_SHAPE.fullmatch(identifier):
        raise CreditorIdentifierInvalidError(
            SepaProblem.CREDITOR_IDENTIFIER_FORMAT, "expected country, 2 digits, 3-character code, national id"
        )
    country, check_digits = identifier[:2], identifier[2:4]
    if country not in SEPA_IBAN_LENGTHS:
        raise CreditorIdentifierInvalidError(SepaProblem.CREDITOR_IDENTIFIER_COUNTRY, f"country {country}")
    national_identifier = identifier[7:]
    if not _mod97_check_passes(national_identifier + country + check_digits, check_digits):
        raise CreditorIdentifierInvalidError(
            SepaProblem.CREDITOR_IDENTIFIER_CHECK_DIGITS, "MOD 97-10 over national id + country + check digits"
        )
    return CreditorIdentifier(
        country_code=country,
        check_digits=check_digits,
        business_code=identifier[4:7],
        national_identifier=national_identifier,
    )


def validate_mandate_reference(text: str) -> str:
    """The mandate reference unchanged if SEPA can carry it, or ``MandateReferenceInvalidError``."""
    if not 1 <= len(text) <= MAX_MANDATE_REFERENCE_LENGTH:
        raise MandateReferenceInvalidError(SepaProblem.MANDATE_REFERENCE_LENGTH, f"{len(text)} characters")
    if not _MANDATE_REFERENCE_CHARACTERS.fullmatch(text):
        raise MandateReferenceInvalidError(SepaProblem.MANDATE_REFERENCE_CHARACTERS, "outside the SEPA basic set")
    if text.startswith("/") or text.endswith("/") or "//" in text:
        raise MandateReferenceInvalidError(SepaProblem.MANDATE_REFERENCE_SLASHES, "leading, trailing or double '/'")
    return text


def pre_notification_deadline(debit_date: date) -> date:
    """The last day on which the debtor may be told of a debit on ``debit_date`` (14 calendar days before)."""
    return debit_date - timedelta(days=PRE_NOTIFICATION_DAYS)


def _compact(text: str) -> str:
    """Spaces removed and ASCII letters upper-cased; anything else is left for the shape check to refuse."""
    compact = "".join(text.split())
    return compact.upper() if compact.isascii() else compact


def _mod97_check_passes(rearranged: str, check_digits: str) -> bool:
    """ISO 7064 MOD 97-10: letters become 10..35, the number modulo 97 is 1, check digits lie in 02..98."""
    as_number = int("".join(str(int(char, 36)) for char in rearranged))
    return 2 <= int(check_digits) <= 98 and as_number % 97 == 1
