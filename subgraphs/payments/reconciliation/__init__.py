"""Reconciliation: one sweep over stuck payments and refunds, its CLI and its periodic task."""
