"""Use cases: handlers that own a unit of work, ports, and read-side queries."""
