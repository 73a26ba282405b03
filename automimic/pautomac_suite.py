"""The PAutomaC competition (Verwer, Eyraud & de la Higuera, ICGI 2012), one job per problem.

Problem ``N`` of a folder is four files: ``N.pautomac.train`` and ``N.pautomac.test`` (strings),
``N.pautomac_solution.txt`` (the true probability of each test string) and
``N.pautomac_model.txt`` (the true automaton). :func:`solve` holds out a seeded tenth of the
training strings for validation, trains the RNN on the rest, fits the n-gram baseline on the same
split, and scores the test strings with the competition's perplexity against the solution file,
beside the true model's own. :func:`run_suite` runs the jobs (in this process, in parallel
processes, or on a Dask cluster), writes each result as soon as it is done, and skips the problems
already done with the same settings.

The output folder holds ``settings.json`` (the settings of every result in it), one run folder
``N/`` per problem (``model.pt``, ``training.pt`` to resume, ``history.json``, ``result.json``),
and ``results.json``, ``results.csv`` and ``report.html`` over every finished problem. The data
folder and the output folder must be reachable at the same paths from Dask workers.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import multiprocessing.connection
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from automata import Automaton
from automimic.errors import CliError
from automimic_io import write_atomic
from automimic_io.jsontext import json_text

FILES = {"train": "{}.pautomac.train", "test": "{}.pautomac.test",
         "solution": "{}.pautomac_solution.txt", "model": "{}.pautomac_model.txt"}
SETTINGS_FILE = "settings.json"
RESULT_FILE = "result.json"
SUMMARY_FILES = ("results.json", "results.csv", "report.html")
RUN_FILES = ("model.pt", "training.pt", "history.json", RESULT_FILE)  # in each problem's folder


@dataclass(frozen=True)
class Problem:
    """Problem ``number`` of the data folder ``folder``."""

    number: int
    folder: Path

    def path(self, kind: str) -> Path:
        """The file of ``kind`` (train, test, solution or model).

        >>> Problem(3, Path("data")).path("solution").as_posix()
        'data/3.pautomac_solution.txt'
        """
        return self.folder / FILES[kind].format(self.number)


@dataclass(frozen=True)
class SuiteSettings:
    """What every problem is solved with: the RNNConfig and TrainConfig fields, the seed of the
    validation split and of training, the held-out fraction; ``device`` does not count as a
    setting of the results."""

    model: dict
    training: dict
    seed: int = 0
    val_fraction: float = 0.1
    device: str = "auto"

    def record(self) -> dict:
        """The settings that decide the results (what a second run must match).

        >>> SuiteSettings(model={}, training={"epochs": 2}, device="cpu").record()
        {'model': {}, 'training': {'epochs': 2}, 'seed': 0, 'val_fraction': 0.1}
        """
        return {key: value for key, value in asdict(self).items() if key != "device"}


# ------------------------------------------------------------------------------ the data folder


def find_problems(folder: Path, numbers: Sequence[int] | None) -> list[Problem]:
    """The problems of ``folder`` (``numbers``, or every one with a train file), each checked:
    all four files there, the test and solution counts equal, one alphabet size. A bad folder is
    one CliError naming the file.

    >>> import tempfile
    >>> find_problems(Path(tempfile.mkdtemp()), None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: ...: no PAutomaC problem (no file N.pautomac.train)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CliError(f"{folder}: not a folder (expected the PAutomaC problems N.pautomac.*)")
    if numbers is None:
        numbers = sorted(int(m.group(1)) for path in folder.iterdir()
                         if (m := re.fullmatch(r"(\d+)\.pautomac\.train", path.name)))
        if not numbers:
            raise CliError(f"{folder}: no PAutomaC problem (no file N.pautomac.train)")
    problems = [Problem(number, folder) for number in numbers]
    for problem in problems:
        _check_problem(problem)
    return problems


def _check_problem(problem: Problem) -> None:
    """Refuse (CliError naming the file) a problem with a file missing or not matching the others.

    The training strings are read in full by the job; here only their header.
    """
    from automata import pautomac

    if not any(problem.path(kind).exists() for kind in FILES):
        raise CliError(f"{problem.folder}: no problem {problem.number} (no file "
                       f"{problem.number}.pautomac.*)")
    for kind in FILES:
        if not problem.path(kind).is_file():
            raise CliError(f"{problem.path(kind)}: no such file (problem {problem.number} needs "
                           f"{', '.join(FILES[k].format(problem.number) for k in FILES)})")
    n_symbols = _train_symbols(problem.path("train"))
    test = pautomac.read_strings(problem.path("test"))
    if test.n_symbols != n_symbols:
        raise CliError(f"{problem.path('test')}: {test.n_symbols} symbols, but "
                       f"{problem.path('train')} has {n_symbols}")
    solution = pautomac.read_solution(problem.path("solution"))
    if len(solution) != len(test):
        raise CliError(f"{problem.path('solution')}: {len(solution)} probabilities for "
                       f"{len(test)} test strings in {problem.path('test')}")
    pautomac.read_model(problem.path("model"), n_symbols=n_symbols)


def _train_symbols(path: Path) -> int:
    """The alphabet size in the header ``count alphabet-size`` of a string file."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline(200).split()  # a header is short
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise CliError(f"{path}:1: the first line must be 'count alphabet-size' (got "
                       f"{' '.join(header)!r})")
    return int(header[1])


# ----------------------------------------------------------------------------- one problem


def holdout(strings: Sequence, fraction: float, seed: int) -> tuple[list, list]:
    """A seeded split of ``strings``: (the rest, ``fraction`` of them, at least one).

    >>> holdout(list("abcdefghij"), 0.2, 0)
    (['c', 'h', 'd', 'f', 'j', 'a', 'i', 'b'], ['e', 'g'])
    """
    order = np.random.default_rng(seed).permutation(len(strings))
    n_val = max(1, int(round(len(strings) * fraction)))
    return [strings[i] for i in order[n_val:]], [strings[i] for i in order[:n_val]]


def solve(problem: Problem, settings: SuiteSettings, out: Path, *, quiet: bool = True) -> dict:
    """Train, score and compare on one problem; writes ``out/N/result.json`` and returns it.

    An interrupted training resumes from ``out/N/training.pt``.
    """
    import neural
    from automata.pautomac import pautomac_perplexity
    from automimic.pipeline import stage_seeds
    from compare.comparison import fit_baseline
    from neural.checkpoint import VALIDATED_FOLDER
    from neural.tuning import tuned_choice_in

    started = time.perf_counter()
    run_dir = Path(out) / str(problem.number)
    run_dir.mkdir(parents=True, exist_ok=True)
    strings, test, truth, log_solution = read_problem(problem)
    seeds = stage_seeds(settings.seed)
    train, val = holdout(strings, settings.val_fraction, seeds["val"])
    baseline, info = fit_baseline(truth, train, val)
    model = neural.train(train, val, truth.alphabet, neural.RNNConfig(**settings.model),
                         neural.TrainConfig(**settings.training), seed=seeds["model"],
                         device=settings.device, run_dir=run_dir, quiet=quiet,
                         resume=(run_dir / "training.pt").exists())
    refit = bool(settings.training.get("refit"))
    judged = neural.load(run_dir / VALIDATED_FOLDER) if refit else model  # the model validation judged
    result = {"problem": problem.number,
              **_perplexities(test, log_solution, truth=truth, model=model, baseline=baseline),
              "baseline": info["label"], "epochs": len(model.history["val_bits"]),
              "val_bits": neural.validation_bits(judged, val),  # what compares recipes
              "best_epoch": int(model.history.get("best_epoch", -1)) + 1,
              "n_train": len(train), "n_val": len(val), "n_test": len(test),
              "seconds": time.perf_counter() - started, "settings": settings.record()}
    if refit:  # the model before its refit, for the refit's effect
        result["validated_perplexity"] = pautomac_perplexity(log_solution, judged.log_probability(test), test)
    tuned = tuned_choice_in(run_dir)
    if tuned is not None:
        result["tuned"] = tuned
    write_atomic(run_dir / RESULT_FILE, json_text(result) + "\n")
    return result


def read_problem(problem: Problem) -> tuple[list, list, Automaton, np.ndarray]:
    """The training strings, the test strings, the true automaton and the log probabilities
    of the solution file."""
    from automata import pautomac

    strings = pautomac.read_strings(problem.path("train"))
    truth = pautomac.read_model(problem.path("model"), n_symbols=strings.n_symbols,
                                name=f"PAutomaC {problem.number}")
    return (strings.strings, pautomac.read_strings(problem.path("test")).strings, truth,
            np.log(pautomac.read_solution(problem.path("solution"))))


def _perplexities(test: list, log_solution: np.ndarray, *, truth: Automaton, model,
                  baseline: Automaton) -> dict[str, float]:
    """The competition's perplexity of each model, and its ratio to the true model's; the
    solution file's own is the true model's computed from the solution alone."""
    import automata as am
    from automata.pautomac import pautomac_perplexity

    logs = {"true": am.log_probability(truth, test), "model": model.log_probability(test),
            "baseline": am.log_probability(baseline, test), "solution": log_solution}
    perplexity = {f"{role}_perplexity": pautomac_perplexity(log_solution, log, test)
                  for role, log in logs.items()}
    return {**perplexity,
            "model_ratio": perplexity["model_perplexity"] / perplexity["true_perplexity"],
            "baseline_ratio": perplexity["baseline_perplexity"] / perplexity["true_perplexity"]}


def _job(problem: Problem, settings: SuiteSettings, out: Path, quiet: bool) -> dict:
    """:func:`solve` with one torch thread, in a worker process; a user error (a bad file)
    comes back as ``{"error": message}``, since exceptions do not all cross processes."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return solve(problem, settings, out, quiet=quiet)
    except (ValueError, OSError) as error:
        return {"problem": problem.number, "error": str(error)}
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------------------------ the suite


def run_suite(problems: Sequence[Problem], settings: SuiteSettings, out: Path, *, jobs: int = 1,
              scheduler: str | None = None, force: bool = False, quiet: bool = False,
              say: Callable[[str], None] = print) -> list[dict]:
    """Solve every problem not yet solved in ``out``; returns the results of ``problems``.

    ``jobs`` parallel processes here, or the workers of the Dask cluster at ``scheduler``. After
    each problem, ``results.json``, ``results.csv`` and ``report.html`` are written again.
    """
    client = _connect(scheduler) if scheduler is not None else None  # before anything is written
    with client or contextlib.nullcontext():
        record = settings.record()
        _prepare_output(out, record, force=force)
        done = {p.number: r for p in problems
                if (r := _read_result(out / str(p.number))) is not None}
        todo = [p for p in problems if p.number not in done]
        if done:
            say(f"{len(done)} of {_problems(len(problems))} already solved in {out} "
                f"({_problems_named(list(done))}): skipped")
        if todo:
            where = (f"on the Dask cluster at {scheduler}" if client else f"in {min(jobs, len(todo))} "
                     "processes" if jobs > 1 and len(todo) > 1 else "here")
            say(f"solving {_problems(len(todo))} {where}")
        results = _dispatch(todo, settings, out, jobs, client, quiet, say)
        for finished, result in enumerate(results, start=1):
            done[result["problem"]] = _finished(result, out, record, say,
                                                f"[{finished}/{len(todo)}] ")
    if not todo:
        _write_summary(out, record)
    return [done[p.number] for p in problems]


def _problems(n: int) -> str:
    """'1 problem', '3 problems'."""
    return f"{n} problem{'' if n == 1 else 's'}"


def _problems_named(numbers: list[int]) -> str:
    """'problem 4', 'problems 1, 3'."""
    return f"problem{'' if len(numbers) == 1 else 's'} {', '.join(map(str, numbers))}"


def _finished(result: dict, out: Path, record: dict, say: Callable[[str], None],
              counter: str) -> dict:
    """A problem's result as it arrives: an error stops the suite, a result goes into the
    summary files and the progress (with a note when the model and solution files disagree)."""
    if "error" in result:
        raise CliError(result["error"])
    _write_summary(out, record)
    say(counter + progress_line(result))
    if not math.isclose(result["true_perplexity"], result["solution_perplexity"], rel_tol=1e-6):
        say(f"note: problem {result['problem']}: the true model's perplexity "
            f"{result['true_perplexity']:.6f} is not the solution file's own "
            f"{result['solution_perplexity']:.6f}: do the model and solution files match?")
    return result


def progress_line(result: dict) -> str:
    """One finished problem in words.

    >>> progress_line({"problem": 1, "true_perplexity": 30.0, "model_perplexity": 30.3,
    ...                "baseline_perplexity": 31.5, "model_ratio": 1.01, "baseline_ratio": 1.05,
    ...                "seconds": 61.2})
    'problem 1: RNN 30.300 (1.0100 × true), n-gram 31.500 (1.0500 × true), true 30.000; 61 s'
    """
    return (f"problem {result['problem']}: RNN {result['model_perplexity']:.3f} "
            f"({result['model_ratio']:.4f} × true), n-gram {result['baseline_perplexity']:.3f} "
            f"({result['baseline_ratio']:.4f} × true), true {result['true_perplexity']:.3f}; "
            f"{result['seconds']:.0f} s" + (f"; tune chose {result['tuned']}" if "tuned" in result else ""))


def _dispatch(todo: Sequence[Problem], settings: SuiteSettings, out: Path, jobs: int,
              client, quiet: bool, say: Callable[[str], None]) -> Iterator[dict]:
    """The results of ``todo`` as they finish: on the Dask ``client``'s cluster, in ``jobs``
    processes, or here."""
    if client is not None:
        yield from _on_cluster(todo, settings, out, client)
    elif jobs > 1 and len(todo) > 1:
        yield from _in_processes(todo, settings, out, jobs, say)
    else:
        for problem in todo:
            say(f"problem {problem.number}: training")
            yield _job(problem, settings, out, quiet)


def _in_processes(todo: Sequence[Problem], settings: SuiteSettings, out: Path, jobs: int,
                  say: Callable[[str], None]) -> Iterator[dict]:
    """One process per problem, ``jobs`` at a time; results as they finish. When this process
    stops (Ctrl-C, SIGTERM), so do they, each saving its training to resume."""
    context = process_context(settings.device)
    waiting, running = list(todo), {}  # receiving end of a worker's pipe → (process, problem)
    try:
        with _sigterm_interrupts():
            while waiting or running:
                while waiting and len(running) < jobs:
                    receive, send = context.Pipe(duplex=False)
                    problem = waiting.pop(0)
                    process = context.Process(target=_worker, args=(send, problem, settings, out),
                                              daemon=True)
                    process.start()
                    say(f"problem {problem.number}: training (process {process.pid})")
                    send.close()
                    running[receive] = (process, problem)
                for receive in multiprocessing.connection.wait(list(running)):
                    yield _received(receive, *running.pop(receive))
    finally:
        _stop([process for process, _ in running.values()])


def _worker(send, problem: Problem, settings: SuiteSettings, out: Path) -> None:
    """The body of a worker process: :func:`_job`, its result sent back; a stop (the training
    saved) sends ``{"stopped": True}``."""
    try:
        result = _job(problem, settings, out, True)
    except KeyboardInterrupt:  # neural.TrainingInterrupted too
        result = {"problem": problem.number, "stopped": True}
    send.send(result)


def _received(receive, process, problem: Problem) -> dict:
    """The result a worker sent before it ended; KeyboardInterrupt when it was stopped."""
    try:
        result = receive.recv()
    except EOFError:  # it ended without a word: killed
        result = None
    process.join()
    if result is None:
        return {"error": f"problem {problem.number}: its worker process ended with exit code "
                         f"{process.exitcode} (killed?); run again to resume it"}
    if result.get("stopped"):
        raise KeyboardInterrupt
    return result


def _stop(processes: Sequence) -> None:
    """Stop the worker processes still running: a moment to end on their own (Ctrl-C reached
    them too), then SIGTERM, on which the trainer saves its state."""
    for process in processes:
        process.join(timeout=5)
    for process in processes:
        if process.is_alive():
            process.terminate()
        process.join()


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt here, so that the workers are stopped too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def process_context(device: str) -> multiprocessing.context.BaseContext:
    """How to start worker processes for ``device`` (auto, cpu, cuda, cuda:N): fork, so that
    they start with torch imported, unless they may use CUDA, which a forked process cannot
    initialise; then spawn.

    >>> process_context("cpu").get_start_method() in ("fork", "spawn")
    True
    """
    import torch

    may_use_cuda = torch.cuda.is_initialized() or (device != "cpu" and torch.cuda.is_available())
    forks = "fork" in multiprocessing.get_all_start_methods() and not may_use_cuda
    return multiprocessing.get_context("fork" if forks else "spawn")


def _connect(scheduler: str):
    """A ``distributed.Client`` of the Dask scheduler at ``scheduler``; CliError when dask is
    not installed or the scheduler does not answer."""
    try:
        from distributed import Client
    except ImportError:
        raise CliError(f"--scheduler {scheduler}: needs dask.distributed "
                       "(pip install 'automimic[cluster]')") from None
    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise CliError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                       f"({error})") from None


