"""The payments subgraph: payments, their transactions and lifecycle, Relay listings, and the
outbox of payment events. Owns the `payments` PostgreSQL schema."""
