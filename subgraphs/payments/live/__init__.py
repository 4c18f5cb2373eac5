"""Live updates: the outbox relay's fan-out and the per-payment Redis pub/sub channel."""
