"""`arrears credentials …` (issue, verify, revoke, keys, revocations) and `arrears evidence …`
(export, verify, checkpoint, purge): signed collector credentials and the borrower's
tamper-evident evidence log.

`credentials verify` exits 0 only when the credential is genuine and in scope, 1 otherwise;
`evidence verify` exits 0 when the bundle is intact, 1 when it was tampered with (the first
problem names the entry). Bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears import bootstrap
from arrears.adapters.bundle import qr_svg, read_zip, write_zip
from arrears.application import loan_file
from arrears.application.handlers import collections as collections_handlers
from arrears.application.handlers import credentials, evidence, keys
from arrears.config import Settings
from arrears.domain.credential import Judgement
from arrears.entrypoints.cli.output import console, emit_json, fail, read_json_file, user_errors

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
NOT_GOOD_EXIT = 1

credentials_app = typer.Typer(help="Signed collector credentials anyone can verify.",
                              no_args_is_help=True)
keys_app = typer.Typer(help="The lender's signing keys (prints the published JWKS).")
evidence_app = typer.Typer(help="The borrower's tamper-evident evidence log.",
                           no_args_is_help=True)
credentials_app.add_typer(keys_app, name="keys", invoke_without_command=True)


def _services(db: str | None) -> bootstrap.Services:
    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db))


def _issuer() -> str:
    return collections_handlers.Lender().name_en


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    with user_errors():
        return loan_file.parse_date(text, field)


def _emit(document: dict[str, Any], as_json: bool) -> None:
    emit_json(document) if as_json else console().print(document)


# --- credentials ---------------------------------------------------------------------------


@credentials_app.command("issue")
def credentials_issue(
    collector: Annotated[str, typer.Option(help="Collector id, or agency:<AGENCY_ID> for a "
                                                "placement")],
    debt: Annotated[str, typer.Option(help="The loan id the borrower knows")],
    scope: Annotated[str, typer.Option(help="call, sms or visit")],
    valid_until: Annotated[str | None, typer.Option(
        help="Last day in force, YYYY-MM-DD (default: 30 days, the placement's end, or the "
             "visit date)")] = None,
    visit_on: Annotated[str | None, typer.Option(help="The visit date (with --scope visit)")]
    = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign a credential for a collector or agency to collect one debt by one means."""
    request = credentials.IssueRequest(
        collector=collector, debt=debt, scope=scope,
        valid_until=_day(valid_until, "--valid-until"), visit_on=_day(visit_on, "--visit-on"))
    built = _services(db)
    with user_errors():
        issued = credentials.issue(request, uow_factory=built.uow_factory, keys=built.keys,
                                   clock=built.clock, zone=built.settings.business_time_zone,
                                   issuer=_issuer())
    document = {"token": issued.token, "qr_svg": qr_svg(issued.token), "kid": issued.kid,
                "claims": issued.claims.payload()}
    if as_json:
        emit_json(document)
    else:
        console().print({k: v for k, v in document.items() if k != "qr_svg"})


def _verdict_document(judgement: Judgement) -> dict[str, Any]:
    claims = judgement.claims
    agency = claims.agency if claims is not None else None
    return {
        "verdict": judgement.verdict.value,
        "collector": {"id": claims.collector_id, "name": claims.collector_name}
        if claims is not None else None,
        "agency": {"id": agency.agency_id, "name": agency.name, "licence": agency.licence}
        if agency is not None else None,
        "scope": [s.value for s in claims.scopes] if claims is not None else [],
        "debt": claims.debt if claims is not None else None,
        "valid_from": claims.valid_from.isoformat() if claims is not None else None,
        "valid_until": claims.valid_until.isoformat() if claims is not None else None,
        "visit_on": claims.visit_on.isoformat() if claims and claims.visit_on else None,
        "credential": claims.credential_id if claims is not None else None,
        "reason": judgement.reason,
    }


