"""`python -m bench --help` as clean as the product's: no `<bool>` beside a flag, and each
command's help one paragraph per paragraph of its docstring.

Typer's rich help keeps a docstring's line breaks where they fall in the source, so a
listing of the benches broke lines mid-sentence; the product's commands reuse the same
metavar tidying (`voicehook.lazy_group.tidy_metavars`).
"""

from __future__ import annotations

import inspect

from typer import _click
from typer.core import TyperGroup, TyperOption

from voicehook.lazy_group import plain_help_flag, tidy_metavars


def unwrap(text: str | None) -> str | None:
    """`text` with the line breaks inside each paragraph made spaces; blank lines stay."""
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


class BenchGroup(TyperGroup):
    """The `python -m bench` group: its commands tidied as they are looked up or listed."""

    def get_help_option(self, ctx: _click.Context) -> TyperOption | None:
        return plain_help_flag(super().get_help_option(ctx))

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            tidy(command)
        return command

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        for command in self.commands.values():
            tidy(command)
        super().format_help(ctx, formatter)


def tidy(command: _click.Command) -> None:
    if getattr(command, "_bench_tidied", False):
        return
    command.help = unwrap(command.help)
    tidy_metavars(command)
    command._bench_tidied = True  # type: ignore[attr-defined]
