"""The admin subgraph (ADMIN only): system configuration, audit logs, analytics and dead letters.
Owns the `admin` PostgreSQL schema; reads other services' data only through federation, events
and the read-only views their owners publish (`auth.user_directory`, `payments.payment_facts`).
User administration belongs to auth, which owns the accounts."""
