"""analyze, distance, minimize, determinize, convert and fit, run as a user would."""

from __future__ import annotations

import json

import pytest

import automata as am
from automata.shipped import example_path
from automimic.cli import main

EXAMPLES = example_path().parent
MARKOV = str(EXAMPLES / "abe_markov.yaml")
FSM = str(EXAMPLES / "abe_fsm.yaml")
GEOMETRIC = "kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {x: 0.5, $: 0.5}}\n"
SHORTER = "kind: markov\nalphabet: [x]\nstart: {x: 1.0}\nnext: {x: {$: 1.0}}\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_analyze_json_has_the_exact_quantities(capsys, tmp_path):
    code, out, _ = run(capsys, "analyze", write(tmp_path, "g.yaml", GEOMETRIC), "--json")
    row = json.loads(out)
    assert code == 0
    assert row["total_probability"] == pytest.approx(1.0)
    assert row["expected_length"] == pytest.approx(2.0)
    assert row["entropy_bits"] == pytest.approx(2.0)
    assert row["entropy_rate_bits"] == pytest.approx(2 / 3)
    assert row["most_probable"] == {"string": "x", "probability": 0.5}
    code, out, _ = run(capsys, "analyze", MARKOV)
    assert code == 0 and "entropy_rate_bits" in out
    code, out, _ = run(capsys, "analyze", FSM, "--json")
    assert json.loads(out)["minimal_dfa_states"] == 2


def test_distance_json_keys(capsys, tmp_path):
    a, b = write(tmp_path, "a.yaml", GEOMETRIC), write(tmp_path, "b.yaml", SHORTER)
    code, out, _ = run(capsys, "distance", a, b, "--json")
    row = json.loads(out)
    assert code == 0 and set(row) >= {"l2", "kl_bits", "equivalent", "witness"}
    assert row["l2"] == pytest.approx((1 / 3) ** 0.5)
    assert row["kl_bits"] == "inf" and row["equivalent"] is False and row["witness"] == "x"
    code, out, _ = run(capsys, "distance", b, a, "--json")
    assert json.loads(out)["kl_bits"] == pytest.approx(1.0)
    code, out, _ = run(capsys, "distance", a, b)
    assert "inf: B gives probability 0 to 'xx'" in out
    code, out, _ = run(capsys, "distance", a, a, "--json")
    assert json.loads(out) == {"l2": 0.0, "kl_bits": 0.0, "equivalent": True, "witness": None}


def test_minimize_determinize_and_convert(capsys, tmp_path):
    nfa = am.regex_to_nfa("(a|b)*a(a|b)(a|b)")
    source = tmp_path / "n.json"
    am.write_automaton(nfa, source)
    code, out, _ = run(capsys, "determinize", str(source), "-o", str(tmp_path / "d.dot"))
    assert code == 0 and am.same_language(am.read_automaton(tmp_path / "d.dot"), nfa)
    code, out, _ = run(capsys, "minimize", str(source), "-o", str(tmp_path / "m.yaml"))
    assert code == 0 and len(am.load(tmp_path / "m.yaml").states) == 8
    code, _, err = run(capsys, "minimize", MARKOV, "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and "dfa or nfa" in err
    for target in ("c.json", "c.dot", "c.pautomac", "c.yaml"):
        code, _, _ = run(capsys, "convert", MARKOV, str(tmp_path / target))
        assert code == 0
    assert am.equivalent(am.load(tmp_path / "c.yaml"), am.load(MARKOV))
    code, _, err = run(capsys, "convert", FSM, str(tmp_path / "f.pautomac"))
    assert code == 2 and "distribution" in err
    code, _, err = run(capsys, "convert", FSM, str(tmp_path / "f.txt"))
    assert code == 2 and "unknown automaton format" in err


def test_fit_writes_a_markov_chain(capsys, tmp_path):
    strings = write(tmp_path, "s.txt", "ab\naab\n\nb\n")
    code, out, _ = run(capsys, "fit", strings, "--order", "1", "--smoothing", "0",
                       "-o", str(tmp_path / "m.yaml"))
    model = am.load(tmp_path / "m.yaml")
    assert code == 0 and model.kind == "pdfa" and model.alphabet == ("a", "b")
    # start: a×2, b×1, $×1
    assert am.next_symbol_distribution(model, "").tolist() == pytest.approx([0.5, 0.25, 0.25])
    words = write(tmp_path, "w.txt", "the cat\nthe dog\n")
    code, said, _ = run(capsys, "fit", words, "--order", "2", "--alphabet", "the,cat,dog",
                        "-o", str(tmp_path / "w.yaml"))
    assert code == 0 and am.probability(am.load(tmp_path / "w.yaml"), "the cat") > 0
    assert "order-2 markov chain (a trigram model)" in said and "(a bigram model)" in out
    code, _, err = run(capsys, "fit", words, "--order", "-1", "-o", str(tmp_path / "z.yaml"))
    assert code == 2 and "order" in err


def test_help_for_every_command(capsys):
    for command in ("analyze", "distance", "minimize", "determinize", "convert", "fit"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage: automimic " + command in capsys.readouterr().out


def test_distance_says_what_its_witness_is(capsys, tmp_path):
    p, q = write(tmp_path, "p.yaml", GEOMETRIC), write(tmp_path, "q.yaml", SHORTER)
    code, out, _ = run(capsys, "distance", p, q)
    # P(x) = 0.25 vs 1: they differ after the prefix "x" (the empty prefix agrees: x surely comes)
    assert code == 0
    assert "witness     'x' (a shortest prefix after which their next-symbol probabilities " \
           "differ)" in out
    code, out, _ = run(capsys, "distance", FSM, write(tmp_path, "all.yaml", "kind: dfa\n"
                       "alphabet: [A, B, E]\nstart: s\nstates: {s: {final: true, next: "
                       "{A: s, B: s, E: s}}}\n"))
    assert "witness     'B' (a shortest string that one accepts and the other does not)" in out


def test_fit_splits_a_corpus_as_train_data_does(capsys, tmp_path):
    from automimic.commands.neural_cmds import read_data

    corpus = write(tmp_path, "c.txt", "a b\nb a\n")
    code, _, err = run(capsys, "fit", corpus, "--order", "1", "-o", str(tmp_path / "m.yaml"))
    assert code == 0, err
    assert am.load(tmp_path / "m.yaml").alphabet == ("a", "b")
    assert read_data(corpus) == [("a", "b"), ("b", "a")]  # what `train --data` trains on
    code, _, err = run(capsys, "fit", corpus, "--order", "1", "--chars",
                       "-o", str(tmp_path / "c.yaml"))
    assert code == 0, err
    assert am.load(tmp_path / "c.yaml").alphabet == (" ", "a", "b")
