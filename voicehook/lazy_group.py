"""A command group that imports each sub-command's module only when that command runs.

`voicehook --help` and a simple read must not pay for the receiver, the sandbox, SQLAlchemy
and the benchmarks; each entry names its module and its one-line help, so listing the
commands imports nothing (a test checks the lines match the commands' own help).
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup, TyperOption

# Whether `pause_collection` stopped the garbage collector (only the console script does).
_collection_paused = False


def pause_collection() -> None:
    """Stop garbage collection while the console script starts: importing a command's stack
    (SQLAlchemy, pydantic) makes hundreds of thousands of objects that all live on, and each
    collection they trigger scans every one of them again, to free nothing — ~15% of a
    simple read's start-up. `resume_collection` ends it once the command is loaded."""
    global _collection_paused  # noqa: PLW0603 - one switch per process, set by `main`
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection() -> None:
    """Collect again, but never scan what loading made: it lives as long as the process, so
    it moves to the permanent generation (`gc.freeze`), out of every later collection's way
    — the one at exit included."""
    global _collection_paused  # noqa: PLW0603
    if _collection_paused:
        gc.freeze()
        gc.enable()
        _collection_paused = False


@dataclass(frozen=True)
class Entry:
    """A sub-command: `module:attribute` (a Typer app or a command function) and its help."""

    target: str
    help: str


def load_command(name: str, target: str) -> _click.Command:
    """Import `target` and turn it into the click command Typer would have built."""
    module_name, _, attribute = target.partition(":")
    found: Any = getattr(importlib.import_module(module_name), attribute)
    if isinstance(found, typer.Typer):
        command: _click.Command = typer.main.get_group(found)
    else:
        single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    tidy_metavars(command)
    return command


def tidy_metavars(command: _click.Command) -> None:
    """No `<bool>` beside a flag (--help included) and no `<list[str]>` beside a repeatable
    option: a flag takes no value, a repeatable option one value each time it is given."""
    for param in command.params:
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.multiple:
            param.metavar = (param.name or "value").upper()
    original = command.get_help_option

    def help_option(ctx: _click.Context) -> TyperOption | None:
        return plain_help_flag(original(ctx))

    # Typer builds --help on first use, so the flag is tidied as it is made.
    command.get_help_option = help_option  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        tidy_metavars(sub)


def plain_help_flag(option: TyperOption | None) -> TyperOption | None:
    """--help without a metavar, and `False` when not given (not None): Typer coerces a
    flag's value through a pydantic adapter unless it is already a bool, so a None would
    import pydantic for `voicehook jobs --help` (a third of its start-up) to say nothing."""
    if option is not None:
        option.metavar = ""
        option.default = False
    return option


class LazyGroup(TyperGroup):
    """A TyperGroup whose commands come from `ENTRIES`, imported on first use."""

    entries: ClassVar[Mapping[str, Entry]] = {}

    def get_help_option(self, ctx: _click.Context) -> TyperOption | None:
        # A group's --help is parsed (as not given) before its command's: tidy it here too.
        return plain_help_flag(super().get_help_option(ctx))

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.entries)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.entries:
            command = load_command(cmd_name, self.entries[cmd_name].target)
            self.commands[cmd_name] = command
            if not isinstance(command, LazyGroup):  # the last of the command's modules
                resume_collection()
        return self.commands.get(cmd_name)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        # The listing needs each command's help line only: stand-ins carry it, nothing loads.
        loaded = self.commands
        self.commands = {
            name: loaded.get(name) or TyperCommand(name, help=entry.help)
            for name, entry in self.entries.items()
        }
        tidy_metavars(self)
        try:
            super().format_help(ctx, formatter)
        finally:
            self.commands = loaded
