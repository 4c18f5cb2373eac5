"""Which accounts each money movement debits and credits (docs/ledger.md has a worked example).

Accounts (per currency; a row carries its currency):
- `razorpay_clearing`: what Razorpay holds for us (captures net of its fee, less refunds).
- `vendor_payable:<vendor id>`: what the platform owes a vendor (the payment's net amount).
- `platform_fees`: the platform's fee income. `platform_revenue`: payments without a vendor payee.
- `psp_fees` / `psp_tax`: Razorpay's fee (without tax) and the tax on it, our expenses.
- `customer_refunds`: money captured that must go back to the customer (a late capture for a
  cancelled payment) until the refund is processed.

A leg's amount is signed: positive = DEBIT, negative = CREDIT (`chain.Leg`). Each function returns
legs that sum to 0.

Refunds share the payment's fee split: after refunds totalling `c` the vendor has given back
`round_half_up(c * net / amount)`, the platform the rest, so a full refund returns exactly the net
amount to the customer from the vendor and the fee from the platform, whatever the partial steps;
Razorpay keeps its fee (it does not return it on refunds).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from shared.fee_rules import round_half_up
from subgraphs.payments.ledger.chain import DEBIT, Leg
from subgraphs.payments.models import LedgerEntry, Payment

CLEARING = "razorpay_clearing"
PLATFORM_FEES = "platform_fees"
PLATFORM_REVENUE = "platform_revenue"
PSP_FEES = "psp_fees"
PSP_TAX = "psp_tax"
CUSTOMER_REFUNDS = "customer_refunds"
VENDOR_PREFIX = "vendor_payable:"

# Row kinds.
CAPTURE = "capture"
PLATFORM_FEE = "platform_fee"
PSP_FEE = "psp_fee"
PSP_TAX_KIND = "psp_tax"
LATE_CAPTURE = "late_capture"
REFUND = "refund"
REFUND_REVERSAL = "refund_reversal"

CAPTURE_KINDS = frozenset({CAPTURE, PLATFORM_FEE, LATE_CAPTURE})


def vendor_account(vendor_id: uuid.UUID) -> str:
    return f"{VENDOR_PREFIX}{vendor_id}"


def _psp_legs(psp_fee_minor: int, psp_tax_minor: int) -> list[Leg]:
    tax = min(max(psp_tax_minor, 0), max(psp_fee_minor, 0))
    return [
        Leg(PSP_FEES, max(psp_fee_minor, 0) - tax, PSP_FEE),
        Leg(PSP_TAX, tax, PSP_TAX_KIND),
    ]


def capture(payment: Payment, *, psp_fee_minor: int, psp_tax_minor: int) -> list[Leg]:
    """A capture of the whole amount: Razorpay owes us amount - its fee; we owe the vendor the
    net amount and keep the platform fee (or keep it all without a vendor payee)."""
    amount, fee = payment.amount_minor, payment.fee_minor
    psp = _psp_legs(psp_fee_minor, psp_tax_minor)
    legs = [Leg(CLEARING, amount - sum(leg.amount_minor for leg in psp), CAPTURE), *psp]
    if payment.payee_id is not None:
        legs.append(Leg(vendor_account(payment.payee_id), -(amount - fee), CAPTURE))
        legs.append(Leg(PLATFORM_FEES, -fee, PLATFORM_FEE))
    else:
        legs.append(Leg(PLATFORM_REVENUE, -amount, CAPTURE))
    return legs


def late_capture(payment: Payment, *, psp_fee_minor: int, psp_tax_minor: int) -> list[Leg]:
    """A capture for a CANCELLED payment: all of it is owed back to the customer (no platform
    fee); Razorpay's fee is still ours to bear."""
    psp = _psp_legs(psp_fee_minor, psp_tax_minor)
    amount = payment.amount_minor
    return [
        Leg(CLEARING, amount - sum(leg.amount_minor for leg in psp), LATE_CAPTURE),
        *psp,
        Leg(CUSTOMER_REFUNDS, -amount, LATE_CAPTURE),
    ]


def vendor_share(payment: Payment, refunded_minor: int) -> int:
    """What the vendor has given back after refunds totalling `refunded_minor`."""
    net = payment.amount_minor - payment.fee_minor
    return round_half_up(refunded_minor * net, payment.amount_minor)


def refund(
    payment: Payment, *, amount_minor: int, refunded_before: int, vendor_given_back: int
) -> list[Leg]:
    """A processed refund of `amount_minor` after `refunded_before` had been refunded; the vendor
    has given back `vendor_given_back` so far (read from the ledger)."""
    legs = [Leg(CLEARING, -amount_minor, REFUND)]
    if payment.status == "CANCELLED":
        legs.append(Leg(CUSTOMER_REFUNDS, amount_minor, REFUND))
    elif payment.payee_id is None:
        legs.append(Leg(PLATFORM_REVENUE, amount_minor, REFUND))
    else:
        target = vendor_share(payment, refunded_before + amount_minor)
        from_vendor = min(max(target - vendor_given_back, 0), amount_minor)
        legs.append(Leg(vendor_account(payment.payee_id), from_vendor, REFUND))
        legs.append(Leg(PLATFORM_FEES, amount_minor - from_vendor, REFUND))
    return legs


def reversal(rows: Iterable[LedgerEntry]) -> list[Leg]:
    """The exact mirror of earlier rows (a refund that failed after it was processed)."""
    return [
        Leg(
            row.account,
            -row.amount_minor if row.direction == DEBIT else row.amount_minor,
            REFUND_REVERSAL,
        )
        for row in rows
    ]
