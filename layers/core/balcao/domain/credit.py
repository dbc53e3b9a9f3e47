"""An account's credit: a ledger of signed entries and a balance that is their sum and never goes negative.

Each entry and the ``CREDIT_BALANCE`` item change in the same transaction (the balance's condition refuses a debit
larger than it). Credit is kept in one currency per account (the account's currency never changes once billed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError, InvalidInputError
from balcao.domain.money import Currency, Money


class CreditKind(StrEnum):
    OVERPAYMENT = "overpayment"  # a payment beyond the amount due, or on an invoice already paid
    LATE_PAYMENT = "late_payment"  # a payment for a cancelled invoice
    FUNDS_ADDED = "funds_added"  # an add-funds invoice was paid
    DOWNGRADE = "downgrade"  # a downgrade's unused time
    REFUND = "refund"  # a credit note or a refund, kept as credit
    MANUAL = "manual"  # staff, with a note
    APPLIED = "applied"  # spent on an invoice (negative)
    REVERSAL = "reversal"  # credit a reversed payment had made, taken back (negative; never below zero)


class InsufficientCreditError(ConflictError):
    default_message = N_("The credit balance is not enough for this.")


class CreditCurrencyMismatchError(InvalidInputError):
    """Credit in another currency than the account's credit."""


@dataclass(frozen=True, slots=True)
class CreditEntry:
    """One ledger line: positive adds credit, negative spends it."""

    entry_id: str
    account_id: str
    kind: CreditKind
    amount: Money
    at: datetime
    invoice_id: str | None = None
    payment_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CreditBalance:
    account_id: str
    balance: Money | None  # None before any credit: no currency yet
    auto_apply: bool = True

    def amount_in(self, currency: Currency) -> Money:
        if self.balance is None or self.balance.currency != currency:
            return Money.zero(currency)
        return self.balance

    def applicable_to(self, amount_due: Money) -> Money:
        """What automatic application spends on an invoice: the balance, up to what is due (zero if opted out)."""
        if not self.auto_apply:
            return Money.zero(amount_due.currency)
        available = self.amount_in(amount_due.currency)
        return available if available <= amount_due else amount_due
