"""Use cases. Each takes its inputs and keyword-only dependencies and owns its transaction."""
