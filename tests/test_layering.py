"""GUIDE §2: automata never imports torch, neural or compare; neural never imports automata or
compare. Checked in a fresh interpreter, since this test run has imported everything."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("package", "forbidden"), [
    ("automata", ("torch", "neural", "compare", "automimic")),
    ("neural", ("automata", "compare", "automimic")),
    ("automimic_io", ("torch", "automata", "neural", "compare", "automimic")),
])
def test_a_package_does_not_import_the_layers_it_must_not_know(package, forbidden):
    check = (f"import sys, {package}\n"
             f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(forbidden)!r})\n"
             "print(','.join(loaded))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
