"""The alert rules and the README against what the code really exports (live registries)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.monitoring.exported import documented_name, exported_families, sample_names

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
README = ROOT / "README.md"

# PromQL words that are not metric names.
PROMQL_WORDS = frozenset(
    [
        "and",
        "or",
        "unless",
        "on",
        "ignoring",
        "by",
        "without",
        "group_left",
        "group_right",
        "bool",
        "offset",
    ]
)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_NAMES = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()")
_FUNCTION = re.compile(r"[a-zA-Z_]+\s*\(")
_DURATION = re.compile(r"^\d+[smhdwy]$")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (labels, functions and keywords left out)."""
    text = _RANGES.sub(" ", _MATCHERS.sub(" ", _STRINGS.sub(" ", expr)))
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    text = _FUNCTION.sub(" ", text)
    return {name for name in _NAMES.findall(text) if name not in PROMQL_WORDS}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> set[str]:
    return {
        name
        for family in exported_families(monkeypatch, str(tmp_path))
        for name in sample_names(family)
    }


class TestAlertRules:
    def test_every_expr_reads_only_exported_metrics(self, exported: set[str]) -> None:
        """Each rule's expression names metrics that a live registry exports."""
        for rule in rules():
            names = metric_names(rule["expr"])
            assert names, rule["alert"]
            assert names <= exported, (rule["alert"], sorted(names - exported))

    def test_the_issue_asks_for_these_alerts(self) -> None:
        """The alerts the issue lists are all there, each with a summary and a runbook
        anchor that the README has."""
        found = {rule["alert"]: rule for rule in rules()}
        assert {
            "VoicehookEventsWaiting", "VoicehookEventsFailing", "VoicehookDeadLetters",
            "VoicehookBudgetSaturated", "VoicehookRateLimited", "VoicehookWriterRestarts",
            "VoicehookInvalidSignatures", "VoicehookDownloadFailures",
        } <= set(found)  # fmt: skip
        readme = README.read_text()
        for name, rule in found.items():
            assert rule["annotations"]["summary"], name
            anchor = rule["annotations"]["runbook"].split("#", 1)[1]
            assert f'<a id="{anchor}"></a>' in readme, name

    def test_the_parser_finds_names(self) -> None:
        """The name extraction the rule check relies on: names kept, the rest left out."""
        expr = (
            'sum by (reason) (increase(a_total{x="y"}[15m])) > 3 and on() '
            "max(b) == 0 or rate(c_bucket[5m]) > 15 * 60"
        )
        assert metric_names(expr) == {"a_total", "b", "c_bucket"}

    @pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
    def test_promtool_accepts_the_rules(self) -> None:
        """`promtool check rules` (Debian's prometheus package) accepts the file."""
        result = subprocess.run(
            ["promtool", "check", "rules", str(RULES)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


class TestReadme:
    def test_every_exported_metric_is_documented(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """Each metric family any process exports has a row in the README's table."""
        readme = README.read_text()
        missing = sorted(
            {
                documented_name(family)
                for family in exported_families(monkeypatch, str(tmp_path))
                if f"`{documented_name(family)}`" not in readme
            }
        )
        assert missing == []
