"""Presets and the one function everybody calls: settings in, keyframe plan out.

The command line, the Blender operator and the tests all go through
:func:`settings_for` and :func:`iter_make_plan` / :func:`make_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from .data import DATASETS, Dataset, builtin, load_csv
from .errors import NNCoreError
from .network import NetworkSpec
from .timeline import Timing, build_plan
from .train import ARTICLE_SHOWN, DEFAULT_EXAMPLES_SHOWN, DEFAULT_SHOWN, TrainConfig, iter_train, spaced_cycles

PRESETS = ("article", "xor", "and", "or", "csv")


@dataclass(frozen=True)
class Settings:
    """Everything that decides a plan. ``show`` is a count or an explicit list of cycles."""

    preset: str = "article"
    layers: tuple[int, ...] = (3, 4, 1)
    activation: str = "sigmoid"
    bias: bool = False
    dataset: str = "article"
    csv: str = ""
    learning_rate: float = 1.0
    batch: int = 1
    cycles: int = 60000
    seed: int = 1
    show: int | tuple[int, ...] = ARTICLE_SHOWN
    examples_shown: int = DEFAULT_EXAMPLES_SHOWN
    timing: Timing = field(default_factory=Timing)
    query: tuple[float, ...] | None = (1.0, 1.0, 0.0)


_PRESETS = {
    "article": Settings(),
    "xor": Settings("xor", (2, 4, 1), bias=True, dataset="xor", cycles=10000, show=DEFAULT_SHOWN, query=(1.0, 0.0)),
    "and": Settings("and", (2, 2, 1), bias=True, dataset="and", cycles=5000, show=DEFAULT_SHOWN, query=(1.0, 1.0)),
    "or": Settings("or", (2, 2, 1), bias=True, dataset="or", cycles=5000, show=DEFAULT_SHOWN, query=(0.0, 1.0)),
    "csv": Settings("csv", (2, 4, 1), bias=True, dataset="csv", cycles=5000, show=DEFAULT_SHOWN, query=None),
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
    if "csv" in overrides and overrides["csv"] and "dataset" not in overrides:
        overrides["dataset"] = "csv"
    if "layers" in overrides:
        overrides["layers"] = tuple(overrides["layers"])
        if "query" not in overrides and base.query is not None and len(base.query) != overrides["layers"][0]:
            overrides["query"] = None  # the preset's query no longer fits; use the first example
    if "cycles" in overrides and "show" not in overrides and isinstance(base.show, tuple):
        overrides["show"] = DEFAULT_SHOWN  # the article's list only fits its 60,000 cycles
    return replace(base, **overrides)


def load_dataset(s: Settings) -> Dataset:
    if s.dataset == "csv":
        if not s.csv:
            raise NNCoreError("csv: the csv dataset needs a file (--csv PATH)")
        return load_csv(s.csv, s.layers[0], s.layers[-1])
    if s.dataset not in DATASETS:
        raise NNCoreError(f"dataset: {s.dataset!r} is not one of {', '.join(DATASETS + ('csv',))}")
    return builtin(s.dataset)


def _shown(s: Settings) -> list[int]:
    if isinstance(s.show, int):
        return spaced_cycles(s.show, s.cycles)
    return list(s.show)


def iter_make_plan(s: Settings) -> Iterator[int]:
    """Train and build the plan, yielding cycles done; returns the plan dict."""
    spec = NetworkSpec(tuple(s.layers), s.activation, bias=s.bias)
    ds = load_dataset(s)
    cfg = TrainConfig(s.learning_rate, s.cycles, s.batch, s.seed, _shown(s), s.examples_shown)
    s.timing.validate()
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


def parse_ints(text: str, what: str) -> tuple[int, ...]:
    """``"3,4,1"`` -> ``(3, 4, 1)`` with a clear message otherwise."""
    try:
        vals = tuple(int(v) for v in str(text).replace(" ", "").split(",") if v != "")
    except ValueError:
        raise NNCoreError(f"{what}: {text!r} is not a comma-separated list of whole numbers") from None
    if not vals:
        raise NNCoreError(f"{what}: empty list")
    return vals


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in str(text).replace(" ", "").split(",") if v != "")
    except ValueError:
        raise NNCoreError(f"{what}: {text!r} is not a comma-separated list of numbers") from None
    if not vals:
        raise NNCoreError(f"{what}: empty list")
    return vals


def parse_show(text: str) -> int | tuple[int, ...]:
    """``--show 13`` (a count) or ``--show 2,10,100`` (a list of cycles)."""
    vals = parse_ints(text, "show")
    if "," not in str(text):
        return vals[0]
    return vals


def describe(plan: dict) -> str:
    """One-line summary of a plan: final error and the query's answer."""
    q = plan["query"]
    ins = ", ".join(f"{v:g}" for v in q["inputs"])
    outs = ", ".join(f"{v:.4f}" for v in q["outputs"])
    err = plan["training"]["final_mean_error"] * 100
    return f"final mean error {err:.2f}%; new situation [{ins}] -> {outs}"


__all__: Sequence[str] = [
    "PRESETS",
    "Settings",
    "settings_for",
    "make_plan",
    "iter_make_plan",
    "describe",
]
