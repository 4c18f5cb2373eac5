"""The admin subgraph (ADMIN only): the user directory, system configuration and, later, audit
logs and analytics. Owns the `admin` PostgreSQL schema; reads users through the read-only view
`auth.user_directory` (the documented contract between auth and admin)."""
