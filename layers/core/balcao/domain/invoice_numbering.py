"""Invoice numbers: series patterns, gapless sequences and the chain of record hashes.

A series pattern is text with three placeholders: ``{year}`` (the issue year, which starts a new sequence each
year), ``{number}`` (mandatory, optionally zero-padded as ``{number:06d}``) and nothing else — e.g.
``INV-{year}-{number:06d}`` gives ``INV-2026-000123``. The sequence a number comes from is the pattern with the year
filled in, so a new year (or a new pattern) starts again at 1; invoices and credit notes have their own series
(Spain, RD 1619/2012 art. 6.1.a: numbering within a series is correlative; rectificativas in their own series).

Numbers are claimed in the same transaction that issues the document (decision 0010): the sequence moves from ``n``
to ``n + 1`` only if it still is ``n``, so a number is never skipped nor reused, whatever runs concurrently. That
transaction also moves the chain head: each numbered record carries the hash of the previous one (the slot a fiscal
hash chain such as Spain's VeriFactu fills, without a migration).
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from datetime import date

from balcao.domain.errors import N_, FieldProblem, InvalidInputError
from balcao.domain.money import Money

PLACEHOLDERS = frozenset({"year", "number"})
_NUMBER_SPEC = re.compile(r"^0[1-9]d?$|^d?$")
MAX_PATTERN_LENGTH = 60


class SeriesPatternInvalidError(InvalidInputError):
    """A series pattern with an unknown placeholder, no ``{number}`` or an unusable format."""


@dataclass(frozen=True, slots=True)
class SeriesPattern:
    text: str

    def __post_init__(self) -> None:
        problem = pattern_problem(self.text)
        if problem is not None:
            raise SeriesPatternInvalidError([FieldProblem("pattern", "invalid", problem)])

    def sequence_id(self, year: int) -> str:
        """The sequence this pattern draws from in ``year``: the pattern with the year filled in."""
        head, _, tail = self.text.partition("{number")
        return (head.replace("{year}", f"{year:04d}") + "{number" + tail).replace("{{", "{").replace("}}", "}")

    def format(self, year: int, number: int) -> str:
        return self.text.format(year=f"{year:04d}", number=number)


def pattern_problem(text: str) -> str | None:
    """Why ``text`` cannot be a series pattern (a msgid), or None."""
    if not text or len(text) > MAX_PATTERN_LENGTH:
        return N_("A series pattern has 1 to 60 characters.")
    try:
        fields = [(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return N_("A series pattern may only use the placeholders {year} and {number}.")
    names = [name for name, _ in fields]
    if any(name not in PLACEHOLDERS for name in names) or len(names) != len(set(names)):
        return N_("A series pattern may only use the placeholders {year} and {number}.")
    if "number" not in names:
        return N_("A series pattern needs the placeholder {number}.")
    if any(name == "year" and spec for name, spec in fields):
        return N_("The placeholder {year} takes no format.")
    if any(name == "number" and not _NUMBER_SPEC.match(spec or "") for name, spec in fields):
        return N_("The placeholder {number} takes only a zero-padded width, such as {number:06d}.")
    return None


@dataclass(frozen=True, slots=True)
class SequenceState:
    """Where a sequence stands: the last number given (0 before the first) and the hash of its record."""

    sequence_id: str
    last: int = 0
    chain_head: str | None = None


@dataclass(frozen=True, slots=True)
class NumberClaim:
    """The next number of a sequence, as one issuing transaction claims it (condition: ``last`` unchanged)."""

    sequence_id: str
    expected_last: int
    number: int
    formatted: str
    previous_hash: str | None
    record_hash: str
    document_id: str


def claim_next(
    state: SequenceState, pattern: SeriesPattern, issue_date: date, total: Money, document_id: str
) -> NumberClaim:
    number = state.last + 1
    formatted = pattern.format(issue_date.year, number)
    return NumberClaim(
        sequence_id=state.sequence_id,
        expected_last=state.last,
        number=number,
        formatted=formatted,
        previous_hash=state.chain_head,
        record_hash=record_hash(formatted, issue_date, total, document_id, state.chain_head),
        document_id=document_id,
    )


def record_hash(number: str, issue_date: date, total: Money, document_id: str, previous: str | None) -> str:
    """SHA-256 (upper-case hex) of the record's fiscal facts and the previous record's hash: altering or removing
    one numbered document breaks every later hash of its sequence."""
    facts = "&".join(
        (
            f"number={number}",
            f"date={issue_date.isoformat()}",
            f"total={total.to_decimal()}",
            f"currency={total.currency.value}",
            f"document={document_id}",
            f"previous={previous or ''}",
        )
    )
    return hashlib.sha256(facts.encode()).hexdigest().upper()
