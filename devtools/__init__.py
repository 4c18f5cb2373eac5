"""Development-only tooling: the dev orchestrator, embedded PostgreSQL and Redis, the SMTP sink and
the schema exporter. Installed with the dev dependency group; never in the production image."""
