"""Reconciliation: find what the link missed or left waiting, repair what is safe to repair."""
