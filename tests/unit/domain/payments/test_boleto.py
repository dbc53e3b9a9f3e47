"""Bank boleto: vectors B1–B3 and the factor checks of the payments reference §3.3, and every tampered field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from balcao.domain.errors import InvalidInputError
from balcao.domain.money import Money
from balcao.domain.payments.boleto import (
    Boleto,
    BoletoInvalidError,
    BoletoProblem,
    barcode_to_digitable_line,
    build_barcode,
    digitable_line_to_barcode,
    due_date_factor,
    due_date_from_factor,
    mod10_check_digit,
    mod11_check_digit,
    parse_barcode,
    parse_digitable_line,
)

TODAY = date(2026, 1, 5)

# (linha digitável, barcode, bank, due date, centavos)
B1 = (
    "03399.85301 29700.000358 69420.601010 7 82490000000100",
    "03397824900000001009853029700000356942060101",
    "033",
    date(2020, 5, 8),
    100,
)
B2 = (
    "42297.11504 00001.954411 60020.034520 2 68610000054659",
    "42292686100000546597115000001954416002003452",
    "422",
    date(2016, 7, 20),
    54659,
)
B3 = (
    "34191.09008 00000.000000 00000.123455 9 13220000004990",
    "34199132200000049901090000000000000000012345",
    "341",
    date(2026, 1, 10),
    4990,
)


def digits_of(line: str) -> str:
    return "".join(char for char in line if char.isdigit())


def problem_of(line: str) -> BoletoProblem:
    with pytest.raises(BoletoInvalidError) as caught:
        parse_digitable_line(line, TODAY)
    return caught.value.problem


@pytest.mark.parametrize(("line", "barcode", "bank", "due", "centavos"), [B1, B2, B3], ids=["B1", "B2", "B3"])
def test_published_lines_parse(line, barcode, bank, due, centavos):
    # Given a published linha digitável, When parsed near today, Then bank, due date, amount and barcode are read
    boleto = parse_digitable_line(line, TODAY)
    assert boleto == Boleto(
        bank_code=bank,
        currency_code="9",
        due_date=due,
        amount=Money.of(centavos, "BRL"),
        free_field=barcode[19:],
        barcode=barcode,
        digitable_line=line,
    )


@pytest.mark.parametrize(("line", "barcode", "bank", "due", "centavos"), [B1, B2, B3], ids=["B1", "B2", "B3"])
def test_line_and_barcode_convert_both_ways(line, barcode, bank, due, centavos):
    # Given a published pair, When converted either way, Then each gives the other, formatted
    assert digitable_line_to_barcode(line) == barcode
    assert barcode_to_digitable_line(barcode) == line
    assert parse_barcode(barcode, TODAY) == parse_digitable_line(line, TODAY)


@pytest.mark.parametrize("typed", [digits_of(B1[0]), " 03399.85301  29700.000358\n69420.601010 7 82490000000100 "])
def test_lines_typed_without_or_with_extra_separators_are_accepted(typed):
    # Given B1 typed as bare digits or with extra spaces, When parsed, Then the formatted line is returned
    assert parse_digitable_line(typed, TODAY).digitable_line == B1[0]


@pytest.mark.parametrize(
    ("day", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2020, 5, 8), 8249),
        (date(2026, 1, 10), 1322),
        (date(2016, 7, 20), 6861),
    ],
)
def test_factor_checks(day, factor):
    # Given the factor checks of §3.3, When the due date is encoded, Then the factor matches across the rollover
    assert due_date_factor(day) == factor


@pytest.mark.parametrize(
    ("factor", "reference", "expected"),
    [
        (1000, date(2001, 1, 1), date(2000, 7, 3)),
        (1000, date(2025, 3, 1), date(2025, 2, 22)),
        (9999, date(2025, 2, 1), date(2025, 2, 21)),
        (9999, date(2025, 3, 1), date(2025, 2, 21)),
        (1322, date(2026, 1, 5), date(2026, 1, 10)),
        (8249, date(2026, 1, 5), date(2020, 5, 8)),
        (8249, date(2044, 1, 1), date(2044, 12, 28)),
    ],
)
def test_factor_decodes_to_the_date_nearest_the_reference(factor, reference, expected):
    # Given a factor and a reference date, When decoded, Then the candidate date nearest the reference is chosen
    assert due_date_from_factor(factor, reference) == expected
    assert due_date_factor(expected) == factor


def test_factor_decoding_breaks_a_tie_towards_the_earlier_date():
    # Given a reference exactly between 2000-07-03 and 2025-02-22 (both factor 1000), When decoded
    reference = date(2012, 10, 28)
    assert (reference - date(2000, 7, 3)).days == (date(2025, 2, 22) - reference).days
    # Then the earlier date wins, and a day later the later one does
    assert due_date_from_factor(1000, reference) == date(2000, 7, 3)
    assert due_date_from_factor(1000, reference + timedelta(days=1)) == date(2025, 2, 22)


def test_factor_zero_means_no_due_date():
    # Given a barcode built without a due date, When parsed, Then the due date is None
    barcode = build_barcode("341", None, Money.of(4990, "BRL"), "1" * 25)
    assert barcode[5:9] == "0000"
    assert parse_barcode(barcode, TODAY).due_date is None
    assert due_date_from_factor(0, TODAY) is None


@pytest.mark.parametrize("factor", [1, 999, 10000])
def test_factors_outside_the_table_are_refused(factor):
    # Given a factor neither 0000 nor 1000–9999, When decoded, Then it is refused as a due-date problem
    with pytest.raises(BoletoInvalidError) as caught:
        due_date_from_factor(factor, TODAY)
    assert caught.value.problem is BoletoProblem.DUE_DATE


def test_dates_before_factor_1000_cannot_be_encoded():
    # Given a date before 2000-07-03, When encoded, Then it is refused
    with pytest.raises(BoletoInvalidError) as caught:
        due_date_factor(date(2000, 7, 2))
    assert caught.value.problem is BoletoProblem.DUE_DATE


def test_a_line_with_a_factor_below_1000_is_refused():
    # Given a barcode whose factor is 0999 with a correct general check digit, When parsed, Then the due date is refused
    body = "3419" + "0999" + "0000004990" + "1" * 25
    barcode = body[:4] + str(mod11_check_digit(body)) + body[4:]
    with pytest.raises(BoletoInvalidError) as caught:
        parse_digitable_line(barcode_to_digitable_line(barcode), TODAY)
    assert (caught.value.problem, caught.value.fields[0].field) == (BoletoProblem.DUE_DATE, "digitable_line")


def test_mod10_field_check_digits():
    # Given B1's three fields, When their modulo-10 digits are computed, Then they are X=1, Y=8, Z=0
    assert [mod10_check_digit(field) for field in ("033998530", "2970000035", "6942060101")] == [1, 8, 0]


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("0" * 43, 1), ("0" * 42 + "6", 1), ("0" * 42 + "5", 1), ("0" * 42 + "1", 9)],
    ids=["r-11", "r-10", "r-1", "r-9"],
)
def test_mod11_general_check_digit_maps_0_10_and_11_to_1(digits, expected):
    # Given sums leaving r = 11, 10, 1 and 9, When the general digit is computed, Then 0/10/11 become 1
    assert mod11_check_digit(digits) == expected


FIELD_OF_POSITION = (
    [BoletoProblem.FIELD_1_CHECK_DIGIT] * 10
    + [BoletoProblem.FIELD_2_CHECK_DIGIT] * 11
    + [BoletoProblem.FIELD_3_CHECK_DIGIT] * 11
    + [BoletoProblem.GENERAL_CHECK_DIGIT] * 15
)


@pytest.mark.parametrize("line", [B1[0], B2[0], B3[0]], ids=["B1", "B2", "B3"])
@pytest.mark.parametrize("position", range(47))
def test_any_single_tampered_digit_is_caught_by_its_field(line, position):
    # Given a published line with one digit changed (check digits included), When parsed
    digits = digits_of(line)
    tampered = digits[:position] + str((int(digits[position]) + 1) % 10) + digits[position + 1 :]
    # Then the check digit of that field (fields 1–3) or the general check digit (fields 4–5) refuses it
    assert problem_of(tampered) is FIELD_OF_POSITION[position]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("03399-85301 29700.000358 69420.601010 7 82490000000100", BoletoProblem.CHARACTERS),
        ("O3399.85301 29700.000358 69420.601010 7 82490000000100", BoletoProblem.CHARACTERS),
        ("０3399.85301 29700.000358 69420.601010 7 82490000000100", BoletoProblem.CHARACTERS),
        (B1[0][:-1], BoletoProblem.LINE_LENGTH),
        (B1[0] + "0", BoletoProblem.LINE_LENGTH),
        (B1[1], BoletoProblem.LINE_LENGTH),
        ("", BoletoProblem.LINE_LENGTH),
        ("836400000011 331201380002 812884627116 080136181551", BoletoProblem.ARRECADACAO),
    ],
    ids=["hyphen", "letter-o", "full-width-digit", "46-digits", "48-digits", "barcode-as-line", "empty", "arrecadacao"],
)
def test_wrong_characters_and_lengths_are_refused(line, problem):
    # Given a line with a foreign character or the wrong number of digits, When parsed, Then the reason is named
    assert problem_of(line) is problem


def test_a_boleto_in_another_currency_is_refused():
    # Given a barcode with currency code 0 and correct check digits, When parsed, Then the currency is refused
    body = "0330" + "8249" + "0000000100" + B1[1][19:]
    barcode = body[:4] + str(mod11_check_digit(body)) + body[4:]
    line = barcode_to_digitable_line(barcode)
    assert problem_of(line) is BoletoProblem.CURRENCY


@pytest.mark.parametrize(
    ("barcode", "problem"),
    [
        (B1[1][:-1], BoletoProblem.BARCODE_FORMAT),
        (B1[1][:-1] + "X", BoletoProblem.BARCODE_FORMAT),
        (B1[1][:4] + "8" + B1[1][5:], BoletoProblem.GENERAL_CHECK_DIGIT),
        (B1[1][:30] + "9" + B1[1][31:], BoletoProblem.GENERAL_CHECK_DIGIT),
    ],
    ids=["43-digits", "letter", "general-digit", "free-field-digit"],
)
def test_broken_barcodes_are_refused_on_the_barcode_field(barcode, problem):
    # Given a barcode of the wrong form or with a changed digit, When parsed, Then the barcode field is blamed
    with pytest.raises(BoletoInvalidError) as caught:
        parse_barcode(barcode, TODAY)
    assert caught.value.problem is problem
    assert caught.value.fields[0].field == "barcode"


def test_the_error_is_a_422_field_problem():
    # Given a typo in field 2, When parsed, Then a 422 field problem names the field and the rule
    with pytest.raises(InvalidInputError) as caught:
        parse_digitable_line(B1[0].replace("29700.000358", "29700.000359"), TODAY)
    (problem,) = caught.value.fields
    assert (problem.field, problem.code) == ("digitable_line", "field_2_check_digit")


@pytest.mark.parametrize(("line", "barcode", "bank", "due", "centavos"), [B1, B3], ids=["B1", "B3"])
def test_build_barcode_reproduces_the_vectors(line, barcode, bank, due, centavos):
    # Given a vector's bank, due date, amount and free field, When the barcode is built, Then it is the vector's
    built = build_barcode(bank, due, Money.of(centavos, "BRL"), barcode[19:])
    assert built == barcode
    assert barcode_to_digitable_line(built) == line


def test_built_barcodes_round_trip_after_the_rollover():
    # Given a due date in the second factor cycle, When built and parsed, Then the same date comes back
    barcode = build_barcode("237", date(2031, 6, 30), Money.of(9_999_999_999, "BRL"), "0" * 25)
    boleto = parse_digitable_line(barcode_to_digitable_line(barcode), date(2031, 6, 1))
    assert (boleto.due_date, boleto.amount, boleto.bank_code) == (
        date(2031, 6, 30),
        Money.of(9_999_999_999, "BRL"),
        "237",
    )


@pytest.mark.parametrize(
    ("bank", "amount", "free_field", "problem"),
    [
        ("33", Money.of(100, "BRL"), "0" * 25, BoletoProblem.BANK_CODE),
        ("03A", Money.of(100, "BRL"), "0" * 25, BoletoProblem.BANK_CODE),
        ("033", Money.of(100, "EUR"), "0" * 25, BoletoProblem.AMOUNT),
        ("033", Money.of(-1, "BRL"), "0" * 25, BoletoProblem.AMOUNT),
        ("033", Money.of(10**10, "BRL"), "0" * 25, BoletoProblem.AMOUNT),
        ("033", Money.of(100, "BRL"), "0" * 24, BoletoProblem.FREE_FIELD),
        ("033", Money.of(100, "BRL"), "0" * 24 + "A", BoletoProblem.FREE_FIELD),
    ],
    ids=["short-bank", "letter-bank", "euros", "negative", "eleven-digits", "short-free-field", "letter-free-field"],
)
def test_build_barcode_refuses_what_does_not_fit(bank, amount, free_field, problem):
    # Given a part that does not fit the layout, When building, Then the part is named
    with pytest.raises(BoletoInvalidError) as caught:
        build_barcode(bank, date(2026, 1, 10), amount, free_field)
    assert caught.value.problem is problem
