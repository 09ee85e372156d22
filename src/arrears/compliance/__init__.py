"""The pure compliance engine and its jurisdiction rule packs."""