def _on_cluster(todo: Sequence[Problem], settings: SuiteSettings, out: Path,
                client) -> Iterator[dict]:
    from distributed import as_completed as completed

    # the workers may run in other folders: absolute paths
    futures = [client.submit(_job, Problem(p.number, p.folder.resolve()), settings,
                             Path(out).resolve(), True, pure=False) for p in todo]
    try:
        for future in completed(futures):
            yield future.result()
    finally:
        client.cancel(futures)


# ------------------------------------------------------------------------------ the output folder


def _prepare_output(out: Path, record: dict, *, force: bool) -> None:
    """Make ``out`` ready for results with ``record``'s settings; refuse (CliError) a folder with
    results of other settings unless ``force``, which removes only the files the suite writes."""
    from neural.config import LEGACY_TRAINING

    path = out / SETTINGS_FILE
    previous = _read_json(path) if path.exists() else None
    if previous is not None and isinstance(previous.get("training"), dict):  # written before a field existed
        previous = {**previous, "training": {**LEGACY_TRAINING, **previous["training"]}}
    if force:
        _clear(out)
    elif previous is not None and previous != record:
        changed = sorted(_changed(previous, record))
        raise CliError(f"{out} holds results of other settings ({', '.join(changed)} differ): "
                       "replace them with --force or choose another --out")
    elif previous is None and any(_problem_folders(out)):
        raise CliError(f"{out} holds problem folders but no {SETTINGS_FILE}: replace them with "
                       "--force or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json_text(record) + "\n")


def _changed(previous: dict, record: dict, prefix: str = "") -> Iterator[str]:
    """The keys (``training.lr``) whose values differ.

    >>> sorted(_changed({"a": 1, "m": {"x": 1, "y": 2}}, {"a": 1, "m": {"x": 3}}))
    ['m.x', 'm.y']
    """
    for key in set(previous) | set(record):
        old, new = previous.get(key), record.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            yield from _changed(old, new, f"{prefix}{key}.")
        elif old != new:
            yield prefix + key


def _clear(out: Path) -> None:
    from neural.checkpoint import remove_nested_runs

    for name in (SETTINGS_FILE, *SUMMARY_FILES):
        (out / name).unlink(missing_ok=True)
    for folder in _problem_folders(out):
        for name in RUN_FILES:
            (folder / name).unlink(missing_ok=True)
        remove_nested_runs(folder)


def _problem_folders(out: Path) -> list[Path]:
    if not out.is_dir():
        return []
    return sorted((p for p in out.iterdir() if p.is_dir() and p.name.isdigit()),
                  key=lambda p: int(p.name))


def _read_result(run_dir: Path) -> dict | None:
    """The result of a finished problem's folder, or None."""
    path = run_dir / RESULT_FILE
    if not path.exists():
        return None
    # JSON holds an infinite perplexity (a test string the model gives 0) as "inf"
    return {key: float(value) if value in ("inf", "-inf") else value
            for key, value in _read_json(path).items()}


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise CliError(f"{path}: corrupt results file ({error}); replace it with --force") from None


def _write_summary(out: Path, record: dict) -> None:
    """``results.json``, ``results.csv`` and ``report.html`` over every finished problem."""
    from automimic.pautomac_report import csv_text, report_html

    results = [r for folder in _problem_folders(out) if (r := _read_result(folder)) is not None]
    document = {"settings": record,
                "problems": [{k: v for k, v in r.items() if k != "settings"} for r in results]}
    write_atomic(out / "results.json", json_text(document) + "\n")
    write_atomic(out / "results.csv", csv_text(document["problems"]))
    write_atomic(out / "report.html", report_html(document))
