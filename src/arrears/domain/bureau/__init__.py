"""Credit reporting: the month, the per-loan monthly snapshot, the bureau code tables, the
fixed-width layouts (Metro 2 and our PBOC-style account record) and the file validator."""
