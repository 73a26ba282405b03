"""Speed of the ``automata`` package against AALpy, automata-lib and plain Python loops.

Every figure is a ratio against a baseline timed in the same run: the two sides alternate
(A B A B ...) and each side reports the median of ``--repeats`` timings. The models are random
but seeded, built with ``automata.from_dict`` and rebuilt state by state in the peer library.

Run from the repository root::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_automata.py

The peers are for benchmarking only (``benchmarks/requirements.txt``). automata-lib installs a
top-level package named ``automata`` that would shadow ours, so it is installed into its own
folder (``--peers``, default ``.venv/benchmark-peers``) and imported under an alias::

    .venv/bin/pip install aalpy
    .venv/bin/pip install --no-deps --target .venv/benchmark-peers automata-lib
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy starts its thread pools

import argparse  # noqa: E402
import importlib  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import string  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from types import ModuleType  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `automata`, ahead of any other package of that name

import automata as am  # noqa: E402
from automata.core import dense_transition  # noqa: E402
from automata.sampling import sample_codes  # noqa: E402

SEED = 20240611


# ---------------------------------------------------------------- models (seeded, from_dict)

def symbols(n: int) -> list[str]:
    """``n`` one-character symbols."""
    return list((string.ascii_lowercase + string.ascii_uppercase + string.digits)[:n])


def markov_chain(rng: np.random.Generator, n_symbols: int = 40, fanout: int = 5,
                 stop: float = 0.05) -> dict:
    """A first-order chain: each symbol has ``fanout`` successors and stops with ``stop``."""
    alphabet = symbols(n_symbols)
    following = {}
    for symbol in alphabet:
        targets = rng.choice(n_symbols, fanout, replace=False)
        weights = rng.dirichlet(np.ones(fanout)) * (1 - stop)
        following[symbol] = {alphabet[t]: float(w) for t, w in zip(targets, weights, strict=True)}
        following[symbol]["$"] = stop
    start = dict(zip(alphabet, rng.dirichlet(np.ones(n_symbols)).tolist(), strict=True))
    return {"kind": "markov", "alphabet": alphabet, "start": start, "next": following,
            "normalize": True}


def pdfa(rng: np.random.Generator, n_states: int = 50, n_symbols: int = 10,
         stop: float = 0.02) -> dict:
    """Every state has a move on every symbol (Dirichlet weights) and stops with ``stop``."""
    alphabet = symbols(n_symbols)
    names = [f"q{i}" for i in range(n_states)]
    states = {}
    for name in names:
        weights = rng.dirichlet(np.ones(n_symbols)) * (1 - stop)
        targets = rng.integers(n_states, size=n_symbols)
        states[name] = {"final": stop, "next": {
            s: {names[t]: float(w)} for s, t, w in zip(alphabet, targets, weights, strict=True)}}
    return {"kind": "pdfa", "alphabet": alphabet, "start": names[0], "states": states,
            "normalize": True}


def pfa(rng: np.random.Generator, n_states: int = 50, n_symbols: int = 10, fanout: int = 3,
        stop: float = 0.02) -> dict:
    """Every state moves on every symbol to ``fanout`` random targets; a random start spread."""
    alphabet = symbols(n_symbols)
    names = [f"q{i}" for i in range(n_states)]
    states = {}
    for name in names:
        weights = rng.dirichlet(np.ones(n_symbols * fanout)) * (1 - stop)
        moves: dict[str, dict[str, float]] = {}
        for k, symbol in enumerate(alphabet):
            for j, target in enumerate(rng.choice(n_states, fanout, replace=False)):
                moves.setdefault(symbol, {})[names[target]] = float(weights[k * fanout + j])
        states[name] = {"final": stop, "next": moves}
    starts = rng.choice(n_states, 5, replace=False)
    return {"kind": "pfa", "alphabet": alphabet, "start": {names[s]: 0.2 for s in starts},
            "states": states, "normalize": True}


def dfa(rng: np.random.Generator, n_states: int = 50, n_symbols: int = 10) -> dict:
    """A complete DFA with random moves; about half of the states accept."""
    alphabet = symbols(n_symbols)
    names = [f"q{i}" for i in range(n_states)]
    states = {name: {"final": bool(rng.random() < 0.5),
                     "next": {s: names[t] for s, t in
                              zip(alphabet, rng.integers(n_states, size=n_symbols), strict=True)}}
              for name in names}
    return {"kind": "dfa", "alphabet": alphabet, "start": names[0], "states": states}


# ---------------------------------------------------------------- the same models in the peers

def aalpy_chain(a: am.Automaton):
    """Our Markov chain as an AALpy MarkovChain: one McState per symbol (its output), a start
    state ``^`` and an absorbing end state ``$`` (AALpy chains have no end of string)."""
    from aalpy import MarkovChain, McState

    states = {name: McState(name, name) for name in a.states}
    end = McState("$", "$")
    for s, name in enumerate(a.states):
        for i in range(len(a.alphabet)):
            if a.symbol_prob[s, i] > 0:
                target = a.states[a.next_state[s, i]]
                states[name].transitions.append((states[target], float(a.symbol_prob[s, i])))
        if a.final[s] > 0:
            states[name].transitions.append((end, float(a.final[s])))
    return MarkovChain(states[a.states[a.start]], [*states.values(), end])


def aalpy_sample(chain, n: int, max_length: int = am.DEFAULT_MAX_LENGTH) -> list[list[str]]:
    """AALpy's own sampling: reset, then ``step()`` until the end state (``$``)."""
    result = []
    for _ in range(n):
        chain.reset_to_initial()
        sequence = []
        for _ in range(max_length):
            output = chain.step()
            if output == "$":
                break
            sequence.append(output)
        result.append(sequence)
    return result


