"""Tax ids of Brazil and Spain, with their check digits (PRODUCT.md capability 2, "Profile").

Input may carry the usual punctuation (dots, slash, hyphen, spaces) and lower-case letters; a ``TaxId`` holds the
value upper-cased without punctuation, and ``TaxId.formatted`` gives the display form.

Brazil (Receita Federal):
- CPF: 11 digits; two mod-11 check digits over weights 10..2 and 11..2 (remainder < 2 → 0, else 11 - remainder).
  Sequences of one repeated digit (000.000.000-00, 111.111.111-11, …) pass the arithmetic but are not CPFs.
- CNPJ: 14 characters; two mod-11 check digits over weights 5,4,3,2,9,8,7,6,5,4,3,2 and 6,5,4,3,2,9,8,7,6,5,4,3,2.
  From July 2026 the first 12 characters may also be letters A-Z (the alphanumeric CNPJ, Nota Técnica
  COCAD/SUARA/RFB nº 49/2024); every character is worth ``ord(char) - 48`` (digits keep their value, A = 17 …
  Z = 42) and the last two stay numeric. One repeated character is refused as for the CPF.
  Display: 000.000.000-00 and 00.000.000/0000-00 (letters in the same positions for the alphanumeric CNPJ).

Spain (Agencia Tributaria; Real Decreto 1065/2007, Orden EHA/451/2008):
- NIF of a national (DNI): 8 digits and the letter ``"TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]``. The K, L and M
  NIFs (minors, non-residents, foreigners without NIE) are that letter + 7 digits + the same control letter.
- NIE: X, Y or Z (worth 0, 1, 2) + 7 digits + the DNI control letter of the 8-digit number so formed.
- CIF (NIF of entities): organisation letter + 7 digits (province, then sequence) + a control character. Over the
  7 digits, add the digits in even positions and, for odd positions, the digit sum of twice the digit; the control
  digit is ``(10 - total % 10) % 10`` and the control letter ``"JABCDEFGHI"[control digit]``. Entities P, Q, R, S,
  N and W (and any with province ``00``, non-residents) carry the letter; A, B, E and H carry the digit; the other
  letters (C, D, F, G, J, U, V) carry either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from balcao.domain.errors import N_, FieldProblem, InvalidInputError

INVALID_TAX_ID = "invalid_tax_id"

BRAZILIAN_TAX_ID_MESSAGE = N_(
    "Enter a valid CPF (11 digits) or CNPJ (14 characters); check the number and its check digits."
)
SPANISH_TAX_ID_MESSAGE = N_("Enter a valid NIF, NIE or CIF; check the number and its control character.")
UNSUPPORTED_COUNTRY_MESSAGE = N_("Tax IDs can only be checked for Brazil and Spain.")

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CIF_CONTROL_LETTERS = "JABCDEFGHI"
NIE_PREFIX_DIGITS = {"X": "0", "Y": "1", "Z": "2"}
CIF_LETTER_CONTROL = frozenset("NPQRSW")
CIF_DIGIT_CONTROL = frozenset("ABEH")
CNPJ_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
CNPJ_SECOND_WEIGHTS = (6, *CNPJ_FIRST_WEIGHTS)

_PUNCTUATION = re.compile(r"[\s./-]")
_ASCII_ALPHANUMERIC = re.compile(r"[0-9A-Za-z]+")
_CPF = re.compile(r"[0-9]{11}")
_CNPJ = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_DNI = re.compile(r"[0-9]{8}[A-Z]")
_KLM_NIF = re.compile(r"[KLM][0-9]{7}[A-Z]")
_NIE = re.compile(r"[XYZ][0-9]{7}[A-Z]")
_CIF = re.compile(r"[ABCDEFGHJNPQRSUVW][0-9]{7}[0-9A-J]")


class TaxIdKind(StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"
    NIF = "nif"
    NIE = "nie"
    CIF = "cif"


@dataclass(frozen=True, slots=True)
class TaxId:
    """A validated tax id: ``country`` is ``BR`` or ``ES``; ``value`` is upper-case without punctuation."""

    country: str
    kind: TaxIdKind
    value: str

    @property
    def formatted(self) -> str:
        """The display form: punctuated for CPF and CNPJ, the plain value for Spanish ids."""
        value = self.value
        if self.kind is TaxIdKind.CPF:
            return f"{value[0:3]}.{value[3:6]}.{value[6:9]}-{value[9:11]}"
        if self.kind is TaxIdKind.CNPJ:
            return f"{value[0:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:14]}"
        return value


class InvalidTaxIdError(InvalidInputError):
    """The tax id has the wrong shape or check digits for its country, or the country has no tax id rules."""


def parse_tax_id(country: str, raw: str, field: str = "tax_id") -> TaxId:
    """Detect the kind of ``raw`` for ``country`` (``BR`` or ``ES``), check it and return it normalised."""
    country_code = country.strip().upper()
    if country_code == "BR":
        message = BRAZILIAN_TAX_ID_MESSAGE
    elif country_code == "ES":
        message = SPANISH_TAX_ID_MESSAGE
    else:
        raise _invalid(field, UNSUPPORTED_COUNTRY_MESSAGE)
    compact = _PUNCTUATION.sub("", raw)
    if not _ASCII_ALPHANUMERIC.fullmatch(compact):
        raise _invalid(field, message)
    value = compact.upper()
    kind = _brazilian_kind(value) if country_code == "BR" else _spanish_kind(value)
    if kind is None:
        raise _invalid(field, message)
    return TaxId(country=country_code, kind=kind, value=value)


def _invalid(field: str, message: str) -> InvalidTaxIdError:
    return InvalidTaxIdError([FieldProblem(field=field, code=INVALID_TAX_ID, message=message)])


def _brazilian_kind(value: str) -> TaxIdKind | None:
    if len(set(value)) == 1:
        return None
    if _CPF.fullmatch(value):
        return TaxIdKind.CPF if _cpf_check_digits(value[:9]) == value[9:] else None
    if _CNPJ.fullmatch(value):
        return TaxIdKind.CNPJ if _cnpj_check_digits(value[:12]) == value[12:] else None
    return None


def _mod11_digit(total: int) -> int:
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def _cpf_check_digits(body: str) -> str:
    first = _mod11_digit(sum(int(digit) * weight for digit, weight in zip(body, range(10, 1, -1), strict=True)))
    with_first = f"{body}{first}"
    second = _mod11_digit(sum(int(digit) * weight for digit, weight in zip(with_first, range(11, 1, -1), strict=True)))
    return f"{first}{second}"


def _cnpj_check_digits(body: str) -> str:
    first = _mod11_digit(sum((ord(char) - 48) * weight for char, weight in zip(body, CNPJ_FIRST_WEIGHTS, strict=True)))
    with_first = f"{body}{first}"
    second = _mod11_digit(
        sum((ord(char) - 48) * weight for char, weight in zip(with_first, CNPJ_SECOND_WEIGHTS, strict=True))
    )
    return f"{first}{second}"


def _spanish_kind(value: str) -> TaxIdKind | None:
    if _DNI.fullmatch(value):
        return TaxIdKind.NIF if _dni_letter(value[:8]) == value[8] else None
    if _KLM_NIF.fullmatch(value):
        return TaxIdKind.NIF if _dni_letter(value[1:8]) == value[8] else None
    if _NIE.fullmatch(value):
        return TaxIdKind.NIE if _dni_letter(NIE_PREFIX_DIGITS[value[0]] + value[1:8]) == value[8] else None
    if _CIF.fullmatch(value):
        return TaxIdKind.CIF if _cif_control_matches(value) else None
    return None


def _dni_letter(digits: str) -> str:
    return DNI_LETTERS[int(digits) % 23]


def _cif_control_matches(value: str) -> bool:
    organisation, digits, control = value[0], value[1:8], value[8]
    even_positions = sum(int(digits[index]) for index in (1, 3, 5))
    odd_positions = sum(sum(divmod(int(digits[index]) * 2, 10)) for index in (0, 2, 4, 6))
    control_digit = (10 - (even_positions + odd_positions) % 10) % 10
    control_letter = CIF_CONTROL_LETTERS[control_digit]
    if organisation in CIF_LETTER_CONTROL or digits.startswith("00"):
        return control == control_letter
    if organisation in CIF_DIGIT_CONTROL:
        return control == str(control_digit)
    return control in (str(control_digit), control_letter)
