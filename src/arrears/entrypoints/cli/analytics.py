"""`arrears report analytics`: roll rates, vintages, cure and recovery rates, collector and
agency performance over the whole book (`application.analytics` defines each figure), as
tables, one JSON document, or one PNG chart per table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

if TYPE_CHECKING:
    from rich.console import Console

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
LANGUAGES = ("en", "zh")


def report_analytics(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Report through this date (default: the closed business date)")]
    = None,
    png: Annotated[Path | None, typer.Option(
        "--png", help="Write one chart per table into this folder")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Chart language: en or zh")] = "en",
    db: DbOption = None,
    wide: WideFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Roll rates, vintages, cure and recovery rates, collector and agency performance."""
    from arrears import bootstrap
    from arrears.adapters.db.analytics_store import report
    from arrears.application import loan_file
    from arrears.config import Settings

    if lang not in LANGUAGES:
        fail("--lang", f"must be en or zh (got {lang!r})")
    with user_errors():
        day = loan_file.parse_date(as_of, "--as-of") if as_of is not None else None
        built = bootstrap.build(Settings.from_env(database_url=db))
    if png is not None and png.exists() and not png.is_dir():
        fail("--png", f"{png} exists and is not a folder")
    try:
        with built.engine.connect() as connection, user_errors():
            document = report(connection, day, built.settings.business_time_zone)
    finally:
        built.engine.dispose()
    if png is not None:
        from arrears.adapters.charts import write_charts

        written = write_charts(document, png, lang)
        if written.warning:
            typer.echo(f"warning: --lang: {written.warning}", err=True)
        document["charts"] = [str(path) for path in written.files]
    if as_json:
        emit_json(document)
        return
    _print(console(), document, wide)


def _print(out: Console, document: dict[str, Any], wide: bool) -> None:
    states = document["roll_rates"]["states"]
    average = document["roll_rates"]["average"]
    # Wider than 80 columns with every state: the rarest moves (M7+, settled) go first.
    print_table([Column("from"), Column("loans"),
                 *(Column(state, rank=rank) for rank, state in enumerate(states, start=1))],
                [[source, str(row["loans"]), *(_percent(row["to"][s]["share"]) for s in states)]
                 for source, row in average["rows"].items()], wide=wide, out=out,
                title=f"Roll rates (loans), average of {average['months']} months to "
                      f"{average['to'] or document['as_of']}")
    vintage_rows = []
    for vintage in document["vintages"]:
        last = vintage["curve"][-1]
        vintage_rows.append([vintage["vintage"], str(vintage["loans"]), vintage["principal"],
                             str(last["months_on_book"]), _percent(last["dpd30_plus"]["rate"]),
                             _percent(last["dpd90_plus"]["rate"]),
                             _percent(last["written_off"]["rate"])])
    print_table([Column("vintage"), Column("loans"), Column("principal", rank=1),
                 Column("months on book"), Column("30+"), Column("90+"),
                 Column("written off")], vintage_rows, wide=wide, out=out,
                title=f"Vintages as of {document['as_of']} (latest month on book)")
    print_table([Column(c) for c in ("bucket", "entered", "cured", "rate")],
                [[bucket, str(f["entered"]), str(f["cured"]), _percent(f["rate"])]
                 for bucket, f in document["cure_rates"]["buckets"].items()], wide=wide,
                out=out, title=f"Cure rates (back to current within "
                               f"{document['cure_rates']['window_days']} days)")
    print_table([Column(c) for c in ("written off in", "loans", "written off", "recovered",
                                     "rate")],
                [[row["written_off_month"], str(row["loans"]), row["written_off"],
                  row["recovered"], _percent(row["rate"])]
                 for row in (*document["recoveries"]["cohorts"],
                             {"written_off_month": "total", **document["recoveries"]["total"]})],
                wide=wide, out=out, title="Recoveries after write-off")
    for key, ref, title in (("collectors", "collector", "Collectors"),
                            ("agencies", "agency", "Agencies")):
        _performance(out, document[key], ref, title, wide)
    if "charts" in document:
        out.print(f"charts: {', '.join(document['charts'])}", soft_wrap=True)


def _performance(out: Console, rows: list[dict[str, Any]], key: str, title: str,
                 wide: bool) -> None:
    columns = [Column("who"), Column("contacts"), Column("right party", rank=2),
               Column("promises", rank=3), Column("kept", rank=3), Column("recovered"),
               Column("per contact", rank=1), Column("complaints /1000", rank=2),
               Column("blocked /1000", rank=2)]
    print_table(columns, [[row[key], str(row["contacts"]), str(row["right_party_contacts"]),
                           str(row["promises_made"]), str(row["promises_kept"]),
                           row["recovered"], row["recovered_per_contact"],
                           row["complaints_per_1000_contacts"],
                           row["blocked_per_1000_contacts"]] for row in rows],
                wide=wide, out=out, title=title)


def _percent(share: str) -> str:
    from decimal import Decimal

    value = Decimal(share)
    return f"{value:.1%}" if value else "·"
