"""The evidence log's pure parts: chains link and hash canonically, and the checkpoint's Merkle
tree proves every leaf of every size (and nothing else)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import evidence as chain

AT = datetime(2026, 3, 21, 2, 0, tzinfo=UTC)


def _chain(payloads: list[dict]) -> list[chain.Entry]:
    entries: list[chain.Entry] = []
    for payload in payloads:
        prev = entries[-1] if entries else None
        entries.append(chain.link(borrower="B-1", prev_seq=prev.seq if prev else 0,
                                  prev_hash=prev.hash if prev else chain.GENESIS,
                                  kind="contact", at=AT, payload=payload).entry)
    return entries


# `files` is the payload's one reserved key (a name → sha256 map of attached files), tested
# with bundles; any other key is free.
payloads = st.lists(st.dictionaries(st.text(max_size=5).filter(lambda key: key != "files"),
                                    st.integers() | st.text(max_size=8), max_size=3),
                    min_size=1, max_size=8)


@given(payloads)
def test_link_gives_the_bytes_it_hashed(items: list[dict]) -> None:
    """A store keeps `Linked`'s bytes as they are: they must be the entry's own canonical
    JSON, and its hash theirs."""
    prev_seq, prev_hash = 0, chain.GENESIS
    for payload in items:
        made = chain.link(borrower="B-1", prev_seq=prev_seq, prev_hash=prev_hash,
                          kind="contact", at=AT, payload=payload)
        entry = made.entry
        assert made.hashed_json == chain.canonical_json(entry.hashed())
        assert made.payload_json == chain.canonical_json(payload)
        assert entry.hash == chain.entry_hash(entry.hashed())
        assert entry.payload_sha256 == chain.payload_digest(payload)
        assert (entry.seq, entry.prev) == (prev_seq + 1, prev_hash)
        prev_seq, prev_hash = entry.seq, entry.hash


@given(payloads)
def test_a_chain_verifies_and_any_edit_is_named(items: list[dict]) -> None:
    entries = _chain(items)
    lines = [e.line() for e in entries]
    assert chain.verify_chain(lines, "B-1", {}) == (entries, [])
    for i, entry in enumerate(entries):
        edited = entry.line().replace(b'"kind":"contact"', b'"kind":"letter"')
        _, problems = chain.verify_chain([*lines[:i], edited, *lines[i + 1:]], "B-1", {})
        assert [p.where for p in problems] == [f"entry {i + 1}"]


def test_a_purged_payload_keeps_the_chain_and_the_hash_ignores_key_order() -> None:
    entries = _chain([{"b": 1, "a": "x"}, {"n": "二"}])
    purged = [chain.Entry(**{**e.hashed(), "hash": e.hash, "payload": None}) for e in entries]
    assert chain.verify_chain([e.line() for e in purged], "B-1", {})[1] == []
    assert chain.payload_digest({"a": "x", "b": 1}) == entries[0].payload_sha256


@given(st.integers(1, 70), st.data())
def test_every_leaf_has_an_inclusion_path_to_the_root(size: int, data: st.DataObject) -> None:
    leaves = [chain.leaf_hash(f"B-{i}", i + 1, f"{i:064x}") for i in range(size)]
    root = chain.merkle_root(leaves)
    index = data.draw(st.integers(0, size - 1))
    path = chain.inclusion_path(leaves, index)
    assert chain.root_from_path(leaves[index], index, size, path) == root
    other = data.draw(st.integers(0, size - 1).filter(lambda j: j != index)) if size > 1 else None
    if other is not None:
        assert chain.root_from_path(leaves[other], index, size, path) != root
        assert chain.root_from_path(leaves[index], other, size, path) != root
    assert chain.root_from_path(leaves[index], size, size, path) is None  # no such leaf


def test_an_entry_that_is_not_strict_json_is_a_problem_not_a_crash() -> None:
    line = _chain([{}])[0].line()
    for payload in (b"NaN", b"1e999", b"[" * 100_000 + b"]" * 100_000,
                    b'{"a":1,"a":2}', b"9" * 5000):
        edited = line.replace(b'"payload":{}', b'"payload":' + payload)
        assert [p.where for p in chain.verify_chain([edited], "B-1", {})[1]] == ["entry 1"]
    assert chain.verify_bundle({chain.MANIFEST: b"[" * 100_000}, lambda *a: True).problems


def _purged(entries: list[chain.Entry], *indices: int) -> list[chain.Entry]:
    return [chain.Entry(**{**e.hashed(), "hash": e.hash, "payload": None})
            if i in indices else e for i, e in enumerate(entries)]


def test_payloads_count_as_purged_only_from_the_start_and_after_retention() -> None:
    entries = _chain([{"a": 1}, {"b": 2}, {"c": 3}])
    three_years = int(datetime(2029, 3, 21, tzinfo=UTC).timestamp())
    assert chain.purge_problem(_purged(entries, 0, 1), three_years) is None
    assert chain.purge_problem(entries, 0) is None  # nothing purged
    # A payload stripped out of the middle, or before retention could have ended.
    assert chain.purge_problem(_purged(entries, 1), three_years) is not None
    stripped = chain.purge_problem(_purged(entries, 0, 1, 2), three_years - 3 * 86_400)
    assert stripped is not None and stripped.where == "entry 3"
    assert chain.purge_problem(_purged(entries, 0), "soon") is not None
