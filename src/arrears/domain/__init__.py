"""The pure loan domain: money, rates, schedules, accrual, waterfall, delinquency, APR.

Standard library only; no I/O and no clock. Dates come in as parameters.
"""
