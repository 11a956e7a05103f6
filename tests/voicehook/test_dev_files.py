"""The files `voicehook dev` keeps under ./var: secrets generated once and reused, and the
shell file of its settings, each readable by its owner only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from voicehook.dev_files import dev_secret, dev_webhook_secret, write_dev_env


class TestDevSecrets:
    def test_generated_once_then_reused(self, tmp_path: Path) -> None:
        var = tmp_path / "var"
        first = dev_webhook_secret(var)
        assert first.startswith("whsec_dev_")
        assert len(first) == len("whsec_dev_") + 32
        assert dev_webhook_secret(var) == first
        assert (var / "dev-webhook-secret").stat().st_mode & 0o077 == 0

    def test_each_name_its_own(self, tmp_path: Path) -> None:
        token = dev_secret(tmp_path, "dev-admin-token", "adm_dev_")
        assert token.startswith("adm_dev_")
        assert token != dev_webhook_secret(tmp_path)


class TestDevEnv:
    def test_sourced_by_a_shell_gives_the_values_back(self, tmp_path: Path) -> None:
        """Quoted for the shell: a value with spaces, quotes or `$` comes back as written."""
        values = {"DATABASE_URL": "sqlite:///var/voicehook.db", "ODD": "a b 'c' $HOME \"d\""}
        path = write_dev_env(tmp_path / "var", values)
        assert path.stat().st_mode & 0o077 == 0
        assert path.read_text().startswith("# Written by `voicehook dev`")
        shown = subprocess.run(
            ["bash", "-c", f'. {path} && printf "%s\\n%s" "$DATABASE_URL" "$ODD"'],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        assert shown.stdout.split("\n") == [values["DATABASE_URL"], values["ODD"]]

    def test_rewritten_private_when_it_exists(self, tmp_path: Path) -> None:
        var = tmp_path / "var"
        var.mkdir()
        (var / "dev.env").write_text("old")
        (var / "dev.env").chmod(0o644)
        path = write_dev_env(var, {"A": "1"})
        assert path.stat().st_mode & 0o077 == 0
        assert "export A=1\n" in path.read_text()
