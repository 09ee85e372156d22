"""The pure compliance engine and its jurisdiction rule packs.

Python API for the other layers::

    from arrears.compliance import codec, packs
    from arrears.compliance import engine as compliance_engine

    decision = compliance_engine.decide(action, facts, packs.get("us"), at)

`model` holds actions, rules and decisions; `facts` the case facts and their index;
`predicates` the exact time-window and counting helpers; `wording` the lexicon screen;
`codec` the JSON forms. Standard library and `arrears.domain` only; no clock is read.
"""
