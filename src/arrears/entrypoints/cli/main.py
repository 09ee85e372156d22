"""The `arrears` command.

Every command takes `--json` and then prints one JSON document. User errors exit with code 2
and one line on stderr naming the field (DESIGN §8).

Commands are listed in `COMMANDS` and imported only when run (see `lazy`), so that
`arrears --help` and light commands start at once. To add a command, put it in its own module
here (heavy imports inside the command functions) and add one line to `COMMANDS`:
`"name": Command("arrears.entrypoints.cli.module:attribute", "<first line of its help>")`,
where the attribute is a command function or a Typer app of subcommands; a group whose
subcommands live in several modules is a `Group(help, {...})`. `tests/e2e/test_cli_startup.py`
checks that each line's help matches the command's.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from arrears.entrypoints.cli.lazy import Command, Group, LazyGroup, Table
from arrears.entrypoints.cli.output import run_guarded

CLI = "arrears.entrypoints.cli"

COMMANDS: Table = {
    "init": Command(f"{CLI}.book:init", "Create or upgrade the schema, open the book, and add "
                    "products and their plan\npolicies (on an open book, --business-date must "
                    "be the date it is open at)."),
    "pay": Command(f"{CLI}.book:pay",
                   "Post a payment once per key (a retried callback posts nothing new)."),
    "reverse": Command(f"{CLI}.book:reverse", "Reverse a payment (a new negative posting; the "
                       "loan is restated without it)."),
    "payoff": Command(f"{CLI}.book:payoff",
                      "Settle a loan (提前结清) on the open business date with its payoff quote."),
    "eod": Command(f"{CLI}.book:run_eod",
                   "Run end-of-day for each open business date through --through, in order."),
    "demo": Command(f"{CLI}.book:demo", "Simulate a synthetic book of cash loans and phone "
                    "plans, then report on it."),
    "worker": Command(f"{CLI}.collections:worker", "Deliver the notification outbox: at least "
                      "once, with retries, backoff, dead-letter,\nrate limits, and a compliance "
                      "check at the instant of sending."),
    "serve": Command(f"{CLI}.api:serve", "Serve the HTTP API (OpenAPI at /openapi.json, docs at "
                     "/docs) and the web pages until\ninterrupted."),
    "statement": Command(f"{CLI}.statement:statement",
                         "How every figure of the debt was computed, from the replayed loan."),
    "schedule": Command(f"{CLI}.calculators:schedule", "Print the repayment schedule of a loan."),
    "apr": Command(f"{CLI}.calculators:apr", "The true annual rate (IRR) of a loan's cash flows, "
                   "and whether it exceeds a cap."),
    "loan": Group("Inspect a loan.", {
        "show": Command(f"{CLI}.book:loan_show", "A booked loan at the closed business date: "
                        "figures, installments, payments."),
        "list": Command(f"{CLI}.book:loan_list", "Loans in the book, most days past due first "
                        "(then by loan id): find one to show."),
        "status": Command(f"{CLI}.calculators:loan_status", "The loan's state at the end of a "
                          "business date: DPD, bucket, amounts, installments."),
    }),
    "import": Group("Import loans and borrowers, and payment files.", {
        "loans": Command(f"{CLI}.book:import_loans", "Import loans and borrowers from CSV: all "
                         "of them, or none if any row is bad."),
        "payments": Command(f"{CLI}.payment_import:import_payments", "Post a payment file "
                            "(对账文件) once per row key; a refused row never stops the others."),
    }),
    "report": Group("Portfolio reports.", {
        "portfolio": Command(f"{CLI}.book:portfolio", "Loans and principal by bucket, the roll "
                             "from yesterday, and totals."),
        "bureau": Command(f"{CLI}.bureau:report_bureau", "Rebuild the month's snapshots and "
                          "write its bureau file; held records are listed."),
        "analytics": Command(f"{CLI}.analytics:report_analytics", "Roll rates, vintages, cure "
                             "and recovery rates, collector and agency performance."),
    }),
    "compliance": Command(f"{CLI}.compliance:app", "Ask the compliance engine whether a "
                          "contact, report or fee may go ahead."),
    "strategies": Command(f"{CLI}.collections:strategies_app", "Collection strategies."),
    "cases": Command(f"{CLI}.collections:cases_app", "Collection cases and queues."),
    "agencies": Command(f"{CLI}.collections:agencies_app", "Collection agencies and placements."),
    "contacts": Command(f"{CLI}.collections:contacts_app", "Contacts with borrowers."),
    "promises": Command(f"{CLI}.collections:promises_app", "Promises to pay."),
    "visits": Command(f"{CLI}.collections:visits_app", "Field-visit authorizations and requests."),
    "collectors": Command(f"{CLI}.collections:collectors_app",
                          "Collectors and their credentials."),
    "borrowers": Command(f"{CLI}.borrowers:app", "Borrowers' contact preferences: opt-outs, "
                         "requests to stop, inconvenient times."),
    "credentials": Command(f"{CLI}.trust:credentials_app",
                           "Signed collector credentials anyone can verify."),
    "evidence": Command(f"{CLI}.trust:evidence_app", "The borrower's tamper-evident evidence log."),
    "apikeys": Command(f"{CLI}.api:apikeys_app",
                       "API keys for lender systems, staff and agencies."),
    "webhooks": Command(f"{CLI}.webhooks:webhooks_app", "Webhooks out: subscribers, "
                        "deliveries and dead letters, and the worker that sends them."),
    "bureau": Command(f"{CLI}.bureau:bureau_app",
                      "Credit reporting: notices, history, file validation."),
    "complaints": Command(f"{CLI}.complaints:complaints_app",
                          "Complaints about collection, against their clocks."),
    "disputes": Command(f"{CLI}.disputes:disputes_app", "Disputes and objections (异议): "
                        "collection waits for the answer, credit reporting marks them."),
    "users": Command(f"{CLI}.users:users_app", "Staff users of the web pages."),
    "plans": Command(f"{CLI}.plans:plans_app", "Hardship plans: propose, approve, reject, undo."),
    "simulate": Command(f"{CLI}.simulate:simulate",
                        "Compare two collection strategies on the same synthetic book."),
}


class ArrearsGroup(LazyGroup):
    table = COMMANDS


app = typer.Typer(
    name="arrears",
    help="Overdue-loan servicing and fair debt collection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=ArrearsGroup,
)


@app.callback()
def arrears() -> None:
    # Typer builds a group only for an app with a callback or registered commands; the
    # commands here are all in COMMANDS, so this callback, which does nothing, is what makes
    # `arrears` a group.
    pass


def run(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every error is one line on stderr (see `run_guarded`)."""
    run_guarded(typer.main.get_group(app), argv, "arrears")
