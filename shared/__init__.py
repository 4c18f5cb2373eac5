"""Code shared by every service of the payments BFF (settings, database, tokens, access rules,
errors, logging, the subgraph application factory)."""
