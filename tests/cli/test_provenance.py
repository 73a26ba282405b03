"""A run records the automaton it was trained on; compare tells a match, another one, unknown."""

from __future__ import annotations

import json

from automimic.provenance import SOURCE_FILE, read_source, trained_on, write_source


def test_a_recorded_automaton_is_recognised_by_its_content(tmp_path):
    truth, copy, other = (tmp_path / name for name in ("a.yaml", "b.yaml", "c.yaml"))
    truth.write_text("kind: dfa\n")
    copy.write_text("kind: dfa\n")
    other.write_text("kind: nfa\n")
    run = tmp_path / "run"
    run.mkdir()
    write_source(run, truth)
    assert trained_on(run, copy) == (True, "the run was trained on this automaton (same SHA-256)")
    same, sentence = trained_on(run, other)
    assert not same
    assert sentence.startswith(f"{run} was trained on another automaton ({truth}, SHA-256 ")
    assert f"not on {other}" in sentence


def test_a_run_without_a_record_is_unknown_not_a_match(tmp_path):
    (tmp_path / "a.yaml").write_text("kind: dfa\n")
    same, sentence = trained_on(tmp_path, tmp_path / "a.yaml")
    assert not same and "does not record which automaton it was trained on" in sentence


def test_the_main_jobs_run_file_counts_as_a_record(tmp_path):
    (tmp_path / "a.yaml").write_text("kind: dfa\n")
    write_source(tmp_path, tmp_path / "a.yaml")
    record = json.loads((tmp_path / SOURCE_FILE).read_text())
    (tmp_path / SOURCE_FILE).unlink()
    (tmp_path / "run.json").write_text(json.dumps(record | {"seed": 0}))
    assert read_source(tmp_path)["seed"] == 0 and trained_on(tmp_path, tmp_path / "a.yaml")[0]
