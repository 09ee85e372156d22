"""The evidence log: per-borrower SHA-256 hash chains, a Merkle tree over their heads for the
daily signed checkpoint, and the verification of an exported bundle — pure functions over
bytes. Signatures are checked through a callback, so no cryptography is imported here.

Entry: `{"at", "borrower", "kind", "prev", "payload_sha256", "seq"}` are the hashed fields;
`hash = sha256(canonical_json(hashed fields))`, `prev` is the previous entry's hash (64 zeros
for seq 1), and `payload_sha256 = sha256(canonical_json(payload))`. The payload is outside the
entry hash but committed to by its digest, so purging it after the retention period keeps
the chain verifiable. A payload names its attached files as `files: {name: sha256}`.

Checkpoint tree (RFC 9162 §2.1): leaf = sha256(0x00 || canonical_json({"borrower", "head",
"seq"})), node = sha256(0x01 || left || right), leaves in byte order of borrower id. The
checkpoint is an EdDSA JWS over `{"iss", "typ", "day", "iat", "size", "root"}`.

Bundle: `entries.jsonl` (one canonical entry per line, with `hash` and `payload`, which is
null once purged), `files/<seq>/<name>`, `checkpoint.jws`, `inclusion.json` (`{"leaf":
{borrower, head, seq}, "index", "size", "path": [hex…]}`) and `manifest.json` (every other
file's sha256). Verification needs only the standard library and an Ed25519 verifier.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from arrears.domain.jws import MalformedToken, canonical_json, parse, strict_loads

GENESIS = "0" * 64
FORMAT = "arrears-evidence/1"
CHECKPOINT_TYPE = "arrears-evidence-checkpoint"
HASHED_FIELDS = ("at", "borrower", "kind", "payload_sha256", "prev", "seq")
ENTRIES, CHECKPOINT, INCLUSION, MANIFEST, JWKS = (
    "entries.jsonl", "checkpoint.jws", "inclusion.json", "manifest.json", "jwks.json")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


MIN_RETENTION_YEARS = 3
"""The shortest retention of any jurisdiction (US-28): no payload is purged sooner after the
last event of its chain, so a bundle whose checkpoint is younger than that cannot show one."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_digest(payload: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(payload))


@lru_cache(maxsize=4096)  # a run of entries shares a few instants (planned, sent, logged)
def instant_text(at: datetime) -> str:
    """An instant as the chain writes it: UTC, ISO 8601, to the microsecond."""
    if at.tzinfo is None:
        raise ValueError("an evidence instant must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    borrower: str
    seq: int
    kind: str
    at: str
    prev: str
    payload_sha256: str
    hash: str
    payload: Mapping[str, Any] | None
    """None once purged."""

    def hashed(self) -> dict[str, Any]:
        return {"at": self.at, "borrower": self.borrower, "kind": self.kind,
                "payload_sha256": self.payload_sha256, "prev": self.prev, "seq": self.seq}

    def line(self) -> bytes:
        return canonical_json({**self.hashed(), "hash": self.hash, "payload": self.payload})


def entry_hash(hashed: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(hashed)))


@dataclass(frozen=True, slots=True)
class Linked:
    """A new entry and the canonical JSON of its hashed fields and of its payload, as `link`
    hashed them: a store keeps these very bytes instead of encoding the entry again."""

    entry: Entry
    hashed_json: bytes
    payload_json: bytes


def link(*, borrower: str, prev_seq: int, prev_hash: str, kind: str, at: datetime,
         payload: Mapping[str, Any]) -> Linked:
    """The next entry of a chain whose last entry is (`prev_seq`, `prev_hash`)."""
    payload_json = canonical_json(payload)
    stamp, digest, seq = instant_text(at), sha256_hex(payload_json), prev_seq + 1
    # `Entry.hashed`, written before the entry that its hash completes.
    hashed_json = canonical_json({"at": stamp, "borrower": borrower, "kind": kind,
                                  "payload_sha256": digest, "prev": prev_hash, "seq": seq})
    return Linked(Entry(borrower=borrower, seq=seq, kind=kind, at=stamp, prev=prev_hash,
                        payload_sha256=digest, hash=sha256_hex(hashed_json),
                        payload=dict(payload)), hashed_json, payload_json)


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February: 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def purge_problem(entries: Sequence[Entry], signed_at: object) -> Problem | None:
    """Whether the purged payloads are ones retention allowed to drop by `signed_at` (the
    checkpoint's `iat`, NumericDate): a purge drops every payload of its chain at once, so the
    purged entries are the first ones, and the checkpoint is at least MIN_RETENTION_YEARS after
    the latest of them (one day of slack for the zone the purge date was named in). Otherwise
    the payloads were stripped from the bundle, not purged."""
    purged = [e for e in entries if e.payload is None]
    if not purged:
        return None
    if any(e.payload is not None for e in entries[:len(purged)]):
        first = next(e for e in entries[len(purged):] if e.payload is None)
        return Problem(where=f"entry {first.seq}", reason="purged after an entry that was not "
                                                          "(payload stripped?)")
    try:
        last = max(date.fromisoformat(e.at[:10]) for e in purged)
        if isinstance(signed_at, bool) or not isinstance(signed_at, int):
            raise ValueError
        signed = datetime.fromtimestamp(signed_at, UTC).date()
    except (ValueError, OverflowError, OSError):
        return Problem(where=f"entry {purged[0].seq}", reason="purged, and the checkpoint "
                                                              "cannot date the purge")
    allowed = years_after(last, MIN_RETENTION_YEARS) - timedelta(days=1)
    if signed < allowed:
        return Problem(where=f"entry {purged[-1].seq}",
                       reason=f"purged, but retention of its chain runs to at least "
                              f"{allowed.isoformat()} (payload stripped?)")
    return None