def import_automata_lib(peers: Path) -> ModuleType:
    """automata-lib's ``automata.fa.dfa``, imported without shadowing our ``automata``.

    automata-lib imports itself by absolute names (``automata.fa...``), so its modules are loaded
    with its folder first on sys.path and our modules set aside, then moved under ``sys.modules``
    aliases while ours come back.
    """
    ours = {k: m for k, m in sys.modules.items() if k == "automata" or k.startswith("automata.")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(peers))
    try:
        module = importlib.import_module("automata.fa.dfa")
    finally:
        sys.path.remove(str(peers))
        theirs = [k for k in sys.modules if k == "automata" or k.startswith("automata.")]
        for name in theirs:
            sys.modules["automata_lib" + name[len("automata"):]] = sys.modules.pop(name)
        sys.modules.update(ours)
    if not hasattr(module, "DFA"):
        raise ImportError(f"{module.__file__} is not automata-lib's DFA module")
    return module


def automata_lib_dfa(module: ModuleType, a: am.Automaton):
    """Our DFA as an automata-lib DFA."""
    transitions = {name: {symbol: a.states[a.next_state[s, i]]
                          for i, symbol in enumerate(a.alphabet) if a.next_state[s, i] >= 0}
                   for s, name in enumerate(a.states)}
    return module.DFA(states=set(a.states), input_symbols=set(a.alphabet), transitions=transitions,
                      initial_state=a.states[a.start],
                      final_states={a.states[s] for s in np.flatnonzero(a.final)},
                      allow_partial=True)


# ---------------------------------------------------------------- plain Python baselines

def python_pdfa_log_probability(a: am.Automaton, strings: list[str]) -> list[float]:
    """A straightforward loop over dicts: state -> symbol -> (next state, log probability)."""
    import math

    table = [{symbol: (int(a.next_state[s, i]), math.log(a.symbol_prob[s, i]))
              for i, symbol in enumerate(a.alphabet) if a.symbol_prob[s, i] > 0}
             for s in range(len(a.states))]
    stop = [math.log(f) if f > 0 else -math.inf for f in a.final.tolist()]
    result = []
    for x in strings:
        state, total = a.start, 0.0
        for symbol in x:
            move = table[state].get(symbol)
            if move is None:
                total = -math.inf
                break
            state, log = move
            total += log
        else:
            total += stop[state]
        result.append(total)
    return result


def python_pfa_log_probability(a: am.Automaton, strings: list[str]) -> list[float]:
    """A straightforward scaled forward pass, one numpy vector-matrix product per symbol."""
    index = {symbol: i for i, symbol in enumerate(a.alphabet)}
    transition, start = a.transition, a.initial / a.initial.sum()
    result = []
    for x in strings:
        vector, total = start, 0.0
        for symbol in x:
            vector = vector @ transition[index[symbol]]
            scale = vector.sum()
            total += np.log(scale)
            vector = vector / scale
        result.append(total + np.log(vector @ a.final))
    return result


# ---------------------------------------------------------------- timing

@dataclass
class Side:
    label: str
    run: Callable[[], object]
    symbols: int  # symbols processed per run
    times: list[float]
    calls: int = 1  # calls per run: one per string for the one-string rows


