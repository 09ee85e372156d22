"""Collection strategies the tests run, as the TOML a lender would write."""

PLACE_WLD = """
name = "place"
product = "WLD-DAILY"
[[champion]]
name = "place"
kind = "agency_placement"
from = 1
to = 400
scope = "remote"
days = 10
"""
"""Every overdue WLD-DAILY loan placed with the least loaded eligible agency for 10 days."""
