"""Pix BR Code ("Pix copia e cola"): parse, validate and build the payload a payer's bank app reads.

Rules implemented (BCB *Manual de Padrões para Iniciação do Pix*, the BR Code profile of EMV QRCPS-MPM; the
field limits enforced by pix-utils; payments reference §2):
- TLV: an ID of 2 digits, a length of 2 decimal digits (01–99), then exactly that many characters. Templates 26
  (Pix merchant account) and 62 (additional data) hold TLVs of their own. No ID appears twice at one level.
- 00 "Payload Format Indicator" comes first and is "01".
- 01 "Point of Initiation Method" is optional: "11" reusable, "12" single use (dynamic codes).
- 26 starts with 00 = GUI "br.gov.bcb.pix" (any letter case) and carries exactly one of 01 (Pix key, static code)
  or 25 (payment location: a URL without scheme, as API Pix ``loc.location`` returns it; dynamic code).
- 52 MCC: four digits. 53 currency: "986" (BRL). 54 amount: optional, ``\\d+\\.\\d{2}``, greater than zero.
  58 country: "BR". 59 merchant name: at most 25 characters. 60 merchant city: at most 15 characters.
- 62/05 reference label (txid): at most 25 letters and digits, or "***" when there is none. A dynamic code carries
  "***": its txid travels in the payload the location serves.
- 63 CRC comes last, length 04: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over the
  whole payload up to and including "6304", as four uppercase hex digits. Check value: CRC("123456789") = 29B1.
- Builder: merchant name and city lose their accents, keep printable ASCII, are upper-cased and truncated to 25 and
  15 characters.

Lengths are counted in characters, as the manual does.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from balcao.domain.errors import N_, FieldProblem, InvalidInputError
from balcao.domain.money import Currency, Money

PIX_GUI = "br.gov.bcb.pix"
MAX_TLV_LENGTH = 99
MAX_MERCHANT_NAME_LENGTH = 25
MAX_MERCHANT_CITY_LENGTH = 15
NO_TXID = "***"
CRC_FIELD_PREFIX = "6304"

TAG_PAYLOAD_FORMAT = "00"
TAG_POINT_OF_INITIATION = "01"
TAG_MERCHANT_ACCOUNT = "26"
TAG_MERCHANT_CATEGORY = "52"
TAG_CURRENCY = "53"
TAG_AMOUNT = "54"
TAG_COUNTRY = "58"
TAG_MERCHANT_NAME = "59"
TAG_MERCHANT_CITY = "60"
TAG_POSTAL_CODE = "61"
TAG_ADDITIONAL_DATA = "62"
TAG_CRC = "63"

ACCOUNT_TAG_GUI = "00"
ACCOUNT_TAG_KEY = "01"
ACCOUNT_TAG_ADDITIONAL_INFO = "02"
ACCOUNT_TAG_LOCATION = "25"
ADDITIONAL_DATA_TAG_TXID = "05"

_AMOUNT_PATTERN = re.compile(r"[0-9]+\.[0-9]{2}")
_TXID_PATTERN = re.compile(r"[A-Za-z0-9]{1,25}")
_MERCHANT_CATEGORY_PATTERN = re.compile(r"[0-9]{4}")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


class PointOfInitiation(StrEnum):
    REUSABLE = "11"
    SINGLE_USE = "12"


class PixProblem(StrEnum):
    """Which BR Code rule a payload breaks; the value is the field-problem code."""

    MALFORMED = "malformed"
    LENGTH_MISMATCH = "length_mismatch"
    FIELD_TOO_LONG = "field_too_long"
    FORMAT_INDICATOR = "format_indicator"
    CRC_MISSING = "crc_missing"
    CRC_MISMATCH = "crc_mismatch"
    POINT_OF_INITIATION = "point_of_initiation"
    MERCHANT_ACCOUNT = "merchant_account"
    KEY_OR_LOCATION = "key_or_location"
    LOCATION_SCHEME = "location_scheme"
    MERCHANT_CATEGORY = "merchant_category"
    CURRENCY = "currency"
    AMOUNT_FORMAT = "amount_format"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    COUNTRY = "country"
    MERCHANT_NAME = "merchant_name"
    MERCHANT_CITY = "merchant_city"
    TXID = "txid"
    DYNAMIC_TXID = "dynamic_txid"


PIX_PROBLEM_MESSAGES: dict[PixProblem, str] = {
    PixProblem.MALFORMED: N_("This Pix code is not in the Pix copy-and-paste format."),
    PixProblem.LENGTH_MISMATCH: N_("A field of this Pix code does not have the length it declares."),
    PixProblem.FIELD_TOO_LONG: N_("A field of this Pix code is longer than 99 characters."),
    PixProblem.FORMAT_INDICATOR: N_("This Pix code does not start with the payload format indicator 01."),
    PixProblem.CRC_MISSING: N_("This Pix code does not end with its CRC check field."),
    PixProblem.CRC_MISMATCH: N_("The CRC check digits of this Pix code do not match its content."),
    PixProblem.POINT_OF_INITIATION: N_("This Pix code has an unknown point of initiation method."),
    PixProblem.MERCHANT_ACCOUNT: N_("This Pix code has no Pix merchant account (br.gov.bcb.pix)."),
    PixProblem.KEY_OR_LOCATION: N_("A Pix code must carry either a Pix key or a payment location, not both."),
    PixProblem.LOCATION_SCHEME: N_("The payment location of a Pix code must not start with a scheme such as https://."),
    PixProblem.MERCHANT_CATEGORY: N_("The merchant category code of a Pix code must have four digits."),
    PixProblem.CURRENCY: N_("A Pix code must be in Brazilian reais."),
    PixProblem.AMOUNT_FORMAT: N_("The amount of a Pix code must be written as digits, a dot and two decimals."),
    PixProblem.AMOUNT_NOT_POSITIVE: N_("The amount of a Pix code must be greater than zero."),
    PixProblem.COUNTRY: N_("A Pix code must have Brazil (BR) as its country."),
    PixProblem.MERCHANT_NAME: N_("The merchant name of a Pix code must have 1 to 25 characters."),
    PixProblem.MERCHANT_CITY: N_("The merchant city of a Pix code must have 1 to 15 characters."),
    PixProblem.TXID: N_("The transaction ID of a Pix code must be up to 25 letters and digits, or ***."),
    PixProblem.DYNAMIC_TXID: N_(
        "A dynamic Pix code carries its transaction ID in its payment location, not in the code."
    ),
}


class PixPayloadInvalidError(InvalidInputError):
    """A Pix copy-and-paste payload breaks a BR Code rule.

    ``problem`` names the rule; ``detail`` says where, in English, for logs and staff (never translated).
    """

    def __init__(self, problem: PixProblem, detail: str, field: str = "pix_payload") -> None:
        message = PIX_PROBLEM_MESSAGES[problem]
        super().__init__([FieldProblem(field=field, code=problem.value, message=message)], message)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TlvField:
    """One ID-length-value field; ``value`` is the raw text (for a template, its nested TLVs)."""

    tag: str
    value: str


@dataclass(frozen=True, slots=True)
class PixPayload:
    """A validated BR Code. ``txid`` is None when the code carries "***"."""

    text: str
    point_of_initiation: PointOfInitiation | None
    key: str | None
    location: str | None
    additional_info: str | None
    merchant_category_code: str
    amount: Money | None
    merchant_name: str
    merchant_city: str
    postal_code: str | None
    txid: str | None
    crc: str

    @property
    def is_dynamic(self) -> bool:
        return self.location is not None


def crc16_ccitt_false(text: str) -> str:
    """CRC-16/CCITT-FALSE of the UTF-8 bytes of ``text``, as four uppercase hex digits."""
    return format(binascii.crc_hqx(text.encode("utf-8"), 0xFFFF), "04X")


def parse_tlv(text: str) -> tuple[TlvField, ...]:
    """Split one level of TLV fields; raise ``PixPayloadInvalidError`` on a broken ID, length or repeated ID."""
    return _parse_tlv(text, parent="")


def _parse_tlv(text: str, parent: str) -> tuple[TlvField, ...]:
    fields: list[TlvField] = []
    seen: set[str] = set()
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        path = f"{parent}position {position}"
        if len(header) < 4 or not (header.isascii() and header.isdigit()):
            raise PixPayloadInvalidError(PixProblem.MALFORMED, f"{path}: expected a 2-digit ID and a 2-digit length")
        tag, length = header[:2], int(header[2:])
        if length == 0:
            raise PixPayloadInvalidError(PixProblem.LENGTH_MISMATCH, f"{parent}field {tag} declares an empty value")
        start, end = position + 4, position + 4 + length
        if end > len(text):
            raise PixPayloadInvalidError(
                PixProblem.LENGTH_MISMATCH,
                f"{parent}field {tag} declares {length} characters but only {len(text) - start} follow",
            )
        if tag in seen:
            raise PixPayloadInvalidError(PixProblem.MALFORMED, f"{parent}field {tag} appears twice")
        seen.add(tag)
        fields.append(TlvField(tag=tag, value=text[start:end]))
        position = end
    return tuple(fields)


def validate_pix_payload(payload: str) -> PixPayload:
    """Parse and check a whole "Pix copia e cola" payload against every rule of the module docstring."""
    fields = parse_tlv(payload)
    if not fields or fields[0].tag != TAG_PAYLOAD_FORMAT or fields[0].value != "01":
        raise PixPayloadInvalidError(PixProblem.FORMAT_INDICATOR, "the first field must be 00 with value 01")
    _check_crc(payload, fields)
    by_tag = {field.tag: field.value for field in fields}

    point_of_initiation = _point_of_initiation(by_tag.get(TAG_POINT_OF_INITIATION))
    account = _merchant_account(by_tag.get(TAG_MERCHANT_ACCOUNT))
    merchant_category = by_tag.get(TAG_MERCHANT_CATEGORY, "")
    if not _MERCHANT_CATEGORY_PATTERN.fullmatch(merchant_category):
        raise PixPayloadInvalidError(PixProblem.MERCHANT_CATEGORY, f"field 52 is {merchant_category!r}")
    if by_tag.get(TAG_CURRENCY) != "986":
        raise PixPayloadInvalidError(PixProblem.CURRENCY, f"field 53 is {by_tag.get(TAG_CURRENCY)!r}, not '986'")
    amount = _amount(by_tag.get(TAG_AMOUNT))
    if by_tag.get(TAG_COUNTRY) != "BR":
        raise PixPayloadInvalidError(PixProblem.COUNTRY, f"field 58 is {by_tag.get(TAG_COUNTRY)!r}, not 'BR'")
    merchant_name = by_tag.get(TAG_MERCHANT_NAME, "")
    if not 1 <= len(merchant_name) <= MAX_MERCHANT_NAME_LENGTH:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_NAME, f"field 59 has {len(merchant_name)} characters")
    merchant_city = by_tag.get(TAG_MERCHANT_CITY, "")
    if not 1 <= len(merchant_city) <= MAX_MERCHANT_CITY_LENGTH:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_CITY, f"field 60 has {len(merchant_city)} characters")
    txid = _txid(by_tag.get(TAG_ADDITIONAL_DATA))

    return PixPayload(
        text=payload,
        point_of_initiation=point_of_initiation,
        key=account.get(ACCOUNT_TAG_KEY),
        location=account.get(ACCOUNT_TAG_LOCATION),
        additional_info=account.get(ACCOUNT_TAG_ADDITIONAL_INFO),
        merchant_category_code=merchant_category,
        amount=amount,
        merchant_name=merchant_name,
        merchant_city=merchant_city,
        postal_code=by_tag.get(TAG_POSTAL_CODE),
        txid=txid,
        crc=fields[-1].value,
    )


def _check_crc(payload: str, fields: tuple[TlvField, ...]) -> None:
    last = fields[-1]
    crc_positions = [index for index, field in enumerate(fields) if field.tag == TAG_CRC]
    if crc_positions != [len(fields) - 1] or len(last.value) != 4:
        raise PixPayloadInvalidError(PixProblem.CRC_MISSING, "the last field must be 63 with 4 characters")
    expected = crc16_ccitt_false(payload[:-4])
    if last.value != expected:
        raise PixPayloadInvalidError(PixProblem.CRC_MISMATCH, f"CRC is {last.value!r}, content gives {expected!r}")


def _point_of_initiation(value: str | None) -> PointOfInitiation | None:
    if value is None:
        return None
    if value not in {method.value for method in PointOfInitiation}:
        raise PixPayloadInvalidError(PixProblem.POINT_OF_INITIATION, f"field 01 is {value!r}")
    return PointOfInitiation(value)


def _merchant_account(value: str | None) -> dict[str, str]:
    if value is None:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_ACCOUNT, "field 26 is missing")
    nested = _parse_tlv(value, parent="26: ")
    if not nested or nested[0].tag != ACCOUNT_TAG_GUI or nested[0].value.lower() != PIX_GUI:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_ACCOUNT, "field 26 must start with 00 = br.gov.bcb.pix")
    account = {field.tag: field.value for field in nested}
    has_key, has_location = ACCOUNT_TAG_KEY in account, ACCOUNT_TAG_LOCATION in account
    if has_key == has_location:
        raise PixPayloadInvalidError(PixProblem.KEY_OR_LOCATION, "field 26 needs exactly one of 01 (key) or 25 (URL)")
    if has_location and _URL_SCHEME.match(account[ACCOUNT_TAG_LOCATION]):
        raise PixPayloadInvalidError(PixProblem.LOCATION_SCHEME, f"26/25 is {account[ACCOUNT_TAG_LOCATION]!r}")
    return account


def _amount(value: str | None) -> Money | None:
    if value is None:
        return None
    if not _AMOUNT_PATTERN.fullmatch(value):
        raise PixPayloadInvalidError(PixProblem.AMOUNT_FORMAT, f"field 54 is {value!r}")
    amount = Money.from_decimal(value, Currency.BRL)
    if amount.amount <= 0:
        raise PixPayloadInvalidError(PixProblem.AMOUNT_NOT_POSITIVE, f"field 54 is {value!r}")
    return amount


def _txid(additional_data: str | None) -> str | None:
    if additional_data is None:
        raise PixPayloadInvalidError(PixProblem.TXID, "field 62 is missing")
    txid = {field.tag: field.value for field in _parse_tlv(additional_data, parent="62: ")}.get(
        ADDITIONAL_DATA_TAG_TXID
    )
    if txid == NO_TXID:
        return None
    if txid is None or not _TXID_PATTERN.fullmatch(txid):
        raise PixPayloadInvalidError(PixProblem.TXID, f"62/05 is {txid!r}")
    return txid


def build_pix_payload(
    key_or_location: str,
    merchant_name: str,
    merchant_city: str,
    amount: Money | None,
    txid: str | None,
    dynamic: bool,
) -> str:
    """A valid "Pix copia e cola" payload.

    Static (``dynamic=False``): ``key_or_location`` is the Pix key, ``txid`` at most 25 letters and digits or None.
    Dynamic: ``key_or_location`` is the location URL without scheme, ``txid`` must be None (it lives behind the
    location). ``amount`` (BRL, positive) is optional in both. Name and city are made plain upper-case ASCII and
    truncated. The result passes ``validate_pix_payload``.
    """
    name = _plain_upper_ascii(merchant_name, MAX_MERCHANT_NAME_LENGTH)
    if not name:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_NAME, "no printable character left", field="merchant_name")
    city = _plain_upper_ascii(merchant_city, MAX_MERCHANT_CITY_LENGTH)
    if not city:
        raise PixPayloadInvalidError(PixProblem.MERCHANT_CITY, "no printable character left", field="merchant_city")
    account_value = key_or_location.strip()
    if not account_value:
        raise PixPayloadInvalidError(PixProblem.KEY_OR_LOCATION, "no key or location given", field="key_or_location")
    if dynamic and txid is not None:
        raise PixPayloadInvalidError(PixProblem.DYNAMIC_TXID, "a dynamic code carries '***' in 62/05", field="txid")
    if txid is not None and not _TXID_PATTERN.fullmatch(txid):
        raise PixPayloadInvalidError(PixProblem.TXID, f"txid is {txid!r}", field="txid")

    account_field = ACCOUNT_TAG_LOCATION if dynamic else ACCOUNT_TAG_KEY
    parts = [_tlv(TAG_PAYLOAD_FORMAT, "01")]
    if dynamic:
        parts.append(_tlv(TAG_POINT_OF_INITIATION, PointOfInitiation.SINGLE_USE.value))
    parts.append(_tlv(TAG_MERCHANT_ACCOUNT, _tlv(ACCOUNT_TAG_GUI, PIX_GUI) + _tlv(account_field, account_value)))
    parts += [_tlv(TAG_MERCHANT_CATEGORY, "0000"), _tlv(TAG_CURRENCY, "986")]
    if amount is not None:
        parts.append(_tlv(TAG_AMOUNT, _amount_text(amount)))
    parts += [
        _tlv(TAG_COUNTRY, "BR"),
        _tlv(TAG_MERCHANT_NAME, name),
        _tlv(TAG_MERCHANT_CITY, city),
        _tlv(TAG_ADDITIONAL_DATA, _tlv(ADDITIONAL_DATA_TAG_TXID, txid or NO_TXID)),
    ]
    unsigned = "".join(parts) + CRC_FIELD_PREFIX
    return validate_pix_payload(unsigned + crc16_ccitt_false(unsigned)).text


def _tlv(tag: str, value: str) -> str:
    if len(value) > MAX_TLV_LENGTH:
        raise PixPayloadInvalidError(PixProblem.FIELD_TOO_LONG, f"field {tag} would hold {len(value)} characters")
    return f"{tag}{len(value):02d}{value}"


def _amount_text(amount: Money) -> str:
    if amount.currency is not Currency.BRL:
        raise PixPayloadInvalidError(PixProblem.CURRENCY, f"amount is in {amount.currency}", field="amount")
    if amount.amount <= 0:
        raise PixPayloadInvalidError(PixProblem.AMOUNT_NOT_POSITIVE, f"amount is {amount.amount}", field="amount")
    return f"{amount.to_decimal():f}"


def _plain_upper_ascii(text: str, limit: int) -> str:
    """Accents removed, printable ASCII kept, spaces collapsed, upper-cased, truncated to ``limit`` characters."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(char for char in decomposed if char.isascii() and char.isprintable())
    collapsed = " ".join(ascii_only.split()).upper()
    return collapsed[:limit].rstrip()
