"""The wheel holds every module and data file of the project's packages (read from pyproject.toml).

The wheel itself is built, installed into a fresh environment and run by ``.ci/run``; these checks
are the fast, static half: what the package discovery and the package data would leave out.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
TOP_LEVEL = ("automata", "neural", "compare", "automimic", "automimic_io")


def _included(package: str) -> bool:
    patterns = SETUPTOOLS["packages"]["find"]["include"]
    return any(fnmatch.fnmatchcase(package, pattern) for pattern in patterns)


def _data_patterns(package: str) -> list[str]:
    return SETUPTOOLS.get("package-data", {}).get(package, [])


def _project_files() -> list[Path]:
    return [path for top in TOP_LEVEL if (ROOT / top).is_dir()
            for path in sorted((ROOT / top).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts]


def _owning_package(path: Path) -> str:
    """The dotted name of the innermost package (a folder with ``__init__.py``) holding ``path``."""
    folder = path.parent
    while not (folder / "__init__.py").exists():
        folder = folder.parent
    return ".".join(folder.relative_to(ROOT).parts)


@pytest.mark.parametrize("path", [p for p in _project_files() if p.suffix == ".py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_is_in_a_discovered_package(path):
    folder = path.parent
    assert (folder / "__init__.py").exists(), f"{folder} holds modules but no __init__.py"
    assert _included(".".join(folder.relative_to(ROOT).parts))


@pytest.mark.parametrize("path", [p for p in _project_files() if p.suffix not in (".py", ".pyc")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_data_file_is_package_data(path):
    package = _owning_package(path)
    relative = path.relative_to(ROOT.joinpath(*package.split("."))).as_posix()
    assert any(fnmatch.fnmatchcase(relative, pattern) for pattern in _data_patterns(package)), (
        f"{relative} is not in [tool.setuptools.package-data] {package}")


def test_the_top_level_packages_are_found_and_tests_are_not():
    assert all(_included(name) for name in TOP_LEVEL)
    assert not _included("tests") and not _included("tests.automata") and not _included("benchmarks")
