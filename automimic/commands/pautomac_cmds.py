"""``automimic pautomac DIR --out OUT``: the PAutomaC competition, every train option applying."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path

from automimic.arguments import count, number_list, positive
from automimic.training_options import (
    add_training_options,
    check_device,
    check_precision,
    configs_from_args,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``pautomac`` to the command line."""
    parser = subparsers.add_parser(
        "pautomac", help="the PAutomaC competition: an RNN and the n-gram on each problem",
        description="For each problem N of DIR (N.pautomac.train, .test, _solution.txt, "
                    "_model.txt): hold out a seeded 10% of the training strings for validation, "
                    "train the RNN, and compare the competition's perplexity on the test strings "
                    "with the true model's and the n-gram's. A finished problem is skipped when "
                    "run again; an interrupted one resumes.")
    parser.add_argument("dir", metavar="DIR", help="the folder of the PAutomaC problems")
    parser.add_argument("--out", required=True, help="the results folder")
    parser.add_argument("--problems", type=number_list, default=None, metavar="LIST",
                        help="which problems, e.g. 1,3-7 (default: every one with a train file)")
    parser.add_argument("--jobs", type=positive, default=default_jobs(), metavar="N",
                        help=f"problems solved at once, each in its own process with one torch "
                             f"thread ({default_jobs()} here)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="send the problems to this Dask cluster instead (DIR and --out on "
                             "a file system the workers share)")
    parser.add_argument("--seed", type=count, default=0, help="random seed (0)")
    parser.add_argument("--force", action="store_true",
                        help="replace the results in --out made with other settings")
    parser.add_argument("--quiet", action="store_true", help="no training progress bar")
    add_training_options(parser)
    parser.set_defaults(handler=run_pautomac)


def default_jobs() -> int:
    """Two problems at once where there are two cores, else one."""
    return max(1, min(2, os.cpu_count() or 1))


def run_pautomac(args: argparse.Namespace) -> int:
    """Check every option and problem file, then solve the problems and print the table."""
    from automimic.pautomac_suite import SuiteSettings, find_problems, run_suite
    from automimic.run_folder import check_folder

    model_config, train_config = configs_from_args(args)
    check_device(args.device)
    check_precision(args.device, model_config, train_config)
    out = Path(args.out)
    check_folder(out, f"--out {out}")
    problems = find_problems(Path(args.dir), args.problems)
    settings = SuiteSettings(model=asdict(model_config), training=asdict(train_config),
                             seed=args.seed, device=args.device)
    try:
        results = run_suite(problems, settings, out, jobs=args.jobs, scheduler=args.scheduler,
                            force=args.force, quiet=args.quiet, say=_stderr)
    except KeyboardInterrupt:  # neural.TrainingInterrupted too: the checkpoint is saved
        again = "the same command without --force" if args.force else "the same command"
        _stderr(f"automimic: interrupted; finished problems and training checkpoints are in {out}: "
                f"run {again} to go on")
        return 130
    _print_table(results)
    print(f"report: {out / 'report.html'}")
    return 0


def _print_table(results: list[dict]) -> None:
    tuned = any("tuned" in r for r in results)  # a --tune run: what each problem's grid chose
    print(f"{'problem':>7} {'true':>10} {'RNN':>10} {'RNN/true':>9} {'n-gram':>10} "
          f"{'n-gram/true':>11} {'seconds':>8}" + ("  tune chose" if tuned else ""))
    for r in results:
        print(f"{r['problem']:>7} {r['true_perplexity']:>10.4f} {r['model_perplexity']:>10.4f} "
              f"{r['model_ratio']:>9.4f} {r['baseline_perplexity']:>10.4f} "
              f"{r['baseline_ratio']:>11.4f} {r['seconds']:>8.0f}" + (f"  {r.get('tuned', '')}" if tuned else ""))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
