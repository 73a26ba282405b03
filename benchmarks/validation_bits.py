"""Per problem of ``automimic pautomac`` runs: the best validation bits/symbol (what chooses a
recipe), the epochs, and the test perplexities over the true one (only reported); for a
``--refit`` run, the validated model's beside the refit one's.

Reads ``OUT/results.json`` and, for the validation loss of the epoch each network kept, each
problem's ``OUT/N/history.json``; several folders print one block each, so that two recipes can
be compared problem by problem on validation.

    .venv/bin/python benchmarks/validation_bits.py runs/pautomac [runs/other ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def val_bits(out: Path, result: dict) -> float:
    """The validation bits/symbol of one problem's kept model in the run folder ``out``.

    An ensemble's is the one recorded (its own loss). A network's is its output layer's fitted
    again after training where it was (``refit_head`` in its history), else read at the epoch it kept,
    from ``out/N/history.json``: runs written before 2026-11-27 recorded the lowest loss of all
    epochs, which can lie up to ``min_delta`` below the kept epoch's. Without that file, the
    recorded one.
    """
    history_file = out / str(result["problem"]) / "history.json"
    ensemble = json.loads((out / "results.json").read_text())["settings"]["training"].get("ensemble", 1) > 1
    if history_file.is_file() and not ensemble:
        history = json.loads(history_file.read_text())
        head = history.get("refit_head") or {}
        if head.get("rounds"):  # its output layer fitted again after training (neural.head)
            return float(head["val_bits_after"])
        kept = history.get("best_epoch", history.get("progress", {}).get("best_epoch"))
        if kept is not None and 0 <= kept < len(history.get("val_bits", [])):
            return float(history["val_bits"][kept])
    if result.get("val_bits") is not None:
        return float(result["val_bits"])
    raise SystemExit(f"{out}: problem {result['problem']} has no val_bits in results.json "
                     f"and no {history_file.name} with its kept epoch")


def rows(out: Path) -> list[str]:
    """One line per finished problem of the run folder ``out``."""
    results = json.loads((out / "results.json").read_text())["problems"]
    lines = []
    for result in sorted(results, key=lambda r: r["problem"]):
        bits = val_bits(out, result)
        validated = result.get("validated_perplexity")  # a refit run: the model before its refit
        before = "" if validated is None else f"  before refit {validated / result['true_perplexity']:.4f}"
        lines.append(f"{out.name:10s} {result['problem']:>3d}  val {bits:.4f}  "
                     f"RNN/true {result['model_ratio']:.4f}{before}  n-gram/true {result['baseline_ratio']:.4f}  "
                     f"epochs {result['epochs']:>2d} (best {result['best_epoch']:>2d})  {result['seconds']:5.0f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outs", type=Path, nargs="+", help="--out folders of automimic pautomac")
    outs = parser.parse_args(argv).outs
    for out in outs:
        if not (out / "results.json").is_file():
            parser.error(f"{out}: no results.json (not an automimic pautomac --out folder)")
    for out in outs:
        print("\n".join(rows(out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
