"""Who may see or act on which payment: the payments subgraph's row rules, in one place.

Field-level rules (`@authenticated`, `@requiresScopes`, `@policy`) are declared on the fields and
enforced by `shared.authz`; the rules here depend on the payment row itself:

- view: the payer, the payee, the creator, or ADMIN. To anyone else a payment does not exist:
  NOT_FOUND, exactly as for an unknown id, never FORBIDDEN, so ids cannot be probed.
- pay (startCheckout, verifyPayment): the payer only (ADMIN too is refused: paying is the
  payer's act).
- cancel: the creator or ADMIN.
- refund: the payee, when a VENDOR, or ADMIN.
- listings (`payments`): a caller's own (payer, payee or creator); ADMIN all.
- the report (`paymentReport`): a VENDOR's own (payee or creator); ADMIN all.

Acting on a payment the caller can see but may not act on is FORBIDDEN. The SQL twins of the
listing and report scopes are `repository.party_condition` and `repository.report_condition`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from shared.context import Principal
from shared.errors import Forbidden, NotFound
from shared.scopes import Role
from subgraphs.payments.enums import PaymentType
from subgraphs.payments.models import Payment

if TYPE_CHECKING:
    from subgraphs.payments.repository import PaymentQuery

NOT_FOUND = "Payment not found"


def can_view(principal: Principal, payment: Payment) -> bool:
    return principal.is_admin or principal.id in (
        payment.payer_id,
        payment.payee_id,
        payment.created_by,
    )


def require_visible(principal: Principal, payment: Payment | None) -> Payment:
    """The payment, if the caller may see it; NOT_FOUND when it is unknown or hidden alike."""
    if payment is None or not can_view(principal, payment):
        raise NotFound(NOT_FOUND)
    return payment


def payer_of(payment: Payment) -> uuid.UUID | None:
    """Who pays: the creator of a PAYMENT, the named payer of an INITIATE request."""
    if payment.type == PaymentType.PAYMENT:
        return payment.created_by
    return payment.payer_id


def is_payer(principal: Principal, payment: Payment) -> bool:
    return payer_of(payment) == principal.id


def can_cancel(principal: Principal, payment: Payment) -> bool:
    return principal.is_admin or payment.created_by == principal.id


def can_refund(principal: Principal, payment: Payment) -> bool:
    return principal.is_admin or (
        principal.role is Role.VENDOR and payment.payee_id == principal.id
    )


def _ensure(
    principal: Principal,
    payment: Payment | None,
    allowed: Callable[[Principal, Payment], bool],
    refusal: str,
) -> Payment:
    """NOT_FOUND unless visible, then FORBIDDEN unless `allowed`."""
    visible = require_visible(principal, payment)
    if not allowed(principal, visible):
        raise Forbidden(refusal)
    return visible


def ensure_payer(principal: Principal, payment: Payment | None) -> Payment:
    return _ensure(principal, payment, is_payer, "Only the payer can do this")


def ensure_can_cancel(principal: Principal, payment: Payment | None) -> Payment:
    return _ensure(
        principal, payment, can_cancel, "Only the payment's creator or an admin can cancel it"
    )


def ensure_can_refund(principal: Principal, payment: Payment | None) -> Payment:
    return _ensure(
        principal, payment, can_refund, "Only the payee vendor or an admin can refund a payment"
    )


def visible_query(principal: Principal, query: PaymentQuery) -> PaymentQuery:
    """Narrow a listing to the caller's own payments unless the caller is ADMIN."""
    if principal.is_admin:
        return query
    return replace(query, party_id=principal.id)


def report_party(principal: Principal) -> uuid.UUID | None:
    """Whose payments a report covers: None (everyone's) for ADMIN, else the caller's own."""
    return None if principal.is_admin else principal.id


def is_self_or_admin(principal: Principal, user_id: object) -> bool:
    """`user_id` is the caller's own, or the caller is ADMIN (`User.payments`)."""
    return principal.is_admin or str(user_id) == str(principal.id)
