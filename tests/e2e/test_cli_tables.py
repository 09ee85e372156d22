"""Human-readable tables fit an 80-column terminal (issue 15): no line is longer, no figure is
cut or ellipsised, the columns left out are named, and `--wide` shows every column."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from arrears.entrypoints.cli import calculators
from arrears.entrypoints.cli.main import run
from arrears.entrypoints.cli.tables import Column, print_table

EXAMPLES = Path(__file__).parents[2] / "examples"
SCHEDULE = ("schedule", "--principal", "98765432.10", "--annual-rate", "0", "--terms", "6",
            "--method", "flat_fee", "--monthly-fee-rate", "0.005", "--start", "2026-01-15")
STATUS = ("loan", "status", str(EXAMPLES / "wld-daily-rate.json"), "--as-of", "2026-06-16")


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    assert exit_info.value.code in (0, None), captured.err
    return captured.out


def rows_by_due_date(out: str) -> dict[str, list[str]]:
    """Each table row's cells, keyed by its due date."""
    found = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) > 1 and cells[1][:2] == "20" and cells[1].count("-") == 2:
            found[cells[1]] = cells
    return found


def assert_fits(out: str) -> None:
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out


@pytest.mark.parametrize(("argv", "keys"), [(SCHEDULE, calculators.SCHEDULE_KEYS),
                                             (STATUS, calculators.INSTALLMENT_KEYS)])
def test_narrow_tables_fit_and_keep_whole_figures(capsys: pytest.CaptureFixture[str],
                                                  argv: tuple[str, ...],
                                                  keys: tuple[str, ...]) -> None:
    installments = json.loads(invoke(capsys, *argv, "--json"))["installments"]
    out = invoke(capsys, *argv)
    assert_fits(out)
    shown = rows_by_due_date(out)
    assert set(shown) == {row["due_date"] for row in installments}
    for row in installments:
        cells = shown[row["due_date"]]
        assert set(cells) <= {str(row[key]) for key in keys}, cells
    if len(next(iter(shown.values()))) < len(keys):
        assert "--wide shows them" in out


@pytest.mark.parametrize(("argv", "keys"), [(SCHEDULE, calculators.SCHEDULE_KEYS),
                                             (STATUS, calculators.INSTALLMENT_KEYS)])
def test_wide_shows_every_column(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                 keys: tuple[str, ...]) -> None:
    installments = json.loads(invoke(capsys, *argv, "--json"))["installments"]
    shown = rows_by_due_date(invoke(capsys, *argv, "--wide"))
    for row in installments:
        assert shown[row["due_date"]] == [str(row[key]) for key in keys]


def test_the_installments_leave_out_columns_at_80_and_name_them(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = invoke(capsys, *STATUS)
    assert_fits(out)
    assert "not shown: principal, interest, fee (--wide shows them)" in out


def render(columns: list[Column], rows: list[list[str]], *, width: int, wide: bool) -> str:
    buffer = io.StringIO()
    print_table(columns, rows, wide=wide, out=Console(file=buffer, width=width))
    return buffer.getvalue()


def test_the_highest_ranks_go_first_and_the_rank_0_columns_stay() -> None:
    # 24 month columns, the latest ranked to stay longest (as `arrears bureau history`).
    columns = [Column("", justify="left"),
               *(Column(f"26-{m:02d}", 25 - m, "center") for m in range(1, 25))]
    rows = [["Metro 2", *("1" for _ in range(24))], ["DPD", *(str(m * 7) for m in range(24))]]
    narrow = render(columns, rows, width=80, wide=False)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    heading = narrow.splitlines()[1]
    assert "26-24" in heading and "26-01" not in heading and "not shown: 26-01," in narrow
    assert "161" in narrow and "…" not in narrow  # the latest month's DPD, whole
    wide = render(columns, rows, width=80, wide=True)
    assert all(f"26-{m:02d}" in wide for m in range(1, 25)) and "not shown" not in wide


def test_a_figure_wider_than_the_terminal_widens_the_table_instead_of_cutting_it() -> None:
    figure = "1234567890123.45"
    out = render([Column("loan", justify="left"), Column("amount")], [["L-1", figure]],
                 width=12, wide=False)
    assert figure in out