def interleave(sides: list[Side], repeats: int) -> None:
    """Time the sides in turn (A B A B ...), ``repeats`` rounds after one warm-up round."""
    for round_ in range(repeats + 1):
        for side in sides:
            begin = time.perf_counter()
            side.run()
            elapsed = time.perf_counter() - begin
            if round_:
                side.times.append(elapsed)


def rate(side: Side) -> float:
    """Median throughput in millions of symbols per second."""
    return side.symbols / statistics.median(side.times) / 1e6


def microseconds(side: Side) -> float:
    """Median time of one call in microseconds."""
    return statistics.median(side.times) / side.calls * 1e6


@dataclass
class Row:
    case: str
    ours: Side
    baseline: Side
    target: str
    passed: bool
    per_call: bool = False  # figures in µs a call instead of M symbols/s


def total_symbols(strings) -> int:
    return sum(len(x) for x in strings)


def bench_sampling(repeats: int) -> list[Row]:
    chain = am.from_dict(markov_chain(np.random.default_rng(SEED)))
    peer = aalpy_chain(chain)
    n_ours, n_peer = 20_000, 2_000
    random.seed(SEED)  # AALpy draws from the global `random` state
    ours_symbols = total_symbols(am.sample(chain, n_ours, seed=SEED))
    peer_symbols = total_symbols(aalpy_sample(peer, n_peer))
    peer_check = aalpy_sample(peer, 200)
    assert np.isfinite(am.log_probability(chain, [tuple(x) for x in peer_check])).all(), \
        "AALpy sampled a string our chain rejects: the models differ"
    print(f"  40-state chain: mean length {ours_symbols / n_ours:.1f} (ours), "
          f"{peer_symbols / n_peer:.1f} (AALpy)")
    tuples = Side(f"am.sample, {n_ours} strings", lambda: am.sample(chain, n_ours, seed=SEED),
                  ours_symbols, [])
    codes = Side(f"sample_codes, {n_ours} strings",
                 lambda: sample_codes(chain, n_ours, seed=SEED), ours_symbols, [])
    aalpy = Side(f"AALpy MarkovChain.step, {n_peer} strings",
                 lambda: aalpy_sample(peer, n_peer), peer_symbols, [])
    interleave([tuples, aalpy, codes], repeats)
    return [Row("sample 40-state chain", side, aalpy, f"≥ {target}× AALpy",
                rate(side) >= target * rate(aalpy)) for side, target in ((tuples, 30), (codes, 30))]


def bench_log_probability(repeats: int) -> list[Row]:
    rows = []
    for name, build, baseline, target, n_baseline in (
        ("log P, 50-state PDFA", pdfa, python_pdfa_log_probability, 5.0, 10_000),
        ("log P, 50-state PFA", pfa, python_pfa_log_probability, 5.0, 500),
    ):
        a = am.from_dict(build(np.random.default_rng(SEED)))
        strings = ["".join(x) for x in am.sample(a, 10_000, seed=SEED)]
        subset = strings[:n_baseline]
        expected = np.array(baseline(a, subset))
        assert np.allclose(am.log_probability(a, subset), expected), f"{name}: results differ"
        ours = Side("am.log_probability, 10000 strings", lambda a=a, s=strings:
                    am.log_probability(a, s), total_symbols(strings), [])
        plain = Side(f"Python loop, {n_baseline} strings", lambda a=a, s=subset, f=baseline:
                     f(a, s), total_symbols(subset), [])
        ceiling = [dense_products(a, total_symbols(strings))] if build is pfa else []
        interleave([ours, plain, *ceiling], repeats)
        for side in ceiling:
            print(f"  {name}: its {side.label} run at {rate(side):.2f} M symbols/s, "
                  "the ceiling of any forward pass made of dense products on this machine")
        rows.append(Row(name, ours, plain, f"≥ {target:g} M symbols/s", rate(ours) >= target))
    return rows


