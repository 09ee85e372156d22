"""Commands imported only when they run, so `arrears --help` and a light command such as
`arrears compliance check` start without loading the database, web, PDF and array libraries
that other commands need (issue 15).

A table maps each command name to `Command("module:attribute", help)` — the attribute is a
Typer app (a group of subcommands) or a command function — or to `Group(help, {...})`, a
group whose subcommands live in several modules. Listing a group's commands in `--help`
reads the help from the table and imports nothing; running a command imports its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Command:
    """A command or Typer app, `target` = "package.module:attribute"; `help` is what the
    group's `--help` lists for it (its docstring's first paragraph)."""

    target: str
    help: str


@dataclass(frozen=True)
class Group:
    """A group whose subcommands come from several modules."""

    help: str
    commands: Mapping[str, Command | Group] = field(default_factory=dict)


Table = Mapping[str, Command | Group]


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, those registered on its Typer app first, then the table's,
    which are resolved on first access."""

    def __init__(self, table: Table, registered: Mapping[str, Any]) -> None:
        self.table = table
        self.resolved = dict(registered)
        self.order = [*registered, *(name for name in table if name not in registered)]

    def __getitem__(self, name: str) -> Any:
        if name not in self.resolved:
            if name not in self.table:
                raise KeyError(name)
            self.resolved[name] = resolve(name, self.table[name])
        return self.resolved[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self.resolved[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"a command group cannot lose a command ({name})")

    def __iter__(self) -> Iterator[str]:
        yield from self.order
        yield from (name for name in self.resolved if name not in self.order)

    def __len__(self) -> int:
        return len(self.order) + sum(name not in self.order for name in self.resolved)


class LazyGroup(TyperGroup):
    """A Typer group whose `commands` resolve the entries of its `table` on first use."""

    table: Table = {}

    def __init__(self, *, table: Table | None = None, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.table if table is None else table, self.commands)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        assert isinstance(commands, LazyCommands)
        if self._listing and cmd_name not in commands.resolved and cmd_name in commands.table:
            # The group's help needs only each command's name and line: import nothing.
            return TyperCommand(name=cmd_name, help=commands.table[cmd_name].help)
        return commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def resolve(name: str, entry: Command | Group) -> Any:
    """The click command of a table entry, importing its module."""
    if isinstance(entry, Group):
        return LazyGroup(name=name, help=entry.help, table=entry.commands, no_args_is_help=True)
    module_name, _, attribute = entry.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        holder = typer.Typer()
        holder.command(name)(target)
        command = typer.main.get_group(holder).commands[name]
    command.name = name
    return command
