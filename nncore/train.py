"""Training with a record of the cycles that will be shown.

:func:`iter_train` is a generator that yields progress (cycles done) after every chunk of
work, so a caller can show progress and cancel (the Blender operator does); :func:`train`
drives it to the end. Cycles are numbered from 1, examples from 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import kernel
from .data import MAX_INPUT, Dataset, check_fits
from .errors import NNCoreError
from .limits import MAX_ACTIVATIONS, MAX_EXAMPLES
from .network import NetworkSpec, Params, apply_update, backward, forward, init_params

#: The 13 cycles the article's video shows.
ARTICLE_SHOWN = (2, 10, 20, 50, 100, 200, 300, 400, 500, 1000, 2500, 12500, 60000)
#: Default number of shown cycles for networks other than the article's.
DEFAULT_SHOWN = 13
#: At most this many examples are shown per shown cycle (evenly spaced through the data).
DEFAULT_EXAMPLES_SHOWN = 10
#: A weight or bias beyond this magnitude (or a non-finite error) means training diverged.
MAX_WEIGHT = 1e6
#: Training runs in chunks of this many cycles between progress reports.
CHUNK = 2000
MAX_CYCLES = 10_000_000
#: At most this many shown cycles: each is animated example by example, so more makes no sense.
MAX_SHOWN = 200


class Cancelled(Exception):
    """Raised by a progress callback to stop training."""


def spaced_cycles(n: int, cycles: int) -> list[int]:
    """``n`` cycles out of ``1..cycles``, denser early: the i-th is ``round(cycles ** (i / (n - 1)))``.

    Geometric spacing, like the article's list; collisions among the first few are moved
    up by one so the list is strictly increasing, and the last is always ``cycles``.
    """
    if cycles < 1:
        raise NNCoreError(f"cycles: must be at least 1, got {cycles}")
    if n < 1:
        raise NNCoreError(f"show: need at least 1 shown cycle, got {n}")
    if n > cycles:
        raise NNCoreError(f"show: cannot show {n} cycles out of {cycles}")
    if n > MAX_SHOWN:
        raise NNCoreError(f"show: at most {MAX_SHOWN} shown cycles, got {n}")
    if n == 1:
        return [cycles]
    raw = [round(cycles ** (i / (n - 1))) for i in range(n)]
    out: list[int] = []
    for i, c in enumerate(raw):
        lo = out[-1] + 1 if out else 1
        hi = cycles - (n - 1 - i)  # leave room for the rest
        out.append(min(max(c, lo), hi))
    return out


def shown_examples(n_examples: int, limit: int = DEFAULT_EXAMPLES_SHOWN) -> list[int]:
    """Which examples of a shown cycle are shown: all of them, or ``limit`` evenly spaced."""
    if n_examples <= limit:
        return list(range(n_examples))
    return sorted({int(round(v)) for v in np.linspace(0, n_examples - 1, limit)})


@dataclass
class TrainConfig:
    learning_rate: float = 1.0
    cycles: int = 60000
    batch: int = 1  # examples per update: 1 = online (as the article), 0 = full batch
    seed: int = 1
    shown: Sequence[int] = ARTICLE_SHOWN
    examples_shown: int = DEFAULT_EXAMPLES_SHOWN

    def validate(self, n_examples: int) -> None:
        lr = self.learning_rate
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise NNCoreError(f"learning rate: must be a positive number, got {lr!r}")
        if not (1 <= self.cycles <= MAX_CYCLES):
            raise NNCoreError(f"cycles: must be between 1 and {MAX_CYCLES:,}, got {self.cycles}")
        if not 0 <= self.batch <= MAX_EXAMPLES:
            raise NNCoreError(f"batch: must be 0 (full batch) or a size 1..{MAX_EXAMPLES:,}, got {self.batch}")
        if not (0 <= self.seed < 2**32):
            raise NNCoreError(f"seed: must be between 0 and {2**32 - 1}, got {self.seed}")
        shown = list(self.shown)
        if not shown:
            raise NNCoreError("show: no cycles to show")
        if len(shown) > MAX_SHOWN:
            raise NNCoreError(f"show: at most {MAX_SHOWN} shown cycles, got {len(shown)}")
        if shown != sorted(set(shown)):
            raise NNCoreError(f"show: shown cycles must be strictly increasing, got {shown}")
        if shown[0] < 1 or shown[-1] > self.cycles:
            raise NNCoreError(f"show: shown cycles must lie in 1..{self.cycles}, got {shown[0]}..{shown[-1]}")
        if self.examples_shown < 1:
            raise NNCoreError(f"examples shown: must be at least 1, got {self.examples_shown}")


@dataclass
class Step:
    """One shown example of one shown cycle: everything the scene shows of it."""

    cycle: int
    example: int
    activations: list[np.ndarray]  # every layer, inputs first (before the update)
    target: np.ndarray
    error: np.ndarray  # target - output
    deltas: list[np.ndarray]  # deltas[k] belongs to layer k + 1
    before: Params
    after: Params

    @property
    def inputs(self) -> np.ndarray:
        return self.activations[0]

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass
class Record:
    spec: NetworkSpec
    dataset: Dataset
    config: TrainConfig
    initial: Params
    final: Params
    steps: list[Step] = field(default_factory=list)
    mean_error: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per cycle, index c - 1
    query: np.ndarray | None = None
    query_activations: list[np.ndarray] | None = None
    #: Softmax networks only (else None): per cycle, index c - 1, the fraction of examples whose
    #: largest output is the target's class, measured during the cycle like the mean error.
    accuracy: np.ndarray | None = None
    #: Softmax networks with a held-out test set (Dataset.test_X): the final network's accuracy on it.
    test_accuracy: float | None = None
    #: The query's target when the query is a held-out test example (the digits preset), else None.
    query_target: np.ndarray | None = None

    @property
    def final_accuracy(self) -> float | None:
        return None if self.accuracy is None else float(self.accuracy[-1])

    @property
    def final_outputs(self) -> np.ndarray:
        """The trained network's outputs on every example (in chunks: bounded memory)."""
        X = self.dataset.X
        rows = max(1, MAX_ACTIVATIONS // max(1, self.spec.n_neurons))
        with np.errstate(all="ignore"):
            parts = [forward(self.spec, self.final, X[i : i + rows])[-1] for i in range(0, len(X), rows)]
        return np.concatenate(parts) if parts else np.zeros((0, self.spec.layers[-1]))


def check_query(query: Sequence[float], n_inputs: int) -> np.ndarray:
    """The new situation's inputs: ``n_inputs`` finite numbers within +-MAX_INPUT."""
    try:
        q = np.asarray(query, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise NNCoreError(f"query: must be {n_inputs} numbers") from None
    if q.ndim != 1 or q.shape != (n_inputs,):
        raise NNCoreError(f"query: needs {n_inputs} inputs, got {q.size}")
    if not np.all(np.isfinite(q)):
        raise NNCoreError("query: inputs must be finite numbers")
    if np.any(np.abs(q) > MAX_INPUT):
        big = float(q[np.argmax(np.abs(q))])
        raise NNCoreError(f"query: {big:g} is too large: inputs must lie within +-{MAX_INPUT:,.0f}")
    return q


def _diverged(cycle: int, lr: float, why: str) -> NNCoreError:
    return NNCoreError(f"training diverged at cycle {cycle:,} ({why}); try a smaller learning rate than {lr:g}")


def iter_train(spec: NetworkSpec, ds: Dataset, cfg: TrainConfig, query: Sequence[float] | None = None) -> Iterator[int]:
    """Train, yielding the number of cycles done after each chunk; returns the :class:`Record`."""
    check_fits(ds, spec.layers, spec.output_activation)
    cfg.validate(len(ds))
    if query is not None:
        query = check_query(query, spec.layers[0])
    params = init_params(spec, cfg.seed)
    rec = Record(spec, ds, cfg, params.copy(), params, mean_error=np.zeros(cfg.cycles))
    n = len(ds)
    batch = n if cfg.batch == 0 else min(cfg.batch, n)
    show_set = set(shown_examples(n, cfg.examples_shown))
    lr = float(cfg.learning_rate)
    use_kernel = batch == 1 and kernel.supports(spec)
    rows = [tuple(x) + tuple(t) for x, t in zip(ds.X.tolist(), ds.T.tolist())] if use_kernel else []
    errors = rec.mean_error
    classify = spec.output_activation == "softmax"
    if classify:
        rec.accuracy = np.zeros(cfg.cycles)
        classes = np.argmax(ds.T, axis=1)

    def check(cycle: int) -> None:
        e = errors[cycle - 1]
        if not np.isfinite(e):
            raise _diverged(cycle, lr, "the error is no longer a finite number")
        if not params.is_finite(MAX_WEIGHT):
            raise _diverged(cycle, lr, f"a weight grew past {MAX_WEIGHT:g}")

    def run_cycle(cycle: int, record: bool) -> None:
        with np.errstate(all="ignore"):  # overflow ends as a divergence error, not warnings
            _run_cycle(cycle, record)

    def _run_cycle(cycle: int, record: bool) -> None:
        tot = 0.0
        right = 0
        for start in range(0, n, batch):
            sl = slice(start, start + batch)
            acts = forward(spec, params, ds.X[sl])
            err, deltas = backward(spec, params, acts, ds.T[sl])
            tot += float(np.abs(err).sum())
            if classify:
                right += int(np.count_nonzero(np.argmax(np.atleast_2d(acts[-1]), axis=1) == classes[sl]))
            before = params.copy() if record else None
            apply_update(params, acts, deltas, lr)
            if record:
                shown = [r for r in range(err.shape[0]) if start + r in show_set]
                after = params.copy()
                for r in shown:
                    # a batch changes the weights once, at its end: its last shown example
                    # shows the update, the ones before it keep the weights as they were
                    rec.steps.append(
                        Step(
                            cycle,
                            start + r,
                            [a[r].copy() for a in acts],
                            ds.T[start + r].copy(),
                            err[r].copy(),
                            [d[r].copy() for d in deltas],
                            before,
                            after if r == shown[-1] else before,
                        )
                    )
        errors[cycle - 1] = tot / (n * spec.layers[-1])
        if classify:
            rec.accuracy[cycle - 1] = right / n

    def run_plain(first: int, count: int) -> None:
        """Cycles first..first+count-1, unrecorded; checks divergence cycle by cycle on failure."""
        if use_kernel:
            start = params.flat()
            flat, done = kernel.train_online(spec, start, rows, count, lr, errors, first - 1)
            params.set_flat(flat)
            if done < count or not params.is_finite(MAX_WEIGHT):
                # find the exact cycle: replay cycle by cycle from the chunk's start
                params.set_flat(start)
                for c in range(first, first + count):
                    flat, _ = kernel.train_online(spec, params.flat(), rows, 1, lr, errors, c - 1)
                    params.set_flat(flat)
                    check(c)
        else:
            for c in range(first, first + count):
                run_cycle(c, False)
                check(c)  # every cycle, so the message names the cycle it went wrong

    shown = list(cfg.shown)
    done = 0
    for target in shown + [cfg.cycles + 1]:
        while done + 1 < target:
            count = min(CHUNK, target - 1 - done)
            run_plain(done + 1, count)
            done += count
            yield done
        if target <= cfg.cycles:
            run_cycle(target, True)
            check(target)
            done = target
    yield done
    rec.final = params
    if classify and ds.test_X is not None and len(ds.test_X):
        with np.errstate(all="ignore"):
            out = forward(spec, params, ds.test_X)[-1]
        rec.test_accuracy = float(np.mean(np.argmax(out, axis=1) == np.argmax(ds.test_T, axis=1)))
    if query is None and ds.test_X is not None and len(ds.test_X):
        query = ds.test_X[0]  # a held-out example: a situation the network has not seen
        rec.query_target = np.asarray(ds.test_T[0], dtype=np.float64)
    if query is None:
        query = ds.X[0]
    rec.query = np.asarray(query, dtype=np.float64)
    with np.errstate(all="ignore"):
        rec.query_activations = forward(spec, params, rec.query)
    return rec


def train(
    spec: NetworkSpec,
    ds: Dataset,
    cfg: TrainConfig,
    query: Sequence[float] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Record:
    """Train to the end; ``progress(done, total)`` is called after each chunk."""
    gen = iter_train(spec, ds, cfg, query)
    while True:
        try:
            done = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(done, cfg.cycles)
