"""Phone numbers of the profile and of callback requests, stored in E.164 (``+<country code><number>``).

Input may carry spaces, dots, parentheses and hyphens. A number starting with ``+`` or ``00`` is international;
any other is national, in the caller's ``default_country``.

- ITU-T E.164: at most 15 digits including the country code, which never starts with 0. Country codes are
  prefix-free, so ``55`` is always Brazil and ``34`` always Spain.
- Brazil (+55, Anatel numbering plan): a two-digit area code (DDD) from the list of assigned DDDs, then 8 digits for
  a landline (first digit 2 to 5) or 9 digits for a mobile (first digit 9). A national number may keep the trunk
  prefix 0 before the DDD.
- Spain (+34, Plan Nacional de Numeración): 9 digits starting with 6 or 7 (mobiles) or 8 or 9 (geographic).
- Other countries: only the international form is accepted (we do not know their national plans), with 7 to 15
  digits in all.
"""

from __future__ import annotations

import re

from balcao.domain.errors import N_, FieldProblem, InvalidInputError

INVALID_PHONE = "invalid_phone"

BRAZILIAN_PHONE_MESSAGE = N_(
    "Enter a Brazilian phone number with its area code (DDD): 8 digits for a landline or 9 digits starting with 9 "
    "for a mobile, such as (11) 91234-5678."
)
SPANISH_PHONE_MESSAGE = N_("Enter a Spanish phone number of 9 digits starting with 6, 7, 8 or 9, such as 612 345 678.")
INTERNATIONAL_PHONE_MESSAGE = N_("Enter the phone number in international format, such as +351 912 345 678.")

BRAZIL_CALLING_CODE = "55"
SPAIN_CALLING_CODE = "34"
CALLING_CODES = {"BR": BRAZIL_CALLING_CODE, "ES": SPAIN_CALLING_CODE}
# The 67 DDDs in use (Anatel), by federative unit.
AREA_CODES_BY_STATE: dict[str, tuple[int, ...]] = {
    "SP": (11, 12, 13, 14, 15, 16, 17, 18, 19),
    "RJ": (21, 22, 24),
    "ES": (27, 28),
    "MG": (31, 32, 33, 34, 35, 37, 38),
    "PR": (41, 42, 43, 44, 45, 46),
    "SC": (47, 48, 49),
    "RS": (51, 53, 54, 55),
    "DF": (61,),
    "GO": (62, 64),
    "TO": (63,),
    "MT": (65, 66),
    "MS": (67,),
    "AC": (68,),
    "RO": (69,),
    "BA": (71, 73, 74, 75, 77),
    "SE": (79,),
    "PE": (81, 87),
    "AL": (82,),
    "PB": (83,),
    "RN": (84,),
    "CE": (85, 88),
    "PI": (86, 89),
    "PA": (91, 93, 94),
    "AM": (92, 97),
    "RR": (95,),
    "AP": (96,),
    "MA": (98, 99),
}
BRAZILIAN_AREA_CODES = frozenset(code for codes in AREA_CODES_BY_STATE.values() for code in codes)
E164_MIN_DIGITS = 7
E164_MAX_DIGITS = 15

_WRITTEN_PHONE = re.compile(r"\+?[0-9 .()\-]+")
_SEPARATORS = re.compile(r"[ .()\-]")
_BRAZILIAN_NUMBER = re.compile(r"[0-9]{2}(?:[2-5][0-9]{7}|9[0-9]{8})")
_SPANISH_NUMBER = re.compile(r"[6-9][0-9]{8}")


class InvalidPhoneError(InvalidInputError):
    """The phone number is not a valid number of its country, or has no country we can tell."""


def normalise_phone(raw: str, default_country: str, field: str = "phone") -> str:
    """The E.164 form of ``raw``; a national number is read in ``default_country`` (ISO 3166 alpha-2)."""
    country = default_country.strip().upper()
    written = raw.strip()
    if not _WRITTEN_PHONE.fullmatch(written):
        raise _invalid(field, _message_for_country(country))
    digits = _SEPARATORS.sub("", written).lstrip("+")
    if written.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif country in CALLING_CODES:
        national = digits[1:] if country == "BR" and digits.startswith("0") else digits
        international = CALLING_CODES[country] + national
    else:
        raise _invalid(field, INTERNATIONAL_PHONE_MESSAGE)

    if international.startswith(BRAZIL_CALLING_CODE):
        valid = _is_brazilian_number(international.removeprefix(BRAZIL_CALLING_CODE))
        message = BRAZILIAN_PHONE_MESSAGE
    elif international.startswith(SPAIN_CALLING_CODE):
        valid = bool(_SPANISH_NUMBER.fullmatch(international.removeprefix(SPAIN_CALLING_CODE)))
        message = SPANISH_PHONE_MESSAGE
    else:
        valid = not international.startswith("0") and E164_MIN_DIGITS <= len(international) <= E164_MAX_DIGITS
        message = INTERNATIONAL_PHONE_MESSAGE
    if not valid:
        raise _invalid(field, message)
    return f"+{international}"


def _is_brazilian_number(national: str) -> bool:
    return bool(_BRAZILIAN_NUMBER.fullmatch(national)) and int(national[:2]) in BRAZILIAN_AREA_CODES


def _message_for_country(country: str) -> str:
    if country == "BR":
        return BRAZILIAN_PHONE_MESSAGE
    if country == "ES":
        return SPANISH_PHONE_MESSAGE
    return INTERNATIONAL_PHONE_MESSAGE


def _invalid(field: str, message: str) -> InvalidPhoneError:
    return InvalidPhoneError([FieldProblem(field=field, code=INVALID_PHONE, message=message)])
