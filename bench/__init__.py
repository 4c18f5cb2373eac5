"""`make bench`: the load harness (see docs/performance.md)."""
