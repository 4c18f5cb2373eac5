"""The per-payment channel's message format and the listener's back-off (the listener itself:
`test_hub.py`)."""

from __future__ import annotations

import uuid

from shared.outbox import Backoff
from subgraphs.payments.live.pubsub import decode_update, encode_update


def test_message_format() -> None:
    event_id, payment_id = uuid.uuid4(), uuid.uuid4()
    raw = encode_update(event_id=event_id, payment_id=payment_id, type="payments:payment:failed")
    assert decode_update(raw) == decode_update(raw.encode()) == str(event_id)
    assert decode_update("[]") is None
    assert decode_update('{"eventId": ""}') is None


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=0.3)
    assert not backoff.failing
    assert [backoff.next() for _ in range(4)] == [0.1, 0.2, 0.3, 0.3]
    assert backoff.failing
    backoff.reset()
    assert backoff.next() == 0.1
