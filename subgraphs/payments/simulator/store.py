"""The simulator's state and Razorpay's rules for moving it.

Every public method runs under one re-entrant lock and returns the entity plus the webhook
events Razorpay would send for that change, each carrying a snapshot taken at that moment.
With a state file, the state is saved after every change and read at start (`persistence`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from subgraphs.payments.simulator import ids, persistence
from subgraphs.payments.simulator.checkout import Attempt, acquirer_data, fee_and_tax
from subgraphs.payments.simulator.entities import Order, Payment, Refund
from subgraphs.payments.simulator.errors import bad_request, invalid_id, invalid_input, not_found
from subgraphs.payments.simulator.events import Event, event
from subgraphs.payments.simulator.validation import (
    CaptureInput,
    OrderInput,
    RefundInput,
    check_minimum,
)

ORDER_ALREADY_PAID = (
    "Your payment has been declined as the order is already paid. "
    "Please initiate the payment with a new order."
)


IDEMPOTENCY_CONFLICT = "Different request with the same idempotency key has already been processed."


def _now() -> int:
    return int(time.time())


class Store:
    def __init__(self, *, state_file: Path | None = None, auto_capture: bool = True) -> None:
        self._lock = threading.RLock()
        self._state_file = state_file
        self._auto_capture = auto_capture
        self.orders: dict[str, Order] = {}
        self.payments: dict[str, Payment] = {}
        self.refunds: dict[str, Refund] = {}
        # X-Refund-Idempotency key -> (request fingerprint, refund id)
        self.idempotency: dict[str, tuple[str, str]] = {}
        if state_file is not None and state_file.exists():
            persistence.load(state_file, self)

    # --- lookups -------------------------------------------------------------------------

    def _find(self, table: dict[str, Any], prefix: str, entity_id: str) -> Any:
        if not ids.is_valid(prefix, entity_id):
            raise invalid_id(entity_id)
        found = table.get(entity_id)
        if found is None:
            raise not_found()
        return found

    def order(self, order_id: str) -> Order:
        with self._lock:
            found: Order = self._find(self.orders, "order", order_id)
            return found

    def payment(self, payment_id: str) -> Payment:
        with self._lock:
            found: Payment = self._find(self.payments, "pay", payment_id)
            return found

    def refund(self, refund_id: str) -> Refund:
        with self._lock:
            found: Refund = self._find(self.refunds, "rfnd", refund_id)
            return found

    def list_orders(self, *, receipt: str | None, count: int, skip: int) -> list[Order]:
        with self._lock:
            found = [o for o in self.orders.values() if receipt is None or o.receipt == receipt]
        found.sort(key=lambda o: o.created_at, reverse=True)
        return found[skip : skip + count]

    def order_payments(self, order_id: str) -> list[Payment]:
        with self._lock:
            self.order(order_id)
            found = [p for p in self.payments.values() if p.order_id == order_id]
        return list(reversed(found))

    def payment_refunds(self, payment_id: str, *, count: int, skip: int) -> list[Refund]:
        with self._lock:
            self.payment(payment_id)
            found = [r for r in self.refunds.values() if r.payment_id == payment_id]
        return list(reversed(found))[skip : skip + count]

    # --- orders --------------------------------------------------------------------------

    def create_order(self, data: OrderInput) -> Order:
        with self._lock:
            order = Order(
                id=ids.new_id("order"),
                amount=data.amount,
                currency=data.currency,
                receipt=data.receipt,
                notes=data.notes,
                payment_capture=(
                    self._auto_capture if data.payment_capture is None else data.payment_capture
                ),
                partial_payment=data.partial_payment,
                first_payment_min_amount=data.first_payment_min_amount,
                created_at=_now(),
            )
            self.orders[order.id] = order
            self._save()
            return order

    # --- payments ------------------------------------------------------------------------

    def attempt(
        self, order_id: str, attempt: Attempt, *, amount: int | None, email: str, contact: str,
        description: str | None, notes: dict[str, str],
    ) -> tuple[Payment, list[Event]]:  # fmt: skip
        """One Checkout attempt on an order: failed, authorized, or authorized then captured."""
        with self._lock:
            order = self.order(order_id)
            if order.status == "paid":
                raise bad_request(ORDER_ALREADY_PAID)
            due = order.amount_due
            paying = due if amount is None else amount
            if paying > due:
                raise invalid_input(
                    "Payment amount is greater than the amount due for order.", "amount"
                )
            if paying < due and not order.partial_payment:
                raise invalid_input("Partial payments are not enabled for this order.", "amount")
            minimum = order.first_payment_min_amount
            if order.amount_paid == 0 and minimum is not None and paying < minimum:
                raise invalid_input(
                    "The amount is less than the first payment min amount of the order.", "amount"
                )
            payment = Payment(
                id=ids.new_id("pay"),
                order_id=order.id,
                amount=paying,
                currency=order.currency,
                method=attempt.method,
                email=email,
                contact=contact,
                description=description,
                notes=dict(notes),
                created_at=_now(),
                **attempt.instrument,
            )
            self.payments[payment.id] = payment
            order.attempts += 1
            order.status = "attempted"
            events: list[Event] = []
            if attempt.outcome == "failure":
                failure = attempt.failure
                payment.status = "failed"
                payment.acquirer_data = acquirer_data(payment.method, succeeded=False)
                payment.error_code = failure.code
                payment.error_description = failure.description
                payment.error_source = failure.source
                payment.error_step = failure.step
                payment.error_reason = failure.reason
                events.append(event("payment.failed", payment=payment.to_json()))
            else:
                events += self._authorize(payment)
                if attempt.outcome == "success" and order.payment_capture:
                    events += self._capture(payment, order)
            self._save()
            return payment, events

    def _authorize(self, payment: Payment) -> list[Event]:
        payment.status = "authorized"
        payment.acquirer_data = acquirer_data(payment.method, succeeded=True)
        for name in ("error_code", "error_description", "error_source", "error_step"):
            setattr(payment, name, None)
        payment.error_reason = None
        return [event("payment.authorized", payment=payment.to_json())]

    def _capture(self, payment: Payment, order: Order) -> list[Event]:
        payment.status = "captured"
        payment.captured = True
        payment.fee, payment.tax = fee_and_tax(payment.amount)
        order.amount_paid += payment.amount
        events = [event("payment.captured", payment=payment.to_json())]
        if order.amount_due <= 0:
            order.status = "paid"
            events.append(event("order.paid", payment=payment.to_json(), order=order.to_json()))
        return events

    def capture(self, payment_id: str, data: CaptureInput) -> tuple[Payment, list[Event]]:
        """`POST /v1/payments/{id}/capture`: the amount must equal the authorized amount."""
        with self._lock:
            payment = self.payment(payment_id)
            if payment.captured:
                raise bad_request("This payment has already been captured")
            if payment.status != "authorized":
                raise bad_request(
                    "Only payments which have been authorized and not yet captured can be captured"
                )
            if data.amount != payment.amount:
                raise invalid_input(
                    "Capture amount must be equal to the amount authorized", "amount"
                )
            if data.currency != payment.currency:
                raise invalid_input(
                    "The currency should be the same as the payment currency", "currency"
                )
            order = self.order(payment.order_id)
            if order.amount_due < payment.amount:
                raise bad_request(ORDER_ALREADY_PAID)
            events = self._capture(payment, order)
            self._save()
            return payment, events

    def authorize_late(
        self, payment_id: str, *, capture: bool | None
    ) -> tuple[Payment, list[Event]]:
        """A failed payment the bank confirms later (Razorpay then authorizes it)."""
        with self._lock:
            payment = self.payment(payment_id)
            if payment.status != "failed":
                raise bad_request("Only failed payments can be authorized late")
            order = self.order(payment.order_id)
            events = self._authorize(payment)
            if (order.payment_capture if capture is None else capture) and (
                order.amount_due >= payment.amount
            ):
                events += self._capture(payment, order)
            self._save()
            return payment, events

    # --- refunds -------------------------------------------------------------------------

    def create_refund(
        self, payment_id: str, data: RefundInput, *, key: str | None, fingerprint: str
    ) -> tuple[Refund, list[Event]]:
        """`POST /v1/payments/{id}/refund`; a repeated idempotency key returns the first refund."""
        with self._lock:
            if key is not None and key in self.idempotency:
                seen, refund_id = self.idempotency[key]
                if seen != fingerprint:
                    raise bad_request(IDEMPOTENCY_CONFLICT)
                return self.refunds[refund_id], []
            payment = self.payment(payment_id)
            if payment.status == "refunded":
                raise bad_request("The payment has been fully refunded already")
            if not payment.captured:
                raise bad_request("The payment status should be captured for action to be taken")
            remaining = payment.amount - payment.amount_refunded
            amount = remaining if data.amount is None else data.amount
            check_minimum(amount, payment.currency)
            if amount > payment.amount:
                raise invalid_input(
                    "The refund amount provided is greater than amount captured", "amount"
                )
            if amount > remaining:
                raise invalid_input(
                    "The total refund amount is greater than the refund payment amount", "amount"
                )
            refund = Refund(
                id=ids.new_id("rfnd"),
                payment_id=payment.id,
                amount=amount,
                currency=payment.currency,
                notes=data.notes,
                receipt=data.receipt,
                speed_requested=data.speed,
                created_at=_now(),
            )
            self.refunds[refund.id] = refund
            payment.amount_refunded += amount
            if payment.amount_refunded >= payment.amount:
                payment.status = "refunded"
            if key is not None:
                self.idempotency[key] = (fingerprint, refund.id)
            snapshot = {"refund": refund.to_json(), "payment": payment.to_json()}
            events = [event("refund.created", **snapshot), event("refund.processed", **snapshot)]
            self._save()
            return refund, events

    def fail_refund(self, refund_id: str) -> tuple[Refund, list[Event]]:
        """The bank bounces a refund: the amount goes back to the payment as refundable."""
        with self._lock:
            refund = self.refund(refund_id)
            if refund.status == "failed":
                raise bad_request("The refund has already failed")
            payment = self.payments[refund.payment_id]
            refund.status = "failed"
            payment.amount_refunded -= refund.amount
            if payment.status == "refunded":
                payment.status = "captured"
            snapshot = {"refund": refund.to_json(), "payment": payment.to_json()}
            self._save()
            return refund, [event("refund.failed", **snapshot)]

    def reset(self) -> None:
        with self._lock:
            self.orders.clear()
            self.payments.clear()
            self.refunds.clear()
            self.idempotency.clear()
            self._save()

    def _save(self) -> None:
        if self._state_file is not None:
            persistence.save(self._state_file, self)
