"""Vectorised end-of-day kernels and their executors."""
