"""Presets and the one function everybody calls: settings in, keyframe plan out.

The command line, the Blender operator and the tests all go through
:func:`settings_for` and :func:`iter_make_plan` / :func:`make_plan`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from . import kernel, limits
from .data import DATASETS, Dataset, builtin, check_fits, load_csv
from .errors import NNCoreError
from .network import NetworkSpec
from .timeline import FITS, Timing, build_plan, fit_cycles, fit_pace
from .train import (
    ARTICLE_SHOWN,
    DEFAULT_EXAMPLES_SHOWN,
    DEFAULT_SHOWN,
    MAX_SHOWN,
    TrainConfig,
    check_query,
    iter_train,
    shown_examples,
    spaced_cycles,
)

PRESETS = ("article", "xor", "and", "or", "csv", "digits")


@dataclass(frozen=True)
class Settings:
    """Everything that decides a plan. ``show`` is a count or an explicit list of cycles."""

    preset: str = "article"
    layers: tuple[int, ...] = (3, 4, 1)
    activation: str = "sigmoid"
    bias: bool = False
    #: "" (as the hidden layers; sigmoid after relu), sigmoid, tanh or softmax (with cross-entropy)
    output_activation: str = ""
    dataset: str = "article"
    csv: str = ""
    #: Class targets in the CSV: the column of this header name, or (``classes`` = N) the last
    #: column, holding class indices 0..N-1 (made one-hot); both imply a softmax output.
    target_column: str = ""
    classes: int = 0
    learning_rate: float = 1.0
    batch: int = 1
    cycles: int = 60000
    seed: int = 1
    show: int | tuple[int, ...] = ARTICLE_SHOWN
    examples_shown: int = DEFAULT_EXAMPLES_SHOWN
    timing: Timing = field(default_factory=Timing)
    query: tuple[float, ...] | None = (1.0, 1.0, 0.0)
    #: The training budget (cycles x examples x parameters); None: limits.MAX_WORK. Not in the plan.
    max_work: float | None = None
    #: Fit the timeline to this many seconds (None: as the timing says), by ``fit`` (timeline.FITS):
    #: "pace" stretches every phase, "cycles" chooses how many cycles are shown.
    duration: float | None = None
    fit: str = "pace"


_PRESETS = {
    "article": Settings(),
    "xor": Settings("xor", (2, 4, 1), bias=True, dataset="xor", cycles=10000, show=DEFAULT_SHOWN, query=(1.0, 0.0)),
    "and": Settings("and", (2, 2, 1), bias=True, dataset="and", cycles=5000, show=DEFAULT_SHOWN, query=(1.0, 1.0)),
    "or": Settings("or", (2, 2, 1), bias=True, dataset="or", cycles=5000, show=DEFAULT_SHOWN, query=(0.0, 1.0)),
    "csv": Settings("csv", (2, 4, 1), bias=True, dataset="csv", cycles=5000, show=DEFAULT_SHOWN, query=None),
    # 8x8 handwritten digits: mini-batches of 32, 30 cycles; the new situation is a held-out test digit
    "digits": Settings(
        "digits",
        (64, 16, 10),
        output_activation="softmax",
        bias=True,
        dataset="digits",
        learning_rate=0.1,
        batch=32,
        cycles=30,
        show=5,
        examples_shown=4,
        query=None,
    ),
}


def settings_for(preset: str = "article", **overrides) -> Settings:
    """A preset's settings with explicit options on top (``None`` values are ignored)."""
    if preset not in _PRESETS:
        raise NNCoreError(f"preset: {preset!r} is not one of {', '.join(PRESETS)}")
    base = _PRESETS[preset]
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - set(Settings.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "csv" in overrides:
        if not isinstance(overrides["csv"], str) or not overrides["csv"].strip():
            raise NNCoreError("csv: no file name given")
        if overrides.get("dataset", "csv") != "csv":
            raise NNCoreError(
                f"dataset: {overrides['dataset']!r:.40} contradicts the CSV file {overrides['csv']!r:.80} "
                "(a CSV file is the csv dataset; give one or the other)"
            )
        overrides["dataset"] = "csv"
    if "layers" in overrides:
        overrides["layers"] = tuple(overrides["layers"])
        fits = overrides["layers"] and len(base.query or ()) == overrides["layers"][0]
        if "query" not in overrides and base.query is not None and not fits:
            overrides["query"] = None  # the preset's query no longer fits; use the first example
    if "show" not in overrides:
        show = base.show
        if "cycles" in overrides and isinstance(show, tuple):
            show = DEFAULT_SHOWN  # the article's list only fits its 60,000 cycles
        if isinstance(show, int) and isinstance(overrides.get("cycles"), int) and overrides["cycles"] >= 1:
            show = min(show, overrides["cycles"])  # the default count, clamped: --cycles 5 shows 5
        if show != base.show:
            overrides["show"] = show
    return replace(base, **overrides)


def load_dataset(s: Settings) -> Dataset:
    if s.dataset == "csv":
        if not s.csv:
            raise NNCoreError("csv: the csv dataset needs a file (--csv PATH)")
        n = s.classes or (s.layers[-1] if s.target_column else 0)
        ds = load_csv(s.csv, s.layers[0], s.layers[-1], s.target_column, n)
        if _output_activation(s) == "softmax" and ds.header and not ds.class_names:
            ds = replace(ds, class_names=ds.header[s.layers[0] :])  # one-hot columns: their names
        return ds
    if s.target_column or s.classes:
        raise NNCoreError("target column / classes: only for CSV data (--csv PATH)")
    if s.dataset not in DATASETS:
        raise NNCoreError(f"dataset: {s.dataset!r} is not one of {', '.join(DATASETS + ('csv',))}")
    return builtin(s.dataset)


def _output_activation(s: Settings) -> str:
    """The output activation: as given, else softmax for class targets (a class column, the digits),
    else the network's default."""
    if s.output_activation:
        return s.output_activation
    return "softmax" if (s.target_column or s.classes or s.dataset == "digits") else ""


def _shown(s: Settings) -> list[int]:
    if isinstance(s.show, int):
        return spaced_cycles(s.show, s.cycles)
    return list(s.show)


def _prepare(s: Settings) -> tuple[NetworkSpec, Dataset, TrainConfig, limits.Estimate, Settings]:
    """Everything checked before any training: settings, data, and every limit."""
    if not isinstance(s.layers, (tuple, list)):
        raise NNCoreError(f"layers: must be a list of sizes, got {s.layers!r:.40}")
    spec = NetworkSpec(tuple(s.layers), s.activation, _output_activation(s), bias=s.bias)
    if not isinstance(s.timing, Timing):
        raise NNCoreError("timing: must be a nncore.timeline.Timing")
    s.timing.validate()
    for name in ("cycles", "batch", "seed", "examples_shown", "classes"):
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, int):
            raise NNCoreError(f"{name.replace('_', ' ')}: must be a whole number, got {v!r:.40}")
    ds = load_dataset(s)
    check_fits(ds, spec.layers, spec.output_activation)
    s = fit_duration(s, len(ds))
    shown = _shown(s)
    cfg = TrainConfig(s.learning_rate, s.cycles, s.batch, s.seed, shown, s.examples_shown)
    cfg.validate(len(ds))
    if s.query is not None:
        check_query(s.query, spec.layers[0])
    est = limits.estimate(
        spec.layers,
        spec.bias,
        len(ds),
        s.batch,
        s.cycles,
        len(shown),
        len(shown_examples(len(ds), s.examples_shown)),
        s.timing.frame_counts(len(spec.layers) - 1),
        kernel=(len(ds) if s.batch == 0 else min(s.batch, len(ds))) == 1 and kernel.supports(spec),
        end_frames=s.timing.end_frames,
    )
    limits.check_estimate(est, s.max_work)
    return spec, ds, cfg, est, s


