"""Whether the validation strings can tell two ``automimic pautomac`` runs apart on one problem:
each run's validation bits/symbol and their difference string by string, with its standard
error over the strings (the same split of the train file as the runs', from their settings).

    .venv/bin/python benchmarks/paired_validation.py ../shared/data/pautomac 5 runs/a runs/b

Both runs must have kept their model (``OUT/N/model.pt``) and share the seed that chose the
validation strings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's packages

import neural  # noqa: E402
from automimic.pautomac_suite import find_problems, holdout, read_problem  # noqa: E402
from automimic.pipeline import stage_seeds  # noqa: E402


def validation_strings(data: Path, problem: int, run: Path) -> list:
    """The validation strings ``automimic pautomac`` held out of the train file for ``run``."""
    settings = json.loads((run / "settings.json").read_text())
    strings, _, _, _ = read_problem(find_problems(data, [problem])[0])
    return holdout(strings, settings["val_fraction"], stage_seeds(settings["seed"])["val"])[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the PAutomaC folder")
    parser.add_argument("problem", type=int)
    parser.add_argument("runs", type=Path, nargs=2, help="two --out folders of automimic pautomac")
    args = parser.parse_args(argv)
    for run in args.runs:
        if not (run / "settings.json").is_file() or not (run / str(args.problem)).is_dir():
            raise SystemExit(f"{run}: not an automimic pautomac --out folder holding problem {args.problem}")
    seeds = {json.loads((run / "settings.json").read_text())["seed"] for run in args.runs}
    if len(seeds) > 1:
        raise SystemExit(f"the runs held out different validation strings (seeds {sorted(seeds)})")
    strings = validation_strings(args.data, args.problem, args.runs[0])
    try:
        models = [neural.load(run / str(args.problem)) for run in args.runs]
    except neural.CheckpointError as error:  # a run that did not keep its model
        raise SystemExit(str(error)) from None
    for run, model in zip(args.runs, models, strict=True):
        print(f"{run}: {neural.validation_bits(model, strings):.6f} bits/symbol")
    difference, error = neural.validation_margin(models[1], models[0], strings)  # the first's loss less the second's
    print(f"{args.runs[0].name} - {args.runs[1].name}: {difference:+.6f} ± {error:.6f} "
          f"bits/symbol (one standard error over {len(strings)} strings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
