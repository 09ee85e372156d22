"""`arrears report analytics` (tables, JSON, PNG charts in English and Chinese) on a small
hand-built book, and `arrears simulate` (deterministic for a seed; a strategy against itself
differs by nothing)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from arrears import bootstrap
from arrears.adapters.charts import DPI
from arrears.config import Settings
from arrears.entrypoints.cli.main import run

import analytics_book

EXAMPLES = Path(__file__).parents[2] / "examples" / "strategies"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHARTS = ("roll_rates", "vintages", "cure_rates", "recoveries", "collectors", "agencies")


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'book.db'}"
    built = bootstrap.build(Settings(database_url=url))
    built.migrate()
    analytics_book.build(built.engine)
    built.engine.dispose()
    return url


def test_the_report_prints_tables_and_one_json_document(capsys, book):
    code, out, err = invoke(capsys, "report", "analytics", "--db", book)
    assert (code, err) == (0, "")
    for title in ("Roll rates", "Vintages", "Cure rates", "Recoveries", "Collectors",
                  "Agencies"):
        assert title in out
    code, out, _ = invoke(capsys, "report", "analytics", "--as-of", "2026-04-30", "--db", book,
                          "--json")
    document = json.loads(out)
    assert code == 0
    assert {"roll_rates", "vintages", "cure_rates", "recoveries", "collectors",
            "agencies"} <= set(document)
    assert document["recoveries"]["total"]["recovered"] == "300.00"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_png_writes_one_valid_chart_per_table(capsys, book, tmp_path, language):
    folder = tmp_path / "charts"
    code, out, err = invoke(capsys, "report", "analytics", "--png", str(folder), "--lang",
                            language, "--db", book, "--json")
    assert code == 0
    assert err == "" or err.startswith("warning: --lang: no CJK font")
    written = json.loads(out)["charts"]
    assert sorted(Path(p).name for p in written) == sorted(f"{c}.png" for c in CHARTS)
    for name in CHARTS:
        path = folder / f"{name}.png"
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        with Image.open(path) as image:
            image.load()  # decodes every row: a truncated file fails here
            width, height = image.size
        assert width >= 6 * DPI and height >= 4 * DPI


@pytest.mark.parametrize(("argv", "field"), [
    (("--lang", "fr"), "--lang"),
    (("--as-of", "2026-05-01"), "as_of"),
    (("--as-of", "2026-02-30"), "--as-of"),
])
def test_bad_options_are_one_line_naming_them(capsys, book, argv, field):
    code, out, err = invoke(capsys, "report", "analytics", *argv, "--db", book)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {field}:") and err.count("\n") == 1


def test_a_png_path_that_is_a_file_is_refused(capsys, book, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    code, _, err = invoke(capsys, "report", "analytics", "--png", str(taken), "--db", book)
    assert code == 2 and err.startswith("error: --png:")


SMALL = ("--loans", "60", "--days", "45", "--runs", "2", "--json")


def _simulate(capsys, strategy: Path, challenger: Path, *extra: str) -> dict:
    code, out, err = invoke(capsys, "simulate", "--strategy", str(strategy), "--challenger",
                            str(challenger), *SMALL, *extra)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_the_simulator_is_deterministic_for_a_seed(capsys):
    first = _simulate(capsys, EXAMPLES / "calls-first.toml", EXAMPLES / "digital-first.toml",
                      "--seed", "11")
    again = _simulate(capsys, EXAMPLES / "calls-first.toml", EXAMPLES / "digital-first.toml",
                      "--seed", "11")
    other = _simulate(capsys, EXAMPLES / "calls-first.toml", EXAMPLES / "digital-first.toml",
                      "--seed", "12")
    assert first == again
    assert first["strategy"]["recovered"] != other["strategy"]["recovered"]
    for side in ("strategy", "challenger"):
        figures = first[side]
        assert Decimal(figures["contacts"]["mean"]) > 0
        assert Decimal(figures["recovered"]["mean"]) > 0
        low, high = (Decimal(v) for v in figures["recovered"]["ci95"])
        assert low <= Decimal(figures["recovered"]["mean"]) <= high


def test_a_strategy_against_itself_differs_by_nothing(capsys):
    document = _simulate(capsys, EXAMPLES / "calls-first.toml", EXAMPLES / "calls-first.toml")
    for name, figures in document["difference"].items():
        assert Decimal(figures["mean"]) == 0, name
        assert [Decimal(v) for v in figures["ci95"]] == [0, 0], name
    assert document["strategy"]["blocked_by_rule"] == document["challenger"]["blocked_by_rule"]


def test_the_compliance_engine_decides_every_simulated_contact(capsys):
    shipped = Path(__file__).parents[2] / "src" / "arrears" / "application" / "strategies"
    document = _simulate(capsys, shipped / "wld-daily.toml", EXAMPLES / "calls-first.toml")
    # The shipped strategy asks for field visits at 91 days past due; with no written visit
    # authorization on file the CN pack refuses every one (CN-9).
    blocked = document["strategy"]["blocked_by_rule"]
    assert Decimal(blocked["cn.house.visit_conditions"]) > 0
    assert not any("visit" in rule for rule in document["challenger"]["blocked_by_rule"])


@pytest.mark.parametrize(("argv", "field"), [
    (("--runs", "0"), "--runs"),
    (("--loans", "100000", "--days", "365", "--runs", "100"), "--loans"),
])
def test_simulator_sizes_are_bounded(capsys, argv, field):
    code, out, err = invoke(capsys, "simulate", "--strategy", str(EXAMPLES / "calls-first.toml"),
                            "--challenger", str(EXAMPLES / "calls-first.toml"), *argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {field}:")


def test_a_bad_model_or_strategy_file_names_the_field(capsys, tmp_path):
    model = tmp_path / "model.toml"
    text = (Path(__file__).parents[2] / "src" / "arrears" / "application"
            / "borrower_response.toml").read_text(encoding="utf-8")
    model.write_text(text.replace("M2 = 0.38, M3 = 0.30, M4 = 0.24", "M2 = 1.38, M3 = 0.30, "
                                  "M4 = 0.24", 1), encoding="utf-8")
    code, _, err = invoke(capsys, "simulate", "--strategy", str(EXAMPLES / "calls-first.toml"),
                          "--challenger", str(EXAMPLES / "calls-first.toml"), "--model",
                          str(model))
    assert code == 2 and err.startswith("error: model.channel.call.right_party.M2:")
    broken = tmp_path / "strategy.toml"
    broken.write_text('name = "x"\nproduct = "WLD-DAILY"\n[[champion]]\nname = "a"\n'
                      'kind = "call"\nday = -99\n', encoding="utf-8")
    code, _, err = invoke(capsys, "simulate", "--strategy", str(broken), "--challenger",
                          str(EXAMPLES / "calls-first.toml"))
    assert code == 2 and err.startswith("error: --strategy: strategy.champion[0].day:")