def fit_duration(s: Settings, n_examples: int) -> Settings:
    """``s`` with its timing (and, for ``fit="cycles"``, its shown cycles) fitted so the timeline lasts
    exactly round(duration x fps) frames (docs/plan-format.md, "Fitting to a duration")."""
    if s.duration is None:
        return s
    if s.fit not in FITS:
        raise NNCoreError(f"fit: {s.fit!r} is not one of {', '.join(FITS)}")
    n_seg = len(s.layers) - 1
    per_cycle = len(shown_examples(n_examples, s.examples_shown))
    if s.fit == "pace":
        return replace(s, timing=fit_pace(s.timing, n_seg, len(_shown(s)) * per_cycle, s.duration))
    timing, c = fit_cycles(s.timing, n_seg, per_cycle, min(s.cycles, MAX_SHOWN), s.duration)
    return replace(s, timing=timing, show=c)


def check(s: Settings) -> limits.Estimate:
    """Check settings, data and every nncore limit without training; the run's :class:`~nncore.limits.Estimate`.

    Raises :class:`NNCoreError` (one line naming the limit and the value) for anything
    :func:`make_plan` would refuse.
    """
    return _prepare(s)[3]


def check_buildable(s: Settings) -> limits.Estimate:
    """:func:`check` and the add-on's limits (neurons, synapses, the scene's keyframes), before
    training: the Blender operator and command line call this first."""
    est = check(s)
    limits.check_buildable(s.layers, est.scene_keys)
    return est


def iter_make_plan(s: Settings) -> Iterator[int]:
    """Train and build the plan: a generator yielding cycles done that returns the plan dict.

    Everything is checked (:func:`check`) when this is called, before the generator is returned:
    bad settings and broken limits raise here, not at the first ``next``.
    """
    spec, ds, cfg, _, s = _prepare(s)
    return _run(spec, ds, cfg, s)


def _run(spec: NetworkSpec, ds: Dataset, cfg: TrainConfig, s: Settings) -> Iterator[int]:
    rec = yield from iter_train(spec, ds, cfg, s.query)
    return build_plan(rec, s.timing, preset=s.preset)


