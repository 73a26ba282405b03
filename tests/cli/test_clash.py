"""Another project's ``automata`` package (automata-lib's has the same name) stops every command
with one line that names the clash and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [["validate", "x.yaml"], ["run"], ["--help"]])
def test_a_foreign_automata_package_is_named_with_the_fix(tmp_path, argv):
    (tmp_path / "automata").mkdir()
    (tmp_path / "automata" / "__init__.py").write_text('"""automata-lib"""\n', encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run([sys.executable, "-m", "automimic", *argv], capture_output=True,
                            text=True, env=environment, cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and str(tmp_path / "automata") in result.stderr
    assert "automata-lib" in result.stderr and "pip uninstall automata-lib" in result.stderr


def test_our_own_package_passes():
    from automimic.cli import foreign_automata

    assert foreign_automata() is None
