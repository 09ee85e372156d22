"""`python -m arrears` runs the command-line tool."""

from arrears.entrypoints.cli.main import run

run()