def make_plan(s: Settings, progress: Callable[[int, int], None] | None = None) -> dict:
    """Train and build the plan; ``progress(done, total)`` after each chunk of cycles."""
    return make_plan_from(iter_make_plan(s), progress, s.cycles)


def make_plan_from(gen: Iterator[int], progress: Callable[[int, int], None] | None = None, total: int = 0) -> dict:
    """Drive an :func:`iter_make_plan` generator to the end and return its plan."""
    while True:
        try:
            done = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(done, total)


_MAX_ITEMS = 4096
_MAX_DIGITS = 30


def _split(text: str, what: str, kind: str, trailing_comma: bool = False) -> list[str]:
    """The comma-separated items of ``text``; an empty item (``2,,1``, ``,3``) is refused."""
    if not isinstance(text, str):
        raise NNCoreError(f"{what}: expected text like 3,4,1, got {type(text).__name__}")
    shown = limits.clean_name(text, 60)
    items = [v.strip() for v in text.split(",")]
    if trailing_comma and len(items) > 1 and items[-1] == "":
        items.pop()  # "500," is a one-item list
    if not any(items):
        raise NNCoreError(f"{what}: empty; give {kind}")
    if "" in items:
        raise NNCoreError(f"{what}: {shown!r} has an empty entry (entry {items.index('') + 1}); give {kind}")
    if len(items) > _MAX_ITEMS:
        raise NNCoreError(f"{what}: {len(items):,} entries is over the limit of {_MAX_ITEMS:,}")
    for v in items:
        if len(v) > _MAX_DIGITS:
            raise NNCoreError(f"{what}: {limits.clean_name(v, 20)!r}... is too long for a number")
    return items


def parse_ints(text: str, what: str, trailing_comma: bool = False, example: str = "3,4,1") -> tuple[int, ...]:
    """``"3,4,1"`` -> ``(3, 4, 1)`` with a clear message otherwise (``2,,1`` and ``""`` refused)."""
    kind = f"a comma-separated list of whole numbers, e.g. {example}"
    items = _split(text, what, kind, trailing_comma)
    try:
        return tuple(int(v) for v in items)
    except ValueError:
        raise NNCoreError(f"{what}: {limits.clean_name(text, 60)!r} is not {kind}") from None


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    """``"1,0.5,0"`` -> ``(1.0, 0.5, 0.0)``; only finite numbers."""
    kind = "a comma-separated list of numbers, e.g. 1,1,0"
    items = _split(text, what, kind)
    try:
        vals = tuple(float(v) for v in items)
    except ValueError:
        raise NNCoreError(f"{what}: {limits.clean_name(text, 60)!r} is not {kind}") from None
    for v, item in zip(vals, items):
        if not math.isfinite(v):
            raise NNCoreError(f"{what}: {limits.clean_name(item, 30)!r} is not a finite number")
    return vals


def parse_show(text: str) -> int | tuple[int, ...]:
    """``--show 13`` (a count) or ``--show 2,10,100`` (a list of cycles; ``500,`` is a one-item list)."""
    vals = parse_ints(text, "show", trailing_comma=True, example="13 or 2,10,100")
    if "," not in str(text):
        return vals[0]
    return vals


def describe(plan: dict) -> str:
    """One-line summary of a plan: final error and the query's answer."""
    q = plan["query"]
    ins = ", ".join(f"{v:g}" for v in q["inputs"])
    outs = ", ".join(f"{v:.4f}" for v in q["outputs"])
    tr = plan["training"]
    err = tr["final_mean_error"] * 100
    text = f"final mean error {err:.2f}%"
    if "final_accuracy" in tr:
        text += f", accuracy {tr['final_accuracy'] * 100:.1f}%"
    if "test_accuracy" in tr:
        text += f", test accuracy {tr['test_accuracy'] * 100:.1f}% ({tr['test_examples']:,} held-out examples)"
    if len(q["inputs"]) > 12:  # a digit's 64 pixels: the answer, not the pixels
        names = tr.get("class_names") or [str(i) for i in range(len(q["outputs"]))]
        best = max(range(len(q["outputs"])), key=q["outputs"].__getitem__)
        text += f"; new situation ({len(q['inputs'])} inputs) -> {limits.clean_name(names[best], 20)}"
        text += f" ({q['outputs'][best]:.4f})"
        if "target" in q:
            want = max(range(len(q["target"])), key=q["target"].__getitem__)
            text += f", target {limits.clean_name(names[want], 20)}"
    else:
        text += f"; new situation [{ins}] -> {outs}"
    header = plan["training"].get("header")
    if header:  # a CSV's first row, taken as column names: say so (a typo would hide a row)
        text += (
            "; header: "
            + ", ".join(limits.clean_name(h, 20) for h in header[:8])
            + (", ..." if len(header) > 8 else "")
        )
    return text


__all__: Sequence[str] = [
    "PRESETS",
    "Settings",
    "settings_for",
    "make_plan",
    "iter_make_plan",
    "check",
    "check_buildable",
    "describe",
]