# --- the checkpoint's Merkle tree ----------------------------------------------------------


def leaf_hash(borrower: str, seq: int, head: str) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json(
        {"borrower": borrower, "head": head, "seq": seq})).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two below n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` (RFC 9162 §2.1.3.1), nearest sibling first."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(leaves[:k], index), merkle_root(leaves[k:])]
    return [*inclusion_path(leaves[k:], index - k), merkle_root(leaves[:k])]


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to (RFC 9162 §2.1.3.2), or None if it cannot."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = _node(sibling, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, sibling)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# --- verifying a bundle --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    where: str
    """`entry 7`, `file files/2/letter.txt`, `checkpoint`, `inclusion.json`, `manifest.json`."""
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleReport:
    borrower: str
    entries: int
    purged: int
    checkpoint_day: str
    key_id: str
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


Verifier = Callable[[str, bytes, bytes], bool | None]
"""(key id, signed bytes, signature) -> True valid, False invalid, None unknown key."""


def _entry_from_line(number: int, raw: bytes) -> Entry | Problem:
    where = f"entry {number}"  # the entry that belongs at this line, until its seq is read
    try:
        document = strict_loads(raw)
    except MalformedToken:
        return Problem(where=where, reason=f"line {number} is not a JSON entry")
    if not isinstance(document, dict) or set(document) != {*HASHED_FIELDS, "hash", "payload"}:
        return Problem(where=where, reason=f"line {number} is not an evidence entry")
    seq = document["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int):
        return Problem(where=where, reason=f"line {number}: seq is not a whole number")
    strings = ("at", "borrower", "kind", "payload_sha256", "prev", "hash")
    if not all(isinstance(document[k], str) for k in strings) or \
            not (document["payload"] is None or isinstance(document["payload"], dict)):
        return Problem(where=where, reason="a field has the wrong type")
    if canonical_json(document) != raw:
        return Problem(where=where, reason="not in canonical form (edited by hand?)")
    return Entry(**{k: document[k] for k in (*HASHED_FIELDS, "hash", "payload")})


def verify_chain(lines: Sequence[bytes], borrower: str,
                 files: Mapping[str, bytes]) -> tuple[list[Entry], list[Problem]]:
    """Check every entry of one borrower's chain: order, links, hashes, payloads, files."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    prev_hash = GENESIS
    for number, raw in enumerate(lines, start=1):
        parsed = _entry_from_line(number, raw)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            return entries, problems  # the chain cannot be followed past an unreadable entry
        # Entries are named by the position they should hold: entry n is on line n.
        entry, where = parsed, f"entry {number}"
        if entry.seq != number:
            problems.append(Problem(where=where, reason=f"line {number} holds entry "
                                                        f"{entry.seq} (one was removed, added "
                                                        "or moved)"))
        elif entry.borrower != borrower:
            problems.append(Problem(where=where, reason=f"belongs to {entry.borrower}"))
        elif entry.prev != prev_hash:
            problems.append(Problem(where=where, reason="does not follow the entry before it "
                                                        "(one was removed, added or changed)"))
        elif entry_hash(entry.hashed()) != entry.hash:
            problems.append(Problem(where=where, reason="its hash does not match its contents"))
        elif entry.payload is not None and payload_digest(entry.payload) != entry.payload_sha256:
            problems.append(Problem(where=where, reason="its payload was changed"))
        else:
            problems.extend(_check_files(entry, files))
        entries.append(entry)
        prev_hash = entry.hash
    return entries, problems


def _check_files(entry: Entry, files: Mapping[str, bytes]) -> list[Problem]:
    if entry.payload is None:
        return []
    named = entry.payload.get("files", {})
    if not isinstance(named, dict):
        return [Problem(where=f"entry {entry.seq}", reason="files is not a name → hash map")]
    problems = []
    for name, digest in sorted(named.items()):
        path = f"files/{entry.seq}/{name}"
        content = files.get(path)
        if content is None:
            problems.append(Problem(where=f"entry {entry.seq}", reason=f"{path} is missing"))
        elif sha256_hex(content) != digest:
            problems.append(Problem(where=f"entry {entry.seq}",
                                    reason=f"{path} does not match its hash"))
    return problems


def _unnamed_files(files: Mapping[str, bytes], entries: Sequence[Entry]) -> list[Problem]:
    """Members no entry accounts for: a file slipped in (under any entry, a purged one too)
    would otherwise pass as evidence, listed in a manifest anyone can rewrite."""
    named = {ENTRIES, CHECKPOINT, INCLUSION, MANIFEST, JWKS}
    for entry in entries:
        attached = entry.payload.get("files", {}) if entry.payload is not None else {}
        if isinstance(attached, dict):
            named.update(f"files/{entry.seq}/{name}" for name in attached)
    return [Problem(where=f"file {name}", reason="is not named by any entry")
            for name in sorted(files) if name not in named and not name.endswith("/")]


def verify_bundle(files: Mapping[str, bytes], verify: Verifier) -> BundleReport:
    """Check an exported bundle (its members by name): the manifest, every entry of the chain,
    the attached files, the checkpoint's signature and the chain head's inclusion in it."""
    problems: list[Problem] = []
    manifest = _json_member(files, MANIFEST, problems)
    borrower = str(manifest.get("borrower", "")) if isinstance(manifest, dict) else ""
    if isinstance(manifest, dict) and manifest.get("format") == FORMAT:
        listed = manifest.get("files", {})
        names = {n for n in files if n != MANIFEST and not n.endswith("/")}
        if not isinstance(listed, dict) or set(listed) != names:
            problems.append(Problem(where=MANIFEST, reason="does not list exactly the files "
                                                           "in the bundle"))
        else:
            problems.extend(Problem(where=f"file {n}", reason="does not match the manifest")
                            for n in sorted(names) if sha256_hex(files[n]) != listed[n])
    elif not problems:
        problems.append(Problem(where=MANIFEST, reason=f"not an {FORMAT} manifest"))
    raw = files.get(ENTRIES, b"")
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    entries, chain_problems = verify_chain(lines, borrower, files)
    problems.extend(chain_problems)
    problems.extend(_unnamed_files(files, entries))
    day, kid = _check_checkpoint(files, entries, borrower, verify, problems)
    return BundleReport(borrower=borrower, entries=len(entries),
                        purged=sum(e.payload is None for e in entries), checkpoint_day=day,
                        key_id=kid, problems=tuple(problems))


def _json_member(files: Mapping[str, bytes], name: str, problems: list[Problem]) -> Any:
    try:
        return strict_loads(files[name])
    except KeyError:
        problems.append(Problem(where=name, reason="missing"))
    except MalformedToken:
        problems.append(Problem(where=name, reason="not JSON"))
    return {}


def _check_checkpoint(files: Mapping[str, bytes], entries: Sequence[Entry], borrower: str,
                      verify: Verifier, problems: list[Problem]) -> tuple[str, str]:
    where = "checkpoint"
    try:
        token = parse(files[CHECKPOINT].decode("ascii"))
    except KeyError:
        problems.append(Problem(where=where, reason="missing"))
        return "", ""
    except (UnicodeDecodeError, MalformedToken) as error:
        problems.append(Problem(where=where, reason=f"not a signed checkpoint ({error})"))
        return "", ""
    day = str(token.payload.get("day", ""))
    signed = verify(token.kid, token.signed, token.signature)
    if signed is None:
        problems.append(Problem(where=where, reason=f"signed with key {token.kid}, which the "
                                                    "lender does not publish"))
        return day, token.kid
    if not signed:
        problems.append(Problem(where=where, reason="the signature does not match"))
        return day, token.kid
    inclusion = _json_member(files, INCLUSION, problems)
    try:
        leaf = inclusion["leaf"]
        index, size, root = inclusion["index"], token.payload["size"], token.payload["root"]
        path = [bytes.fromhex(p) for p in inclusion["path"]]
        head, seq = leaf["head"], leaf["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or inclusion["size"] != size \
                or not _HEX64.fullmatch(root) or token.payload.get("typ") != CHECKPOINT_TYPE:
            raise ValueError
        computed = root_from_path(leaf_hash(leaf["borrower"], seq, head), index, size, path)
    except (KeyError, TypeError, ValueError, AttributeError):
        problems.append(Problem(where=INCLUSION, reason="not an inclusion proof for this "
                                                        "checkpoint"))
        return day, token.kid
    if computed is None or computed.hex() != root:
        problems.append(Problem(where=INCLUSION, reason="the chain head is not in the signed "
                                                        "checkpoint"))
    elif leaf["borrower"] != borrower:
        problems.append(Problem(where=INCLUSION, reason=f"proves {leaf['borrower']}'s chain"))
    elif not 1 <= seq <= len(entries):
        problems.append(Problem(where=f"entry {seq}", reason="signed in the checkpoint but "
                                                             "missing from the bundle"))
    elif entries[seq - 1].hash != head:
        problems.append(Problem(where=f"entry {seq}", reason="differs from the entry the "
                                                             "checkpoint signed"))
    elif seq != len(entries):
        problems.append(Problem(where=f"entry {seq + 1}", reason="not covered by the "
                                                                 "checkpoint"))
    elif (early := purge_problem(entries, token.payload.get("iat"))) is not None:
        problems.append(early)
    return day, token.kid
