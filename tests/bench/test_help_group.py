"""`python -m bench --help`: as clean as the product's help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.help_group import unwrap


class TestUnwrap:
    def test_joins_the_lines_of_a_paragraph_and_keeps_paragraphs(self) -> None:
        """A docstring's source line breaks go; a blank line between paragraphs stays."""
        text = "One line\n    and its rest.\n\n    A second\n    paragraph."
        assert unwrap(text) == "One line and its rest.\n\nA second paragraph."

    def test_no_help_stays_none(self) -> None:
        """A command without help has none after it either."""
        assert unwrap(None) is None


@pytest.mark.parametrize("args", [["--help"], ["startup", "--help"], ["ingest", "--help"]])
def test_no_bool_metavar_beside_a_flag(args: list[str]) -> None:
    """--help and the other flags show no `<bool>`, as in `voicehook`'s help."""
    result = CliRunner().invoke(app, args, prog_name="python -m bench", env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "Usage: python -m bench" in result.output
    assert "<bool>" not in result.output


def test_a_listed_help_is_not_broken_where_its_docstring_was() -> None:
    """The listing's `ingest` line runs on at the panel's width, not at the source's break
    after "enqueued," (the docstring's line ends there)."""
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "made durable and enqueued, against a bare endpoint" in result.output
