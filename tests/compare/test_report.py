"""metrics.json and report.html: contents, and the page rendered in headless Chromium."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import automata as am
from compare.comparison import compare_models
from compare.page import figure_names
from compare.report import render_html, write_metrics, write_report
from compare.table import metrics_table

CHROMIUM = Path("/usr/bin/chromium")
FIGURES = ["automaton", "learning-curve", "kl-by-position", "lengths", "alpha-sweep"]
DRAWN = FIGURES if shutil.which("dot") else FIGURES[1:]  # the automaton needs Graphviz's dot


@pytest.fixture(scope="module")
def comparison(examples_dir):
    truth = am.load(examples_dir / "i_before_e_pfa.yaml")
    train = [tuple(s) for s in am.sample(truth, 300, seed=1)]
    val = [tuple(s) for s in am.sample(truth, 100, seed=2)]
    model = am.fit_markov(train, alphabet=truth.alphabet, order=1, smoothing=0.5)
    history = {"train_bits": [2.7, 2.5, 2.45], "val_bits": [2.6, 2.48, 2.46]}
    return compare_models(truth, model, am.sample(truth, 400, seed=3), label="bigram",
                          train=train, val=val, n_samples=300, history=history,
                          config={"seed": 0})


def test_metrics_json_has_the_guide_keys(comparison, tmp_path):
    write_metrics(comparison, tmp_path / "metrics.json")
    document = json.loads((tmp_path / "metrics.json").read_text())
    for role in ("metrics", "baseline", "oracle"):
        for key in ("kl_bits_per_symbol", "kl_bits_per_string", "cross_entropy_bits_per_symbol",
                    "entropy_bits_per_symbol", "mean_tv", "max_tv", "wer", "ndcg5",
                    "pautomac_perplexity", "true_perplexity", "illegal_sample_fraction"):
            assert key in document[role]
    assert document["oracle"]["kl_bits_per_symbol"] == 0.0
    assert document["metrics"]["kl_bits_per_symbol"] > 0
    assert document["stderr"]["kl_bits_per_symbol"] > 0
    assert document["exact"]["kl_bits_per_symbol"] > 0  # two deterministic automata
    assert document["config"] == {"seed": 0} and "numpy" in document["versions"]
    assert len(document["per_state"]) == len(comparison.truth.states)


def test_the_table_has_a_column_per_model(comparison):
    table = metrics_table(comparison)
    assert [c.header for c in table.columns][1:4] == ["bigram", comparison.labels["baseline"],
                                                     "truth (oracle)"]


def test_the_page_is_self_contained_with_every_figure(comparison):
    page = render_html(comparison)
    assert figure_names(page) == DRAWN
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", page)  # nothing from the network
    assert page.count("<svg") >= len(DRAWN)


def test_without_graphviz_the_automaton_picture_is_left_out(comparison, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert figure_names(render_html(comparison)) == FIGURES[1:]


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt install chromium)")
def test_the_report_renders_in_headless_chromium(comparison, tmp_path):
    report = tmp_path / "report.html"
    write_report(comparison, report)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert figure_names(dom.stdout) == DRAWN
    figures = re.findall(r"<figure data-figure=\"[^\"]+\">(.*?)</figure>", dom.stdout, re.S)
    assert len(figures) == len(DRAWN) and all("<svg" in f for f in figures)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or
               "Uncaught" in line]
    assert console == []
    shot = tmp_path / "report.png"
    subprocess.run([str(CHROMIUM), *flags, f"--screenshot={shot}", "--window-size=1200,2400",
                    report.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("AUTOMIMIC_SCREENSHOT"):  # a path: keep the picture to look at it
        shutil.copy(shot, os.environ["AUTOMIMIC_SCREENSHOT"])


def test_the_terminal_and_the_page_show_one_entropy_and_explain_a_loss_below_it(examples_dir):
    truth = am.load(examples_dir / "i_before_e_pfa.yaml")
    train, val = am.sample(truth, 300, seed=1), am.sample(truth, 100, seed=2)
    comparison = compare_models(truth, truth, am.sample(truth, 200, seed=3), train=train,
                                val=val, n_samples=0, history={"train_bits": [2.5, 2.3],
                                                               "val_bits": [2.45, 2.30]})
    entropy, source = comparison.entropy
    assert source == "exact"
    shown = f"entropy {entropy:.4f} bits/symbol (exact)"
    assert shown in metrics_table(comparison).title and shown in render_html(comparison)
    floor = comparison.validation_entropy
    log_p = am.log_probability(truth, list(val))
    assert floor == pytest.approx(-sum(log_p) / math.log(2) / sum(len(s) + 1 for s in val))
    page = render_html(comparison)
    assert f"the truth&#39;s own bits per symbol on the validation strings, {floor:.4f}" in page
    assert "The validation loss (2.3000) dips below the entropy rate" in page


def test_python_writes_the_report_as_the_command_does(comparison, tmp_path):
    import compare

    path = compare.write_report(comparison, tmp_path / "new" / "folder")
    assert path == tmp_path / "new" / "folder" / "report.html"
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json", "report.html"]
    page = path.read_text()
    assert figure_names(page) == figure_names(render_html(comparison)) and "<h1>" in page
    document = json.loads((path.parent / "metrics.json").read_text())
    assert document["metrics"]["kl_bits_per_symbol"] == pytest.approx(
        comparison.evaluations["model"].metrics["kl_bits_per_symbol"])
