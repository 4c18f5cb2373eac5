"""The four federated subgraphs: auth, payments, admin, profile."""
