"""GraphQL types of the ledger (the contract's "Fees and the ledger")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from shared.money import to_major
from subgraphs.payments.models import LedgerEntry as LedgerRow


@strawberry.enum(description="Which side of a double-entry row: debits and credits balance.")
class LedgerDirection(Enum):
    DEBIT = strawberry.enum_value(
        "DEBIT", description="Increases an asset or expense account, decreases what is owed."
    )
    CREDIT = strawberry.enum_value(
        "CREDIT", description="Increases a liability or income account, decreases an asset."
    )


@strawberry.enum(description="The length of one row of a financial report (UTC calendar).")
class ReportPeriod(Enum):
    DAY = strawberry.enum_value("DAY", description="One UTC calendar day per row.")
    WEEK = strawberry.enum_value("WEEK", description="One ISO week (from Monday, UTC) per row.")
    MONTH = strawberry.enum_value("MONTH", description="One UTC calendar month per row.")


@strawberry.type(
    description=(
        "One leg of a money movement in the append-only, hash-chained double-entry ledger."
    )
)
class LedgerEntry:
    id: strawberry.ID = strawberry.field(description="The row's id.")
    account: str = strawberry.field(
        description=(
            "The account: razorpay_clearing, vendor_payable:<vendor id>, platform_fees, "
            "platform_revenue, psp_fees, psp_tax or customer_refunds."
        )
    )
    direction: LedgerDirection = strawberry.field(description="DEBIT or CREDIT.")
    amount: Decimal = strawberry.field(description="Major units, always positive.")
    currency: str = strawberry.field(description="ISO 4217 code.")
    kind: str = strawberry.field(
        description=(
            "What moved: capture, platform_fee, psp_fee, psp_tax, late_capture, refund, "
            "refund_reversal."
        )
    )
    created_at: datetime = strawberry.field(description="When the row was written.")
    hash: str = strawberry.field(
        description="SHA-256 (hex) over the previous row's hash and this row's canonical content."
    )

    @classmethod
    def from_row(cls, row: LedgerRow) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(row.id)),
            account=row.account,
            direction=LedgerDirection[row.direction],
            amount=to_major(row.amount_minor, row.currency),
            currency=row.currency,
            kind=row.kind,
            created_at=row.created_at,
            hash=row.hash,
        )


@strawberry.type(description="What the platform owes the calling vendor in one currency.")
class Balance:
    currency: str = strawberry.field(description="ISO 4217 code.")
    pending: Decimal = strawberry.field(
        description="Owed for captures still within their settlement delay."
    )
    available: Decimal = strawberry.field(
        description="Owed for captures past their settlement delay (can be paid out)."
    )


@strawberry.type(description="The outcome of recomputing the ledger's hash chain.")
class LedgerVerification:
    ok: bool = strawberry.field(description="True when every row's content and link match.")
    checked_entries: int = strawberry.field(description="How many rows were recomputed.")
    first_broken_entry_id: strawberry.ID | None = strawberry.field(
        description="The first row whose content or link no longer matches its hash, if any."
    )


@strawberry.type(description="One period and currency of the financial report, from the ledger.")
class FinancialReportRow:
    period_start: datetime = strawberry.field(description="Start of the period (UTC).")
    currency: str = strawberry.field(description="ISO 4217 code.")
    captured: Decimal = strawberry.field(description="Gross amounts captured in the period.")
    refunded: Decimal = strawberry.field(
        description="Refunds processed in the period, less refunds that failed afterwards."
    )
    platform_fees: Decimal = strawberry.field(
        description="Platform fee income, net of the fee share returned on refunds."
    )
    psp_fees: Decimal = strawberry.field(description="Razorpay's fees and their tax.")
    payable_to_vendors: Decimal = strawberry.field(
        description="Net change of what the platform owes vendors."
    )