def dense_products(a: am.Automaton, n_symbols: int, block: int = 1000) -> Side:
    """A forward pass's dense products and nothing else: one (block, S) @ (S, S) product for
    every ``block`` symbols read, the block size at which this BLAS runs them fastest."""
    transition = dense_transition(a)  # (A, S, S)
    vectors = np.random.default_rng(SEED).random((block, len(a.states)))
    out = np.empty_like(vectors)

    def run() -> None:
        for k in range(-(-n_symbols // block)):
            np.dot(vectors, transition[k % len(transition)], out=out)

    return Side(f"dense products alone ({block} rows a call)", run, n_symbols, [])


def bench_acceptance(repeats: int, peers: Path) -> list[Row]:
    library = import_automata_lib(peers)
    a = am.from_dict(dfa(np.random.default_rng(SEED)))
    peer = automata_lib_dfa(library, a)
    rng = np.random.default_rng(SEED + 1)
    alphabet = np.array(a.alphabet)
    strings = ["".join(alphabet[rng.integers(len(alphabet), size=rng.integers(0, 100))])
               for _ in range(10_000)]
    expected = [peer.accepts_input(x) for x in strings]
    assert [am.accepts(a, x) for x in strings] == expected, "acceptance differs (accepts)"
    assert am.accepts(a, strings).tolist() == expected, "acceptance differs (batched)"
    n = total_symbols(strings)
    one = Side("am.accepts, one call per string", lambda: [am.accepts(a, x) for x in strings],
               n, [])
    many = Side("am.accepts, one call for the batch", lambda: am.accepts(a, strings), n, [])
    theirs = Side("automata-lib DFA.accepts_input", lambda: [peer.accepts_input(x)
                                                              for x in strings], n, [])
    print(f"  50-state DFA: {sum(expected)} of {len(strings)} strings accepted")
    interleave([one, theirs, many], repeats)
    return [Row("DFA acceptance, 10000 strings", one, theirs, "≥ 1.5× automata-lib",
                rate(one) >= 1.5 * rate(theirs)),
            Row("DFA acceptance, 10000 strings", many, theirs, "≥ 5× automata-lib",
                rate(many) >= 5 * rate(theirs))]


def bench_one_string(repeats: int) -> list[Row]:
    """The latency of one call on one 12-symbol string of a 100-state PDFA, against the plain
    dict loop (its table built once, outside the timing)."""
    a = am.from_dict(pdfa(np.random.default_rng(SEED), n_states=100))
    alphabet = np.array(a.alphabet)
    rng = np.random.default_rng(SEED + 2)
    strings = ["".join(alphabet[rng.integers(len(alphabet), size=12)]) for _ in range(2000)]
    expected = np.exp(python_pdfa_log_probability(a, strings))
    assert np.allclose([am.probability(a, x) for x in strings], expected, rtol=1e-12, atol=0)
    n = total_symbols(strings)
    plain = Side("Python loop, per string", lambda: python_pdfa_log_probability(a, strings), n, [],
                 calls=len(strings))
    sides = [Side(f"am.{name}", lambda f=f: [f(a, x) for x in strings], n, [], calls=len(strings))
             for name, f in (("probability(a, s)", am.probability),
                             ("log_probability(a, [s])", lambda a, x: am.log_probability(a, [x])),
                             ("next_symbol_distribution(a, s)", am.next_symbol_distribution))]
    interleave([*sides, plain], repeats)
    return [Row("one 12-symbol string, 100-state PDFA", side, plain, "≤ 10 µs a call",
                microseconds(side) <= 10, per_call=True) for side in sides]


def figure(side: Side, per_call: bool) -> str:
    return f"{microseconds(side):.2f} µs" if per_call else f"{rate(side):.2f}"


def print_table(rows: list[Row], repeats: int) -> None:
    header = ("case", "ours", "M sym/s", "baseline", "M sym/s", "ratio", "target", "")
    lines = [header]
    for row in rows:
        lines.append((row.case, row.ours.label, figure(row.ours, row.per_call), row.baseline.label,
                      figure(row.baseline, row.per_call), f"{rate(row.ours) / rate(row.baseline):.1f}×",
                      row.target, "ok" if row.passed else "MISSED"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print(f"(median of {repeats} interleaved repeats; ratio = ours / baseline throughput; "
          "µs: the median time of one call)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peers", type=Path, default=ROOT / ".venv" / "benchmark-peers",
                        help="folder holding automata-lib (installed with pip --target)")
    args = parser.parse_args(argv)
    threads = {v: os.environ[v] for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS")}
    print("command: " + " ".join([*(f"{k}={v}" for k, v in threads.items()),
                                  Path(sys.executable).name, *sys.argv]))
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, threads: {threads['OMP_NUM_THREADS']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    rows = bench_sampling(args.repeats)
    rows += bench_log_probability(args.repeats)
    rows += bench_acceptance(args.repeats, args.peers)
    rows += bench_one_string(args.repeats)
    print_table(rows, args.repeats)
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
