"""FEBRABAN bank boleto ("boleto de cobrança"): linha digitável, barcode, check digits and due-date factor.

Rules implemented (FEBRABAN barcode layout and "Manual Operacional do Fator de Vencimento"; payments reference §3):
- Barcode, 44 digits: bank (3) · currency (1, "9" = real) · general check digit (1) · due-date factor (4) ·
  amount in centavos (10) · free field (25, the bank's own layout).
- Linha digitável, 47 digits, shown as ``AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV``:
  field 1 = bank + currency + free field 1–5 + X; field 2 = free field 6–15 + Y; field 3 = free field 16–25 + Z;
  field 4 = K, the general check digit; field 5 = factor + amount.
- Field check digits (X, Y, Z): modulo 10, weights 2, 1, 2, 1… from the right, adding the digits of each product;
  DV = (10 − sum mod 10) mod 10.
- General check digit (K): modulo 11 over the other 43 barcode digits, weights 2 to 9 cycling from the right;
  r = 11 − sum mod 11, and r ∈ {0, 10, 11} gives 1.
- Due-date factor: days since 1997-10-07, restarting at 1000 after 9999 (2025-02-21 → 9999, 2025-02-22 → 1000):
  factor = ((date − 1997-10-07).days − 1000) mod 9000 + 1000. Decoding picks, among the dates sharing that factor,
  the one nearest to a reference date (today or the issue date; on a tie, the earlier one). "0000" means no due
  date; 0001–0999 are not valid.
- Arrecadação slips (utilities and taxes: first digit 8, 48-digit line) follow other rules and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, FieldProblem, InvalidInputError
from balcao.domain.money import Currency, Money

FACTOR_BASE_DATE = date(1997, 10, 7)
FIRST_FACTOR = 1000
LAST_FACTOR = 9999
FACTOR_CYCLE_DAYS = LAST_FACTOR - FIRST_FACTOR + 1
NO_DUE_DATE_FACTOR = 0
REAL_CURRENCY_CODE = "9"
BARCODE_LENGTH = 44
DIGITABLE_LINE_LENGTH = 47
ARRECADACAO_LINE_LENGTH = 48
FREE_FIELD_LENGTH = 25
MAX_AMOUNT_CENTAVOS = 10**10 - 1

_LINE_CHARACTERS = re.compile(r"[0-9.\s]*")
_DIGITS = re.compile(r"[0-9]*")


class BoletoProblem(StrEnum):
    """Which boleto rule an input breaks; the value is the field-problem code."""

    CHARACTERS = "characters"
    LINE_LENGTH = "line_length"
    BARCODE_FORMAT = "barcode_format"
    ARRECADACAO = "arrecadacao"
    FIELD_1_CHECK_DIGIT = "field_1_check_digit"
    FIELD_2_CHECK_DIGIT = "field_2_check_digit"
    FIELD_3_CHECK_DIGIT = "field_3_check_digit"
    GENERAL_CHECK_DIGIT = "general_check_digit"
    CURRENCY = "currency"
    DUE_DATE = "due_date"
    AMOUNT = "amount"
    BANK_CODE = "bank_code"
    FREE_FIELD = "free_field"


BOLETO_PROBLEM_MESSAGES: dict[BoletoProblem, str] = {
    BoletoProblem.CHARACTERS: N_("A boleto line may contain only digits, spaces and dots."),
    BoletoProblem.LINE_LENGTH: N_("A boleto line must have 47 digits."),
    BoletoProblem.BARCODE_FORMAT: N_("A boleto barcode must have exactly 44 digits."),
    BoletoProblem.ARRECADACAO: N_("This is a utility or tax payment slip, not a bank boleto."),
    BoletoProblem.FIELD_1_CHECK_DIGIT: N_(
        "The check digit of the first block of the boleto line does not match. Check the digits you typed."
    ),
    BoletoProblem.FIELD_2_CHECK_DIGIT: N_(
        "The check digit of the second block of the boleto line does not match. Check the digits you typed."
    ),
    BoletoProblem.FIELD_3_CHECK_DIGIT: N_(
        "The check digit of the third block of the boleto line does not match. Check the digits you typed."
    ),
    BoletoProblem.GENERAL_CHECK_DIGIT: N_(
        "The general check digit of the boleto does not match. Check the digits you typed."
    ),
    BoletoProblem.CURRENCY: N_("This boleto is not in Brazilian reais."),
    BoletoProblem.DUE_DATE: N_("The due date of this boleto is not valid."),
    BoletoProblem.AMOUNT: N_("A boleto amount must be in reais, not negative and at most R$ 99,999,999.99."),
    BoletoProblem.BANK_CODE: N_("A bank code has three digits."),
    BoletoProblem.FREE_FIELD: N_("The free field of a boleto has 25 digits."),
}


class BoletoInvalidError(InvalidInputError):
    """A boleto line or barcode breaks a FEBRABAN rule (length, character, check digit, currency or due date).

    ``problem`` names the rule; ``detail`` says where, in English, for logs and staff (never translated).
    """

    def __init__(self, problem: BoletoProblem, detail: str, field: str = "digitable_line") -> None:
        message = BOLETO_PROBLEM_MESSAGES[problem]
        super().__init__([FieldProblem(field=field, code=problem.value, message=message)], message)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Boleto:
    """A checked bank boleto. ``due_date`` is None when the factor is 0000; ``digitable_line`` is formatted."""

    bank_code: str
    currency_code: str
    due_date: date | None
    amount: Money
    free_field: str
    barcode: str
    digitable_line: str


def mod10_check_digit(digits: str) -> int:
    """FEBRABAN modulo 10: weights 2, 1, 2, 1… from the right, digits of each product added."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_check_digit(digits: str) -> int:
    """FEBRABAN general check digit: weights 2..9 cycling from the right; 0, 10 and 11 become 1."""
    total = sum(int(digit) * (2 + position % 8) for position, digit in enumerate(reversed(digits)))
    result = 11 - total % 11
    return 1 if result in {0, 10, 11} else result


