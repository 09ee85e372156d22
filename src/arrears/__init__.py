"""Arrears: overdue-loan servicing and fair debt collection."""
