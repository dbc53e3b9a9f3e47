"""Postal addresses of the profile and contacts (PRODUCT.md capability 2), checked per country.

Every value is trimmed; an empty value counts as absent. All problems are reported together in one
``InvalidAddressError`` whose fields are dotted paths such as ``address.postal_code`` (API.md "Errors").

- ``line1`` and ``city`` are required; ``line2``, ``number``, ``district`` are optional; text fields have a
  maximum length; keys other than the address fields are refused.
- ``country``: an ISO 3166-1 alpha-2 code (the 249 officially assigned codes), upper-cased.
- Brazil: the CEP has 8 digits (Correios) and is stored as ``00000-000``; ``state`` is required and is one of the
  27 federative units (26 states and the Federal District, IBGE codes such as SP, RJ, DF).
- Spain: the postal code has 5 digits and its first two are a province code from 01 to 52 (Correos, INE province
  codes); ``state`` (the province) is optional.
- Other countries: the postal code is optional (some countries have none) and, when given, is 2 to 10 letters,
  digits, spaces or hyphens, upper-cased.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from balcao.domain.errors import FIELD_MESSAGES, N_, FieldProblem, InvalidInputError

INVALID_COUNTRY_MESSAGE = N_("Enter the country as its two-letter code, such as BR or ES.")
INVALID_CEP_MESSAGE = N_("Enter a CEP with 8 digits, such as 01310-100.")
INVALID_UF_MESSAGE = N_("Enter the state as its two-letter code (UF), such as SP or RJ.")
INVALID_SPANISH_POSTAL_CODE_MESSAGE = N_(
    "Enter a postal code of 5 digits that starts with a province code from 01 to 52, such as 28013."
)
INVALID_POSTAL_CODE_MESSAGE = N_("Enter a postal code of 2 to 10 letters, digits, spaces or hyphens.")

_BRAZILIAN_STATE_CODES = "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO"
_ISO_3166_ALPHA_2_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
    FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
    JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
    MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
    TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
BRAZILIAN_STATES = frozenset(_BRAZILIAN_STATE_CODES.split())
ISO_3166_ALPHA_2 = frozenset(_ISO_3166_ALPHA_2_CODES.split())
FIRST_SPANISH_PROVINCE = 1
LAST_SPANISH_PROVINCE = 52

# Free-text fields and their maximum lengths; the postal code and the country are bounded by their own rules.
MAX_LENGTHS: dict[str, int] = {"line1": 200, "line2": 200, "number": 20, "district": 100, "city": 100, "state": 100}
ADDRESS_FIELDS = (*MAX_LENGTHS, "postal_code", "country")
REQUIRED_FIELDS = ("line1", "city", "country")

_CEP_SEPARATORS = re.compile(r"[\s.-]")
_CEP = re.compile(r"[0-9]{8}")
_SPANISH_POSTAL_CODE = re.compile(r"[0-9]{5}")
_POSTAL_CODE = re.compile(r"[0-9A-Z -]{2,10}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    line1: str
    line2: str | None = None
    number: str | None = None
    district: str | None = None
    city: str
    state: str | None = None
    postal_code: str | None = None
    country: str


class InvalidAddressError(InvalidInputError):
    """One or more address fields are missing, too long or invalid for the address's country."""


# A problem before it is placed under the caller's prefix: (address field, code, message).
_Problem = tuple[str, str, str]


def validate_address(data: Mapping[str, str], field_prefix: str = "address") -> Address:
    """Check ``data`` against the rules of its country and return the normalised ``Address``."""
    values: dict[str, str | None] = {name: (data.get(name) or "").strip() or None for name in ADDRESS_FIELDS}
    country = (values["country"] or "").upper()
    postal_code, state, country_problems = _country_rules(country, values["postal_code"], values["state"])
    problems = [
        *((name, "not_allowed", FIELD_MESSAGES["not_allowed"]) for name in sorted(set(data) - set(ADDRESS_FIELDS))),
        *_presence_and_length_problems(values),
        *country_problems,
    ]
    if values["country"] is not None and country not in ISO_3166_ALPHA_2:
        problems.append(("country", "invalid_country", INVALID_COUNTRY_MESSAGE))
    if problems:
        raise InvalidAddressError(
            [
                FieldProblem(field=f"{field_prefix}.{name}" if field_prefix else name, code=code, message=message)
                for name, code, message in problems
            ]
        )
    return Address(
        line1=values["line1"] or "",
        line2=values["line2"],
        number=values["number"],
        district=values["district"],
        city=values["city"] or "",
        state=state,
        postal_code=postal_code,
        country=country,
    )


def _presence_and_length_problems(values: Mapping[str, str | None]) -> list[_Problem]:
    problems: list[_Problem] = [
        (name, "required", FIELD_MESSAGES["required"]) for name in REQUIRED_FIELDS if values[name] is None
    ]
    problems.extend(
        (name, "too_long", FIELD_MESSAGES["too_long"])
        for name, limit in MAX_LENGTHS.items()
        if len(values[name] or "") > limit
    )
    return problems


def _country_rules(
    country: str, postal_code: str | None, state: str | None
) -> tuple[str | None, str | None, list[_Problem]]:
    """The postal code and state normalised for ``country``, and the problems its rules find."""
    problems: list[_Problem] = []
    if country == "BR":
        cep = _brazilian_postal_code(postal_code)
        if cep is None:
            problems.append(("postal_code", "invalid_postal_code", INVALID_CEP_MESSAGE))
        uf = (state or "").upper()
        if uf not in BRAZILIAN_STATES:
            problems.append(("state", "invalid_state", INVALID_UF_MESSAGE))
        return cep, uf, problems
    if country == "ES":
        if postal_code is None or not _is_spanish_postal_code(postal_code):
            problems.append(("postal_code", "invalid_postal_code", INVALID_SPANISH_POSTAL_CODE_MESSAGE))
        return postal_code, state, problems
    if country in ISO_3166_ALPHA_2 and postal_code is not None:
        postal_code = postal_code.upper()
        if not _POSTAL_CODE.fullmatch(postal_code):
            problems.append(("postal_code", "invalid_postal_code", INVALID_POSTAL_CODE_MESSAGE))
    return postal_code, state, problems


def _brazilian_postal_code(raw: str | None) -> str | None:
    """``00000-000`` from a CEP written with or without its hyphen, or ``None`` when it is not 8 digits."""
    digits = _CEP_SEPARATORS.sub("", raw or "")
    if not _CEP.fullmatch(digits):
        return None
    return f"{digits[:5]}-{digits[5:]}"


def _is_spanish_postal_code(postal_code: str) -> bool:
    return bool(_SPANISH_POSTAL_CODE.fullmatch(postal_code)) and (
        FIRST_SPANISH_PROVINCE <= int(postal_code[:2]) <= LAST_SPANISH_PROVINCE
    )