def due_date_factor(due_date: date) -> int:
    """The 4-digit factor of ``due_date`` (from 2000-07-03, the first date of factor 1000)."""
    days = (due_date - FACTOR_BASE_DATE).days
    if days < FIRST_FACTOR:
        raise BoletoInvalidError(BoletoProblem.DUE_DATE, f"{due_date} is before factor 1000", field="due_date")
    return (days - FIRST_FACTOR) % FACTOR_CYCLE_DAYS + FIRST_FACTOR


def due_date_from_factor(factor: int, reference_date: date, field: str = "due_date_factor") -> date | None:
    """The date with this factor nearest to ``reference_date`` (the earlier one on a tie); None for 0000."""
    if factor == NO_DUE_DATE_FACTOR:
        return None
    if not FIRST_FACTOR <= factor <= LAST_FACTOR:
        raise BoletoInvalidError(BoletoProblem.DUE_DATE, f"factor {factor:04d} is not valid", field=field)
    reference_days = (reference_date - FACTOR_BASE_DATE).days
    cycles_before = max(0, (reference_days - factor) // FACTOR_CYCLE_DAYS)
    candidates = [factor + cycles * FACTOR_CYCLE_DAYS for cycles in (cycles_before, cycles_before + 1)]
    nearest = min(candidates, key=lambda days: (abs(days - reference_days), days))
    return FACTOR_BASE_DATE + timedelta(days=nearest)


def digitable_line_to_barcode(text: str) -> str:
    """The 44-digit barcode of a linha digitável (spaces and dots allowed), after checking the field digits."""
    if not _LINE_CHARACTERS.fullmatch(text):
        raise BoletoInvalidError(BoletoProblem.CHARACTERS, "only digits, spaces and dots are allowed")
    digits = "".join(char for char in text if char.isdigit())
    if len(digits) == ARRECADACAO_LINE_LENGTH and digits.startswith("8"):
        raise BoletoInvalidError(BoletoProblem.ARRECADACAO, "48 digits starting with 8")
    if len(digits) != DIGITABLE_LINE_LENGTH:
        raise BoletoInvalidError(BoletoProblem.LINE_LENGTH, f"{len(digits)} digits")
    fields = (
        (digits[0:9], digits[9], BoletoProblem.FIELD_1_CHECK_DIGIT),
        (digits[10:20], digits[20], BoletoProblem.FIELD_2_CHECK_DIGIT),
        (digits[21:31], digits[31], BoletoProblem.FIELD_3_CHECK_DIGIT),
    )
    for body, check_digit, problem in fields:
        expected = mod10_check_digit(body)
        if int(check_digit) != expected:
            raise BoletoInvalidError(problem, f"check digit is {check_digit}, expected {expected}")
    return digits[0:4] + digits[32] + digits[33:47] + digits[4:9] + digits[10:20] + digits[21:31]


def barcode_to_digitable_line(barcode: str) -> str:
    """The formatted linha digitável of a 44-digit barcode (whose general check digit is checked)."""
    _check_barcode(barcode, field="barcode")
    return _format_digitable_line(barcode)


def parse_barcode(barcode: str, reference_date: date) -> Boleto:
    """A checked ``Boleto`` from its 44-digit barcode; the due date is decoded near ``reference_date``."""
    return _boleto(barcode, reference_date, field="barcode")


def parse_digitable_line(text: str, reference_date: date) -> Boleto:
    """A checked ``Boleto`` from a typed or pasted linha digitável; the due date is decoded near ``reference_date``."""
    return _boleto(digitable_line_to_barcode(text), reference_date, field="digitable_line")


def build_barcode(bank: str, due_date: date | None, amount: Money, free_field_25: str) -> str:
    """A 44-digit barcode with its general check digit (for tests and the local sandbox)."""
    if not (len(bank) == 3 and _DIGITS.fullmatch(bank)):
        raise BoletoInvalidError(BoletoProblem.BANK_CODE, f"bank is {bank!r}", field="bank")
    if amount.currency is not Currency.BRL or not 0 <= amount.amount <= MAX_AMOUNT_CENTAVOS:
        raise BoletoInvalidError(BoletoProblem.AMOUNT, f"amount is {amount}", field="amount")
    if not (len(free_field_25) == FREE_FIELD_LENGTH and _DIGITS.fullmatch(free_field_25)):
        raise BoletoInvalidError(BoletoProblem.FREE_FIELD, f"{len(free_field_25)} characters", field="free_field")
    factor = NO_DUE_DATE_FACTOR if due_date is None else due_date_factor(due_date)
    without_check_digit = f"{bank}{REAL_CURRENCY_CODE}{factor:04d}{amount.amount:010d}{free_field_25}"
    check_digit = mod11_check_digit(without_check_digit)
    return without_check_digit[:4] + str(check_digit) + without_check_digit[4:]


def _boleto(barcode: str, reference_date: date, field: str) -> Boleto:
    _check_barcode(barcode, field)
    if barcode[3] != REAL_CURRENCY_CODE:
        raise BoletoInvalidError(BoletoProblem.CURRENCY, f"currency code is {barcode[3]}", field=field)
    return Boleto(
        bank_code=barcode[0:3],
        currency_code=barcode[3],
        due_date=due_date_from_factor(int(barcode[5:9]), reference_date, field),
        amount=Money(int(barcode[9:19]), Currency.BRL),
        free_field=barcode[19:44],
        barcode=barcode,
        digitable_line=_format_digitable_line(barcode),
    )


def _check_barcode(barcode: str, field: str) -> None:
    if not (len(barcode) == BARCODE_LENGTH and _DIGITS.fullmatch(barcode)):
        raise BoletoInvalidError(BoletoProblem.BARCODE_FORMAT, f"{len(barcode)} characters", field=field)
    expected = mod11_check_digit(barcode[:4] + barcode[5:])
    if int(barcode[4]) != expected:
        raise BoletoInvalidError(
            BoletoProblem.GENERAL_CHECK_DIGIT, f"general check digit is {barcode[4]}, expected {expected}", field=field
        )


def _format_digitable_line(barcode: str) -> str:
    free_field = barcode[19:44]
    field_1 = barcode[0:4] + free_field[0:5]
    field_2 = free_field[5:15]
    field_3 = free_field[15:25]
    field_1 += str(mod10_check_digit(field_1))
    field_2 += str(mod10_check_digit(field_2))
    field_3 += str(mod10_check_digit(field_3))
    return (
        f"{field_1[:5]}.{field_1[5:]} {field_2[:5]}.{field_2[5:]} {field_3[:5]}.{field_3[5:]} "
        f"{barcode[4]} {barcode[5:19]}"
    )
