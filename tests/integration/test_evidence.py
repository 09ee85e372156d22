"""The evidence log on a migrated book (SQLite, and PostgreSQL when configured): events are
appended in their own transaction (a refused contact leaves nothing), a borrower's bundle
verifies — with the project's verifier and with the stdlib + cryptography script from the
README — and every kind of tampering is caught with the entry named: a flipped byte, a dropped,
inserted or reordered entry, a re-hashed chain, a changed file, a checkpoint signed by another
key. Purging after retention keeps the chain verifiable."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears import bootstrap
from arrears.adapters.bundle import read_zip, write_zip
from arrears.adapters.channels.render import JinjaRenderer
from arrears.application.handlers import casework, evidence, keys
from arrears.application.handlers import collections as handlers
from arrears.domain import evidence as chain
from arrears.domain import jws
from arrears.domain.errors import DomainError

from trust_book import CLOSED, ISSUER, TODAY, at, open_book

LOAN = "WLD-1001"
SCRIPT = Path(__file__).parents[2] / "examples" / "verify_evidence_bundle.py"


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    open_book(services)
    handlers.run_strategies(CLOSED, uow_factory=services.uow_factory, clock=services.clock,
                            renderer=JinjaRenderer())
    for hour, outcome in ((9, "no_answer"), (10, "conversation")):
        casework.log_contact(LOAN, actor="C-02", channel="call", outcome=outcome,
                             at=at(TODAY, hour), recording_ref=f"rec-{hour}",
                             complaint=outcome == "conversation",
                             uow_factory=services.uow_factory)
    return services


def _borrower(services: bootstrap.Services) -> tuple[int, str]:
    with services.uow_factory() as uow:
        booked = uow.book.get(LOAN)
        assert booked is not None
        ref = uow.reports.borrower_of(LOAN)
    assert ref is not None
    return booked.borrower_id, ref["borrower_ref"]


def _bundle(services: bootstrap.Services) -> dict[str, bytes]:
    _, ref = _borrower(services)
    return evidence.export(ref, uow_factory=services.uow_factory, keys=services.keys,
                           clock=services.clock, issuer=ISSUER)


def _report(services: bootstrap.Services, members: dict[str, bytes]) -> chain.BundleReport:
    return evidence.verify(members, keys=services.keys, uow_factory=services.uow_factory)


def _script() -> Callable[[Path, dict], str | None]:
    spec = importlib.util.spec_from_file_location("verify_evidence_bundle", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verify  # type: ignore[no-any-return]


def _by_script(services: bootstrap.Services, members: dict[str, bytes],
               tmp_path: Path) -> str | None:
    path = tmp_path / "bundle.zip"
    write_zip(members, path)
    return _script()(path, keys.jwks(uow_factory=services.uow_factory))


def _lines(members: dict[str, bytes]) -> list[bytes]:
    return members[chain.ENTRIES].split(b"\n")[:-1]


def _with(members: dict[str, bytes], lines: list[bytes] | None = None, *,
          entries: bytes | None = None, replaced: dict[str, bytes] | None = None
          ) -> dict[str, bytes]:
    """The bundle as a careful forger leaves it: changed members, manifest hashes redone."""
    out = dict(members)
    if lines is not None:
        out[chain.ENTRIES] = b"".join(line + b"\n" for line in lines)
    if entries is not None:
        out[chain.ENTRIES] = entries
    out.update(replaced or {})
    manifest = json.loads(out[chain.MANIFEST])
    manifest["files"] = {n: hashlib.sha256(v).hexdigest() for n, v in sorted(out.items())
                         if n != chain.MANIFEST}
    out[chain.MANIFEST] = json.dumps(manifest).encode()
    return out


def _rehash(lines: list[bytes], start: int) -> list[bytes]:
    """Recompute hashes and links from line `start` on, as a forger rewriting history would."""
    entries = [json.loads(line) for line in lines]
    for i in range(start, len(entries)):
        entry = entries[i]
        if i:
            entry["prev"] = entries[i - 1]["hash"]
        if entry["payload"] is not None:
            entry["payload_sha256"] = chain.payload_digest(entry["payload"])
        entry["hash"] = chain.entry_hash({k: entry[k] for k in chain.HASHED_FIELDS})
    return [jws.canonical_json(e) for e in entries]


def test_events_are_appended_in_their_own_transaction(book) -> None:
    borrower_id, ref = _borrower(book)
    with book.uow_factory() as uow:
        entries = uow.evidence.entries(borrower_id)
    kinds = [e.kind for e in entries]
    assert kinds[-2:] == ["contact", "contact"] and "message" in kinds
    contact = entries[-1].payload
    assert contact is not None
    assert (contact["loan_id"], contact["recording_ref"], contact["complaint"]) == (
        LOAN, "rec-10", True)
    assert contact["decision"]["allowed"] is True and contact["decision"]["pack"] == "cn"
    assert all(e.borrower == ref for e in entries)
    message = next(e for e in entries if e.kind == "message")
    assert message.payload is not None and set(message.payload["files"]) == {
        f"{message.payload['message_id']}.txt"}
    # A contact the engine refuses writes nothing, evidence included.
    for hour in (11, 12):
        casework.log_contact(LOAN, actor="C-02", channel="call", outcome="refused",
                             at=at(TODAY, hour), uow_factory=book.uow_factory)
    with pytest.raises(casework.ContactRefused):
        casework.log_contact(LOAN, actor="C-02", channel="call", outcome="busy",
                             at=at(TODAY, 15), uow_factory=book.uow_factory)
    with book.uow_factory() as uow:
        assert len(uow.evidence.entries(borrower_id)) == len(entries) + 2


def test_a_bundle_verifies_with_the_project_and_with_the_readme_script(book,
                                                                       tmp_path) -> None:
    members = _bundle(book)
    report = _report(book, members)
    assert report.intact, report.problems
    assert report.entries == len(_lines(members)) >= 4 and report.purged == 0
    assert any(name.startswith("files/") for name in members)
    assert _by_script(book, members, tmp_path) is None
    write_zip(members, tmp_path / "again.zip")
    assert read_zip(tmp_path / "again.zip", "BUNDLE") == members
    # Nothing internal leaks: entries carry the lender's ids only.
    text = members[chain.ENTRIES].decode()
    assert '"borrower_id"' not in text and '"case_id"' not in text


def _named(problems: tuple[chain.Problem, ...], where: str) -> bool:
    return any(p.where == where for p in problems)


def test_dropping_inserting_reordering_or_rewriting_entries_is_caught(book, tmp_path) -> None:
    members = _bundle(book)
    lines = _lines(members)
    last = len(lines)
    cases = {
        "drop": (_with(members, lines[:1] + lines[2:]), "entry 2"),
        "drop last": (_with(members, lines[:-1]), f"entry {last}"),
        "insert": (_with(members, lines[:2] + [lines[1]] + lines[2:]), "entry 3"),
        "reorder": (_with(members, [lines[1], lines[0], *lines[2:]]), "entry 1"),
        "rewrite history": (_with(members, _rehash(
            [lines[0].replace(b'"status":"scheduled"', b'"status":"cancelled"', 1),
             *lines[1:]], 0)), f"entry {last}"),
        "append": (_with(members, _rehash([*lines, lines[-1]], last)), f"entry {last + 1}"),
    }
    for label, (tampered, where) in cases.items():
        report = _report(book, tampered)
        assert not report.intact, label
        assert _named(report.problems, where), (label, report.problems)
        assert _by_script(book, tampered, tmp_path) is not None, label


def test_flipping_any_byte_of_the_entries_is_caught(book, tmp_path) -> None:
    members = _bundle(book)
    raw = members[chain.ENTRIES]
    script = _script()
    jwks = keys.jwks(uow_factory=book.uow_factory)

    @settings(max_examples=60, deadline=None)
    @given(index=st.integers(0, len(raw) - 1), bit=st.integers(0, 7))
    def check(index: int, bit: int) -> None:
        flipped = bytearray(raw)
        flipped[index] ^= 1 << bit
        line = raw[:index].count(b"\n") + 1
        stale = _report(book, dict(members, **{chain.ENTRIES: bytes(flipped)}))
        assert _named(stale.problems, f"file {chain.ENTRIES}")  # the manifest disagrees
        tampered = _with(members, entries=bytes(flipped))
        report = _report(book, tampered)
        # The flipped entry is named (a flipped newline also joins or splits the next line).
        assert _named(report.problems, f"entry {line}") or \
            (raw[index:index + 1] == b"\n" and _named(report.problems, f"entry {line + 1}")), \
            report.problems
        path = tmp_path / "flipped.zip"
        write_zip(tampered, path)
        assert script(path, jwks) is not None

    check()


def test_a_changed_file_or_a_checkpoint_signed_by_another_key_is_caught(book,
                                                                        tmp_path) -> None:
    members = _bundle(book)
    name = next(n for n in members if n.startswith("files/"))
    seq = name.split("/")[1]
    changed = _with(members, replaced={name: members[name] + b" "})
    report = _report(book, changed)
    assert _named(report.problems, f"entry {seq}"), report.problems
    assert _by_script(book, changed, tmp_path) is not None
    # A forger signs the same checkpoint with a key of their own and ships its JWKS.
    stranger = Ed25519PrivateKey.generate()
    x = jws.b64url(stranger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    payload = jws.parse(members[chain.CHECKPOINT].decode()).payload
    signed = jws.signing_input({"alg": "EdDSA", "kid": jws.thumbprint(x)}, payload)
    forged = _with(members, replaced={
        chain.CHECKPOINT: jws.assemble(signed, stranger.sign(signed)).encode(),
        "jwks.json": jws.canonical_json({"keys": [jws.public_jwk(x)]})})
    report = _report(book, forged)
    assert not report.intact and _named(report.problems, "checkpoint"), report.problems
    assert _by_script(book, forged, tmp_path) is not None
    # The lender's own key, retired after signing: the checkpoint no longer counts.
    kid = jws.parse(members[chain.CHECKPOINT].decode()).kid
    keys.retire_key(kid, uow_factory=book.uow_factory, clock=book.clock)
    assert _named(_report(book, members).problems, "checkpoint")


def test_a_stale_checkpoint_is_replaced_on_export_and_the_next_one_still_proves(book) -> None:
    first = _bundle(book)
    casework.log_contact(LOAN, actor="C-02", channel="call", outcome="no_answer",
                         at=at(TODAY, 11), uow_factory=book.uow_factory)
    evidence.checkpoint(uow_factory=book.uow_factory, keys=book.keys, clock=book.clock,
                        issuer=ISSUER)
    second = _bundle(book)
    assert len(_lines(second)) == len(_lines(first)) + 1
    assert _report(book, second).intact
    assert _lines(second)[:-1] == _lines(first)  # history unchanged


def test_purging_after_retention_keeps_the_chain_verifiable(book, tmp_path) -> None:
    borrower_id, _ = _borrower(book)
    with book.uow_factory() as uow:
        last = uow.evidence.entries(borrower_id)[-1]
    last_day = date.fromisoformat(last.at[:10])
    # Retention is counted to a day that has come: a later --as-of would purge too soon.
    later = last_day.replace(year=last_day.year + 5) + timedelta(days=1)
    with pytest.raises(DomainError) as error:
        evidence.purge(later, uow_factory=book.uow_factory, clock=book.clock)
    assert error.value.field == "--as-of"
    before = _bundle(book)
    # WLD is a CN product: five years (CN-10), not the US three.
    book.clock.at = at(later, 10)  # type: ignore[attr-defined]
    assert evidence.purge(last_day.replace(year=last_day.year + 3),
                          uow_factory=book.uow_factory, clock=book.clock) == 0
    purged = evidence.purge(later, uow_factory=book.uow_factory, clock=book.clock)
    assert purged >= len(_lines(before))
    after = _bundle(book)
    report = _report(book, after)
    assert report.intact and report.purged == report.entries
    assert not any(n.startswith("files/") for n in after)
    assert [json.loads(line)["hash"] for line in _lines(after)] == \
        [json.loads(line)["hash"] for line in _lines(before)]
    assert _by_script(book, after, tmp_path) is None


def test_a_file_no_entry_names_is_caught_by_both_verifiers(book, tmp_path) -> None:
    members = _bundle(book)
    seq = len(_lines(members))  # the last entry, a contact, attaches nothing
    for name in (f"files/{seq}/confession.txt", "files/999/x.txt", "notes.txt"):
        slipped = _with(members, replaced={name: b"I admit the debt"})
        report = _report(book, slipped)
        assert _named(report.problems, f"file {name}"), (name, report.problems)
        assert _by_script(book, slipped, tmp_path) is not None, name


def test_stripping_payloads_before_retention_ended_is_caught(book, tmp_path) -> None:
    members = _bundle(book)
    lines = [json.loads(line) for line in _lines(members)]
    stripped = _with(members, [jws.canonical_json({**e, "payload": None}) for e in lines])
    stripped = {n: v for n, v in stripped.items() if not n.startswith("files/")}
    stripped = _with(stripped)
    report = _report(book, stripped)
    assert not report.intact and _named(report.problems, f"entry {len(lines)}"), \
        report.problems
    assert _by_script(book, stripped, tmp_path) is not None
    # One payload stripped from the middle: not how a purge leaves a chain.
    middle = [jws.canonical_json({**e, "payload": None}) if i == 1 and "files" not in
              (e["payload"] or {}) else jws.canonical_json(e) for i, e in enumerate(lines)]
    if middle != [jws.canonical_json(e) for e in lines]:
        one = _with(members, middle)
        assert not _report(book, one).intact
        assert _by_script(book, one, tmp_path) is not None


def test_the_two_verifiers_agree_on_line_endings_and_base64_spelling(book, tmp_path) -> None:
    members = _bundle(book)
    crlf = _with(members, entries=members[chain.ENTRIES].replace(b"\n", b"\r\n"))
    assert not _report(book, crlf).intact
    assert _by_script(book, crlf, tmp_path) is not None
    # The checkpoint's signature padded, or with a character the alphabet lacks.
    token = members[chain.CHECKPOINT]
    for spelled in (token + b"==", token[:-4] + b"!" + token[-4:]):
        odd = _with(members, replaced={chain.CHECKPOINT: spelled})
        assert not _report(book, odd).intact, spelled
        assert _by_script(book, odd, tmp_path) is not None, spelled


def _one_member_zip(path: Path, *, method: int | None = None, corrupt: bool = False) -> Path:
    """A zip of one deflated member, its compression method or data then broken by hand."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("manifest.json", b"{}" * 100)
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    if method is not None:
        raw[8:10] = raw[central + 10:central + 12] = method.to_bytes(2, "little")
    if corrupt:
        start = 30 + len("manifest.json")
        raw[start:start + 4] = b"\xff" * 4
    path.write_bytes(bytes(raw))
    return path


def test_a_bundle_that_is_not_a_zip_of_the_shape_described_is_refused(book, tmp_path) -> None:
    jwks = keys.jwks(uow_factory=book.uow_factory)
    for bad in (_one_member_zip(tmp_path / "corrupt.zip", corrupt=True),
                _one_member_zip(tmp_path / "unknown.zip", method=99)):
        with pytest.raises(DomainError):
            read_zip(bad, "BUNDLE.zip")
        assert _script()(bad, jwks) is not None
    with pytest.raises(DomainError):
        write_zip({"../escape.txt": b"x"}, tmp_path / "out.zip")
