"""The auth subgraph: accounts, passwords, access and refresh tokens, e-mail verification and
password reset. Owns the `auth` PostgreSQL schema and the JWT signing key."""
