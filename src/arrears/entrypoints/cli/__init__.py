"""The `arrears` command-line tool."""
