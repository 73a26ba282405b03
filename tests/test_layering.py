"""The layers, read statically: every import statement of every module (inside functions too).

- a package imports only the packages below it (``ALLOWED``): automata and neural never meet
  outside compare, compare never imports the command line, automimic_io imports none of them;
- ``automata`` and ``automimic_io`` never import torch, so ``import automata`` stays light;
- inside a package no modules import each other in a circle, not even through a function;
- no module imports a command module (the command line loads them by name): command modules never
  import each other and the pipeline never imports one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {  # package -> the project's packages it may import
    "automimic_io": set(),
    "automata": {"automimic_io"},
    "neural": {"automimic_io"},
    "compare": {"automata", "neural", "automimic_io"},
    "automimic": {"automata", "neural", "compare", "automimic_io"},
}
NO_TORCH = ("automata", "automimic_io")
COMMANDS = "automimic.commands"


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the module ``name``, relative ones resolved;
    ``from package import name`` counts as importing the submodule when there is one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in MODULES else base, node.lineno))
    return found


EDGES = [(name, target, line) for name, path in MODULES.items()
         for target, line in imports(name, path)]


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_scan_sees_imports_inside_functions_and_resolves_relative_ones(tmp_path):
    module = tmp_path / "loading.py"
    module.write_text("from .core import Automaton\nfrom . import strings\n\n\n"
                      "def f():\n    import neural.model\n", encoding="utf-8")
    assert imports("automata.loading", module) == [
        ("automata.core", 1), ("automata.strings", 2), ("neural.model", 6)]


def test_packages_import_only_the_layers_below():
    wrong = [f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {target}"
             for name, target, line in EDGES
             if _top(target) in ALLOWED and _top(target) != _top(name)
             and _top(target) not in ALLOWED[_top(name)]]
    assert wrong == []


def test_light_packages_never_import_torch():
    wrong = [f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {target}"
             for name, target, line in EDGES if _top(name) in NO_TORCH and _top(target) == "torch"]
    assert wrong == []


@pytest.mark.parametrize("package", ALLOWED)
def test_no_circle_of_modules_inside_a_package(package):
    graph = nx.DiGraph((name, target) for name, target, _ in EDGES
                       if _top(name) == _top(target) == package and target in MODULES)
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert circles == []


def test_no_module_imports_a_command_module():
    wrong = [f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {target}"
             for name, target, line in EDGES if target.startswith(COMMANDS + ".")]
    assert wrong == []


@pytest.mark.parametrize(("package", "forbidden"), [
    ("automata", ("torch", "neural", "compare", "automimic")),
    ("neural", ("automata", "compare", "automimic")),
])
def test_a_package_does_not_load_the_layers_it_must_not_know(package, forbidden):
    """At run time too, in a fresh interpreter (this test run has imported everything)."""
    check = (f"import sys, {package}\n"
             f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(forbidden)!r})\n"
             "print(','.join(loaded))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