@credentials_app.command("verify")
def credentials_verify(
    token: Annotated[str, typer.Argument(metavar="TOKEN")],
    on: Annotated[str | None, typer.Option(help="Check for this day, YYYY-MM-DD (default: "
                                                "now)")] = None,
    debt: Annotated[str | None, typer.Option(help="The loan id the holder came about")] = None,
    scope: Annotated[str | None, typer.Option(help="call, sms or visit")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Genuine, expired, revoked, forged, wrong debt or out of scope — with who the holder is
    and what they may do. Exit 0 only when genuine and in scope."""
    day = _day(on, "--on")
    built = _services(db)
    with user_errors():
        question = credentials.question_on(day, built.clock.now(),
                                           built.settings.business_time_zone, debt=debt,
                                           scope=scope)
        judgement = credentials.verify(token, question, uow_factory=built.uow_factory,
                                       keys=built.keys)
    document = _verdict_document(judgement)
    if as_json:
        emit_json(document)
    else:
        console().print(_verdict_words(document), markup=False, highlight=False, soft_wrap=True)
    if not judgement.good:
        raise typer.Exit(NOT_GOOD_EXIT)


def _verdict_words(document: dict[str, Any]) -> str:
    """The verdict as a borrower reads it: what it is, who the holder is, what they may do."""
    verdict = document["verdict"]
    if document["collector"] is None:
        return f"{verdict.upper()}: {document['reason']} — do not deal with this caller"
    collector, agency = document["collector"], document["agency"]
    holder = f"{collector['name']} ({collector['id']})"
    if agency is not None:
        holder += f" of {agency['name']}, licence {agency['licence']}"
    may = (f"may {' / '.join(document['scope'])} about {document['debt'] or 'your debts'} "
           f"from {document['valid_from'][:10]} until {document['valid_until'][:10]}")
    if document["visit_on"]:
        may += f"; a visit on {document['visit_on']}"
    if verdict == "genuine":
        return f"GENUINE: {holder} {may}"
    return f"{verdict.upper()}: {document['reason']} — {holder} {may}"


@credentials_app.command("revoke")
def credentials_revoke(
    credential: Annotated[str, typer.Argument(metavar="ID_OR_TOKEN")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke a credential (by its id or its token); it verifies as revoked from now on."""
    built = _services(db)
    with user_errors():
        ref = credentials.revoke(credential, uow_factory=built.uow_factory, keys=built.keys,
                                 clock=built.clock)
    _emit({"credential": ref, "revoked": True}, as_json)


@credentials_app.command("revocations")
def credentials_revocations(
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The signed revocation list (a JWS over every revoked credential id)."""
    built = _services(db)
    with user_errors():
        token = credentials.revocation_list(uow_factory=built.uow_factory, keys=built.keys,
                                            clock=built.clock, issuer=_issuer())
    _emit({"revocation_list": token}, as_json)


@keys_app.callback()
def keys_show(
    ctx: typer.Context,
    db: DbOption = None,
) -> None:
    """Print the published keys as a JWK Set (RFC 7517)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = db
        return
    built = _services(db)
    emit_json(keys.jwks(uow_factory=built.uow_factory))


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Start signing with a new key; older keys verify what they signed until retired."""
    built = _services(db or ctx.obj)
    with user_errors():
        key = keys.rotate_key(uow_factory=built.uow_factory, keys=built.keys,
                              clock=built.clock)
    _emit({"kid": key.kid, "created_at": key.created_at.isoformat()}, as_json)


@keys_app.command("retire")
def keys_retire(
    ctx: typer.Context,
    kid: Annotated[str, typer.Argument(metavar="KID")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw a key: it leaves the JWKS and what it signed no longer verifies."""
    built = _services(db or ctx.obj)
    with user_errors():
        keys.retire_key(kid, uow_factory=built.uow_factory, clock=built.clock)
    _emit({"kid": kid, "retired": True}, as_json)


# --- evidence ------------------------------------------------------------------------------


@evidence_app.command("export")
def evidence_export(
    borrower: Annotated[str, typer.Argument(metavar="BORROWER_ID")],
    out: Annotated[Path, typer.Option("--out", help="Bundle to write (.zip)")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Export the borrower's evidence: entries, attached files, the signed checkpoint, the
    proof that the chain is in it, and a manifest of hashes."""
    built = _services(db)
    with user_errors():
        members = evidence.export(borrower, uow_factory=built.uow_factory, keys=built.keys,
                                  clock=built.clock, issuer=_issuer())
        write_zip(members, out)
    manifest = json.loads(members["manifest.json"])
    _emit({"borrower": borrower, "out": str(out), "entries": manifest["entries"],
           "checkpoint": manifest["checkpoint"]}, as_json)


@evidence_app.command("verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE.zip")],
    jwks: Annotated[Path | None, typer.Option(
        help="The lender's published keys (default: the keys in the database)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a bundle: every entry, file and hash, and the checkpoint's signature. Exit 0
    intact, 1 tampered (naming the entry)."""
    published = read_json_file(jwks, "--jwks") if jwks is not None else None
    if published is not None and not isinstance(published, dict):
        fail("--jwks", "is not a JWK Set")
    built = _services(db)
    if published is None:  # the database's keys are needed: it must serve before the bundle
        with user_errors():
            published = evidence.published_keys(uow_factory=built.uow_factory)
    with user_errors():
        members = read_zip(bundle, "BUNDLE.zip")
        report = evidence.verify(members, keys=built.keys, published=published)
    document = {"intact": report.intact, "borrower": report.borrower,
                "entries": report.entries, "purged": report.purged,
                "checkpoint_day": report.checkpoint_day, "kid": report.key_id,
                "problems": [{"where": p.where, "reason": p.reason} for p in report.problems]}
    if as_json:
        emit_json(document)
    elif report.intact:
        purged = f" ({report.purged} purged after retention)" if report.purged else ""
        console().print(f"intact: {report.entries} entries{purged} of {report.borrower}, "
                        f"checkpoint {report.checkpoint_day} signed by {report.key_id}")
    else:
        for problem in report.problems:
            console().print(f"TAMPERED {problem}")
    if not report.intact:
        raise typer.Exit(NOT_GOOD_EXIT)


@evidence_app.command("checkpoint")
def evidence_checkpoint(
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign today's checkpoint over every chain (run daily, after EOD)."""
    built = _services(db)
    with user_errors():
        made = evidence.checkpoint(uow_factory=built.uow_factory, keys=built.keys,
                                   clock=built.clock, issuer=_issuer())
    _emit({"day": made.day.isoformat(), "chains": made.size, "root": made.root,
           "kid": made.kid}, as_json)


@evidence_app.command("purge")
def evidence_purge(
    as_of: Annotated[str, typer.Option("--as-of", help="Purge what retention allows by this "
                                                       "date, YYYY-MM-DD")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Drop payloads and files past retention (CN 5 years, US 3 years after the last event);
    the hashes stay, so the chains still verify."""
    day = _day(as_of, "--as-of")
    assert day is not None
    built = _services(db)
    with user_errors():
        purged = evidence.purge(day, uow_factory=built.uow_factory, clock=built.clock,
                                zone=built.settings.business_time_zone)
    _emit({"as_of": day.isoformat(), "entries_purged": purged}, as_json)
