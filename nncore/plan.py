"""Keyframe plan files: save, load and validate (the format is in docs/plan-format.md).

Loading validates everything the add-on relies on and reports the first problem as one
line naming the offending field, e.g. ``plan: tracks.neuron_activity.values: row 3 has
7 numbers, expected 8``.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from . import outputs
from .activations import ACTIVATIONS
from .errors import NNCoreError
from .timeline import PHASES, SCHEMA_VERSION

INTERPOLATIONS = ("CONSTANT", "LINEAR")


def dumps(plan: dict) -> str:
    """Deterministic JSON text of a plan (same plan, same bytes)."""
    return json.dumps(plan, separators=(",", ":"), ensure_ascii=True, allow_nan=False) + "\n"


def save(plan: dict, path: str, what: str = "output") -> None:
    """Validate ``plan`` and write it to ``path`` atomically (checked, verified, then renamed)."""
    validate(plan)
    final = outputs.check_file(path, what)
    outputs.write_bytes(final, dumps(plan).encode("ascii"), what)


def load(path: str) -> dict:
    """Read and validate a plan file."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise NNCoreError(f"plan: {path}: no such file") from None
    except IsADirectoryError:
        raise NNCoreError(f"plan: {path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise NNCoreError(f"plan: {path}: not a text file") from None
    except OSError as exc:
        raise NNCoreError(f"plan: {path}: cannot read ({exc.strerror})") from None
    return loads(text, name=os.path.basename(path))


def loads(text: str, name: str = "plan") -> dict:
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NNCoreError(f"plan: {name} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    validate(plan)
    return plan


# --- validation ------------------------------------------------------------------------


def _fail(path: str, msg: str):
    raise NNCoreError(f"plan: {path}: {msg}")


def _field(obj: dict, path: str, key: str, kind) -> Any:
    full = f"{path}.{key}" if path else key
    if not isinstance(obj, dict):
        _fail(path or "plan", "must be an object")
    if key not in obj:
        _fail(full, "missing")
    v = obj[key]
    if kind is int:
        if isinstance(v, bool) or not isinstance(v, int):
            _fail(full, f"must be a whole number, got {v!r:.40}")
    elif kind is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            _fail(full, f"must be a finite number, got {v!r:.40}")
    elif not isinstance(v, kind):
        names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
        _fail(full, f"must be {names.get(kind, kind.__name__)}, got {type(v).__name__}")
    return v


def _numbers(v, path: str, shape: tuple) -> np.ndarray:
    """``v`` as a float array of the given shape (None = any length)."""
    try:
        arr = np.asarray(v, dtype=np.float64)
    except (ValueError, TypeError):
        # find the first offending row for the message
        if isinstance(v, list):
            for r, row in enumerate(v):
                if isinstance(row, list) and len(shape) == 2 and shape[1] is not None and len(row) != shape[1]:
                    _fail(path, f"row {r + 1} has {len(row)} numbers, expected {shape[1]}")
        _fail(path, "must hold only numbers, in rows of equal length")
    if arr.ndim != len(shape):
        _fail(path, f"expected {len(shape)}-D numbers, got {arr.ndim}-D")
    for d, (have, want) in enumerate(zip(arr.shape, shape)):
        if want is not None and have != want:
            what = "rows" if d == 0 and arr.ndim == 2 else "numbers"
            if d == 1:
                _fail(path, f"rows have {have} numbers, expected {want}")
            _fail(path, f"has {have} {what}, expected {want}")
    if not np.all(np.isfinite(arr)):
        _fail(path, "holds a number that is not finite")
    return arr


def _ints(v, path: str, length: int | None = None) -> np.ndarray:
    if not isinstance(v, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in v):
        _fail(path, "must be a list of whole numbers")
    if length is not None and len(v) != length:
        _fail(path, f"has {len(v)} entries, expected {length}")
    return np.asarray(v, dtype=np.int64)


def _frames(v, path: str, lo: int, hi: int) -> np.ndarray:
    f = _ints(v, path)
    if f.size == 0:
        _fail(path, "is empty")
    if np.any(np.diff(f) <= 0):
        _fail(path, "frames must be strictly increasing")
    if f[0] < lo or f[-1] > hi:
        _fail(path, f"frames must lie in {lo}..{hi}, got {int(f[0])}..{int(f[-1])}")
    return f


def _track(obj: dict, path: str, key: str, n_items: int | None, lo: int, hi: int) -> None:
    """A track; ``n_items`` None means one value per key shared by the whole group."""
    tr = _field(obj, path, key, dict)
    p = f"{path}.{key}"
    frames = _frames(_field(tr, p, "frames", list), f"{p}.frames", lo, hi)
    interp = _field(tr, p, "interpolation", list)
    if len(interp) != len(frames):
        _fail(f"{p}.interpolation", f"has {len(interp)} entries, expected {len(frames)}")
    bad = [x for x in interp if x not in INTERPOLATIONS]
    if bad:
        _fail(f"{p}.interpolation", f"{bad[0]!r} is not one of {', '.join(INTERPOLATIONS)}")
    shape = (len(frames),) if n_items is None else (len(frames), n_items)
    _numbers(_field(tr, p, "values", list), f"{p}.values", shape)


def validate(plan: Any) -> None:
    """Raise :class:`NNCoreError` naming the first field that is missing or wrong."""
    if not isinstance(plan, dict):
        raise NNCoreError("plan: the file must hold a JSON object")
    version = _field(plan, "", "schema_version", int)
    if version != SCHEMA_VERSION:
        _fail("schema_version", f"{version} is not supported (this version reads {SCHEMA_VERSION})")

    net = _field(plan, "", "network", dict)
    layers = _ints(_field(net, "network", "layers", list), "network.layers").tolist()
    if len(layers) < 2 or min(layers) < 1:
        _fail("network.layers", "needs at least two layers, each of size 1 or more")
    n_seg = len(layers) - 1
    acts = _field(net, "network", "activations", list)
    if len(acts) != n_seg or any(a not in ACTIVATIONS for a in acts):
        _fail("network.activations", f"must list {n_seg} of {', '.join(ACTIVATIONS)}")
    bias = _field(net, "network", "bias", bool)

    tr = _field(plan, "", "training", dict)
    cycles = _field(tr, "training", "cycles", int)
    if cycles < 1:
        _fail("training.cycles", "must be at least 1")
    lr = _field(tr, "training", "learning_rate", float)
    if lr <= 0:
        _fail("training.learning_rate", "must be positive")
    _field(tr, "training", "dataset", str)
    _field(tr, "training", "final_mean_error", float)
    shown = _ints(_field(tr, "training", "shown_cycles", list), "training.shown_cycles")
    if shown.size == 0 or np.any(np.diff(shown) <= 0) or shown[0] < 1 or shown[-1] > cycles:
        _fail("training.shown_cycles", f"must be strictly increasing cycles in 1..{cycles}")

    tm = _field(plan, "", "timing", dict)
    fps = _field(tm, "timing", "fps", int)
    if not 1 <= fps <= 240:
        _fail("timing.fps", f"must be 1..240, got {fps}")
    lo = _field(tm, "timing", "frame_start", int)
    hi = _field(tm, "timing", "frame_end", int)
    if hi < lo:
        _fail("timing.frame_end", f"{hi} is before frame_start {lo}")

    q = _field(plan, "", "query", dict)
    _numbers(_field(q, "query", "inputs", list), "query.inputs", (layers[0],))
    _numbers(_field(q, "query", "outputs", list), "query.outputs", (layers[-1],))

    loss = _field(plan, "", "loss", dict)
    lc = _ints(_field(loss, "loss", "cycles", list), "loss.cycles")
    _numbers(_field(loss, "loss", "mean_error", list), "loss.mean_error", (len(lc),))
    lf = _ints(_field(loss, "loss", "frames", list), "loss.frames", len(lc))
    if lc.size and (np.any(lf < lo) or np.any(lf > hi)):
        _fail("loss.frames", f"frames must lie in {lo}..{hi}")

    states = _field(plan, "", "states", dict)
    for name in ("before", "after", "query"):
        st = _field(states, "states", name, dict)
        a = _field(st, f"states.{name}", "frame_start", int)
        b = _field(st, f"states.{name}", "frame_end", int)
        if not lo <= a <= b <= hi:
            _fail(f"states.{name}", f"frames {a}..{b} must lie in {lo}..{hi}")

    steps = _field(plan, "", "steps", list)
    for i, st in enumerate(steps):
        p = f"steps[{i}]"
        if not isinstance(st, dict):
            _fail(p, "must be an object")
        c = _field(st, p, "cycle", int)
        if not 1 <= c <= cycles:
            _fail(f"{p}.cycle", f"{c} is not in 1..{cycles}")
        _field(st, p, "example", int)
        a = _field(st, p, "frame_start", int)
        b = _field(st, p, "frame_end", int)
        if not lo <= a <= b <= hi:
            _fail(p, f"frames {a}..{b} must lie in {lo}..{hi}")
        _frames(_field(st, p, "forward_frames", list), f"{p}.forward_frames", a, b)
        _frames(_field(st, p, "backward_frames", list), f"{p}.backward_frames", a, b)
        _numbers(_field(st, p, "inputs", list), f"{p}.inputs", (layers[0],))
        _numbers(_field(st, p, "target", list), f"{p}.target", (layers[-1],))
        _numbers(_field(st, p, "output", list), f"{p}.output", (layers[-1],))
        _numbers(_field(st, p, "error", list), f"{p}.error", (layers[-1],))
        for key, sizes in (("activations", layers), ("deltas", layers[1:])):
            rows = _field(st, p, key, list)
            if len(rows) != len(sizes):
                _fail(f"{p}.{key}", f"has {len(rows)} layers, expected {len(sizes)}")
            for k, (row, n) in enumerate(zip(rows, sizes)):
                _numbers(row, f"{p}.{key}[{k}]", (n,))

    neurons = _field(plan, "", "neurons", dict)
    count = _field(neurons, "neurons", "count", int)
    if count != sum(layers):
        _fail("neurons.count", f"{count} does not match the layers' total {sum(layers)}")
    _ints(_field(neurons, "neurons", "layer", list), "neurons.layer", count)
    _ints(_field(neurons, "neurons", "index", list), "neurons.index", count)

    tracks = _field(plan, "", "tracks", dict)
    _track(tracks, "tracks", "neuron_activity", count, lo, hi)
    groups = _field(tracks, "tracks", "synapse_layers", list)
    if len(groups) != n_seg:
        _fail("tracks.synapse_layers", f"has {len(groups)} groups, expected {n_seg}")
    for k, g in enumerate(groups):
        p = f"tracks.synapse_layers[{k}]"
        if _field(g, p, "layer", int) != k:
            _fail(f"{p}.layer", f"must be {k}")
        n = layers[k] * layers[k + 1]
        src = _ints(_field(g, p, "source", list), f"{p}.source", n)
        dst = _ints(_field(g, p, "target", list), f"{p}.target", n)
        if n and (src.min() < 0 or src.max() >= layers[k] or dst.min() < 0 or dst.max() >= layers[k + 1]):
            _fail(p, "source/target neuron index out of range")
        for name in ("weight", "signal", "error"):
            _track(g, p, name, n, lo, hi)
        for name in ("forward", "backward"):
            _track(g, p, name, None, lo, hi)
        if bias:
            _track(g, p, "bias", layers[k + 1], lo, hi)

    text = _field(tracks, "tracks", "text", dict)
    tf = _frames(_field(text, "tracks.text", "frames", list), "tracks.text.frames", lo, hi)
    K = len(tf)
    phase = _ints(_field(text, "tracks.text", "phase", list), "tracks.text.phase", K)
    if np.any(phase < 0) or np.any(phase >= len(PHASES)):
        _fail("tracks.text.phase", f"must be 0..{len(PHASES) - 1} ({', '.join(PHASES)})")
    _ints(_field(text, "tracks.text", "cycle", list), "tracks.text.cycle", K)
    _ints(_field(text, "tracks.text", "example", list), "tracks.text.example", K)
    _numbers(_field(text, "tracks.text", "inputs", list), "tracks.text.inputs", (K, layers[0]))
    for key in ("target", "output"):
        _numbers(_field(text, "tracks.text", key, list), f"tracks.text.{key}", (K, layers[-1]))
    for key in ("error", "mean_error"):
        _numbers(_field(text, "tracks.text", key, list), f"tracks.text.{key}", (K,))
