"""The profile subgraph: each user's contact details, bio, avatar and preferences. Owns the
`profile` PostgreSQL schema."""
