"""The README's Python examples stand alone: each block defines or imports every name it uses."""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def undefined_names(source: str) -> set[str]:
    """Names a block reads but neither imports, assigns nor gets from the builtins.

    >>> sorted(undefined_names("import a\\nb = a.x(c)\\n"))
    ['c']
    """
    tree = ast.parse(source)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)} - bound


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.splitlines()[0])
def test_a_python_example_defines_what_it_uses(block):
    assert undefined_names(block) == set()


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2
