"""inspect_model end to end on an oracle "RNN"; the JSON; the HTML in headless Chromium."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import automata as am
from automata.rendering import has_dot
from compare.inside import inspect_model, render_html, to_json
from compare.page import figure_names
from tests.compare.test_inside_alignment import QUOTES, OneHotModel, RandomModel

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def quotes():
    return am.loads(QUOTES)


@pytest.fixture(scope="module")
def oracle_inspection(quotes):
    return inspect_model(quotes, OneHotModel(quotes, noise=0.01), groups={"in": frozenset({"in"})},
                         units=["h0:1"], n_strings=400, seed=3, ks=range(1, 5),
                         probabilities="model")


def test_oracle_inspection_reads_everything(quotes, oracle_inspection):
    result = oracle_inspection
    assert result.probe.accuracy == 1.0
    assert sum(result.split.values()) == 400
    assert result.split["fit"] == 200 and result.split["test"] == 100
    (group,) = result.groups
    assert group.probe.accuracy == 1.0
    assert group.best_unit["single_accuracy"] == 1.0
    assert abs(group.best_unit["correlation"]) > 0.99
    assert result.extraction.k == 2
    assert result.purity == 1.0
    assert am.equivalent(result.extraction.automaton, quotes, atol=1e-3)
    assert result.distances["extracted"]["exact_l2"] < 1e-3
    assert result.distances["extracted_vs_rnn"]["mean_tv"] < 1e-3
    assert result.distances["rnn"]["kl_bits_per_symbol"] == pytest.approx(0.0, abs=1e-12)
    shown = [u["unit"] for u in result.shown_units]
    assert shown[0] == "h0:1" and group.best_unit["unit"] in shown


def test_random_hidden_states_read_nothing(quotes):
    result = inspect_model(quotes, RandomModel(quotes, width=4), n_strings=400, seed=0, ks=2)
    assert result.probe.accuracy < result.probe.chance + 0.05
    assert all(g.best_unit["single_accuracy"] < 0.75 for g in result.groups)
    assert result.purity < 0.75


def test_coloured_examples_use_the_state_after_each_symbol(quotes, oracle_inspection):
    """Unit h0:1 of the oracle is 1 inside quotes: it lights up on the symbol that opens a
    quote and goes dark on the one that closes it."""
    unit = oracle_inspection.shown_units[0]
    assert unit["unit"] == "h0:1" and len(unit["lines"]) == 6
    for symbols, activations, membership in unit["lines"]:
        inside = False
        for symbol, value, member in zip(symbols, activations, membership, strict=True):
            inside ^= symbol == '"'
            assert (value > 0.5) == inside == (member > 0.5)


def test_json_is_plain_and_complete(oracle_inspection):
    document = json.loads(json.dumps(to_json(oracle_inspection)))
    assert document["probe"]["accuracy"] == 1.0
    assert document["groups"]["in"]["probe"]["accuracy"] == 1.0
    assert document["groups"]["in"]["best_unit"]["single_accuracy"] == 1.0
    extraction = document["extraction"]
    assert extraction["k"] == 2 and extraction["probabilities"] == "model"
    assert np.array(extraction["contingency"]["counts"]).sum() == document["probe"]["n_test"]
    assert extraction["distances"]["extracted"]["exact_l2"] < 1e-3
    assert am.equivalent(am.from_dict(extraction["automaton"]),
                         oracle_inspection.extraction.automaton)


def test_html_is_self_contained(oracle_inspection):
    page = render_html(oracle_inspection)
    assert page.startswith("<!DOCTYPE html>")
    assert "Probe: hidden state" in page and "Extracted automaton" in page
    assert not re.search(r"(src|href)=['\"]https?:", page)
    assert "data:image/png;base64," in page
    assert page.count('class="cell') >= 10
    if has_dot():
        assert {"truth", "extracted"} <= set(figure_names(page))


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    profile = cwd / "profile"
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed")
def test_html_renders_in_headless_chromium(oracle_inspection, tmp_path):
    from matplotlib.image import imread

    page = tmp_path / "inspect.html"
    page.write_text(render_html(oracle_inspection), encoding="utf-8")
    shot = tmp_path / "shot.png"
    run = _chromium("--window-size=1200,2400", f"--screenshot={shot}", page.as_uri(),
                    cwd=tmp_path)
    assert shot.exists(), run.stderr[-2000:]
    assert "Uncaught" not in run.stderr and "CONSOLE" not in run.stderr
    image = imread(io.BytesIO(shot.read_bytes()))[..., :3]
    coloured = (np.abs(image[..., 0] - image[..., 2]) > 0.3).mean()  # red or blue cells
    assert coloured > 0.001
    dom = _chromium("--dump-dom", page.as_uri(), cwd=tmp_path).stdout
    assert "Extracted automaton" in dom and "data-key=\"probe-accuracy\"" in dom
    if has_dot():
        assert dom.count("<svg") >= 2
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def test_nondeterministic_truth_is_inspected_through_its_beliefs():
    from tests.compare.test_inside_alignment import PFA

    truth = am.loads(PFA)
    result = inspect_model(truth, OneHotModel(truth), n_strings=300, seed=0, ks=range(1, 4))
    assert result.probe.accuracy == 1.0  # the units are the beliefs, whose argmax is the label
    assert set(result.distances["extracted"]) >= {"kl_bits_per_symbol", "exact_l2"}
    assert "exact_kl_bits_per_symbol" not in result.distances["extracted"]  # PFA: no exact KL
    json.dumps(to_json(result))
    assert "Extracted automaton" in render_html(result)


def test_too_few_strings_are_refused(quotes):
    with pytest.raises(ValueError, match="at least 4 strings"):
        inspect_model(quotes, OneHotModel(quotes), n_strings=3)
