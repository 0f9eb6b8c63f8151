"""Turn a training :class:`~nncore.train.Record` into a keyframe plan (a JSON-ready dict).

The timeline, in frames (``fps`` from :class:`Timing`):

1. ``before``: the untrained network, idle, for ``state_seconds``.
2. One *step* per shown example of each shown cycle. A step of a network with ``S``
   synapse layers is laid out as::

       s ── forward pass (F frames, S segments) ── backward pass (B frames, S segments) ── hold (H) ── e

   Forward segment ``k`` carries the signal from layer ``k`` to ``k + 1`` along synapse
   layer ``k``; when it ends, layer ``k + 1`` lights up. Backward segment ``m`` carries
   the error from layer ``S - m`` down synapse layer ``S - 1 - m``, and that layer's
   weights move from their value before the update to the value after it.
3. ``after``: the trained network, idle, for ``state_seconds``.
4. ``query``: the trained network thinking about the new situation (a forward pass),
   then held for ``state_seconds``.

Every track is ``{"frames": [K ints], "interpolation": [K names], "values": ...}`` where
``values`` has K rows of one number per item, or K numbers shared by all items of the group.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from . import __version__
from .errors import NNCoreError
from .train import Record

SCHEMA_VERSION = 2
#: Blender's last frame (limits.MAX_FRAME): no timeline is longer.
MAX_FRAMES = 1_048_574
#: The two ways of fitting the timeline to a duration (--fit).
FITS = ("pace", "cycles")
_SECONDS = ("forward_seconds", "backward_seconds", "hold_seconds", "state_seconds")


def duration_frames(duration: float, fps: int) -> int:
    """round(duration x fps): the number of frames a timeline of ``duration`` seconds has."""
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration):
        raise NNCoreError(f"duration: must be a number of seconds, got {duration!r:.40}")
    if duration <= 0:
        raise NNCoreError(f"duration: must be positive, got {duration:g} s")
    n = int(round(duration * fps))
    if n > MAX_FRAMES:
        raise NNCoreError(f"duration: {duration:g} s at {fps} fps is {n:,} frames, more than Blender's {MAX_FRAMES:,}")
    return n


def fit_pace(timing: Timing, n_seg: int, n_steps: int, duration: float) -> Timing:
    """``timing`` with every phase's seconds times one factor, the largest for which the timeline is
    not longer than round(duration x fps) frames; what the rounding leaves goes, in whole frames, to
    the hold after each example, then to the three states, and the last 0-2 frames to
    ``end_frames``, so the timeline lasts exactly that many frames. One line if it cannot be done."""
    n = duration_frames(duration, timing.fps)
    base = {k: getattr(timing, k) for k in _SECONDS}
    top = max(base.values())

    def scaled(k: float) -> Timing:
        return Timing(timing.fps, *(min(60.0, v * k) for v in base.values()))

    shortest = scaled(0.0).total_frames(n_seg, n_steps)
    if shortest > n:
        raise NNCoreError(
            f"duration: {duration:g} s is too short for {n_steps:,} shown examples: they need at least "
            f"{shortest:,} frames ({shortest / timing.fps:.2f} s at {timing.fps} fps); "
            "show fewer cycles or use --fit cycles"
        )
    if top <= 0:
        raise NNCoreError("duration: every phase lasts 0 seconds, so the pace cannot be stretched")
    k_max = 60.0 / top
    if scaled(k_max).total_frames(n_seg, n_steps) < n:
        longest = scaled(k_max).total_frames(n_seg, n_steps) / timing.fps
        raise NNCoreError(
            f"duration: {duration:g} s is longer than {n_steps:,} shown examples can fill "
            f"(at most {longest:,.0f} s with 60 s phases); show more cycles or use --fit cycles"
        )
    lo, hi = 0.0, k_max  # total(lo) <= n < ... ; total is non-decreasing in k
    for _ in range(64):
        mid = (lo + hi) / 2
        if scaled(mid).total_frames(n_seg, n_steps) <= n:
            lo = mid
        else:
            hi = mid
    # the factor's rounding leaves up to a frame per phase and step: the hold after each example
    # takes whole frames of it, then the three states, and the last 0-2 frames hold the new situation
    F, B, H, S = scaled(lo).frame_counts(n_seg)
    room = n - scaled(lo).total_frames(n_seg, n_steps)
    if n_steps:
        dh = min(room // n_steps, 60 * timing.fps - H)
        H, room = H + dh, room - dh * n_steps
    ds = min(room // 3, 60 * timing.fps - S)
    S, room = S + ds, room - 3 * ds
    fps = timing.fps
    t = Timing(fps, F / fps, B / fps, H / fps, S / fps)
    assert t.frame_counts(n_seg) == (F, B, H, S)
    return Timing(fps, F / fps, B / fps, H / fps, S / fps, end_frames=n - t.total_frames(n_seg, n_steps))


def fit_cycles(
    timing: Timing, n_seg: int, steps_per_cycle: int, max_cycles: int, duration: float
) -> tuple[Timing, int]:
    """As the original did: keep the pace, choose how many cycles are shown (the most that fit in
    round(duration x fps) frames); ``end_frames`` takes up the rest (less than one cycle's length).
    Returns (timing, shown cycles). One line if it cannot be done."""
    n = duration_frames(duration, timing.fps)
    F, B, H, S = timing.frame_counts(n_seg)
    fixed = Timing(timing.fps, *(getattr(timing, k) for k in _SECONDS))
    per_cycle = steps_per_cycle * (F + B + H + 1)
    room = n - fixed.total_frames(n_seg, 0)
    if room < per_cycle:
        need = fixed.total_frames(n_seg, steps_per_cycle)
        raise NNCoreError(
            f"duration: {duration:g} s is too short to show one cycle at this pace: it needs "
            f"{need:,} frames ({need / timing.fps:.2f} s at {timing.fps} fps); use --fit pace or shorter phases"
        )
    c = room // per_cycle
    if c > max_cycles:
        longest = fixed.total_frames(n_seg, max_cycles * steps_per_cycle) / timing.fps
        raise NNCoreError(
            f"duration: {duration:g} s is longer than {max_cycles} shown cycles at this pace "
            f"(at most {longest:,.1f} s); use --fit pace, longer phases or more cycles"
        )
    return Timing(timing.fps, *(getattr(timing, k) for k in _SECONDS), end_frames=room - c * per_cycle), int(c)


MAX_LOSS_POINTS = 500
PHASES = ("before", "training", "after", "query")
DECIMALS = 6


@dataclass(frozen=True)
class Timing:
    fps: int = 24
    forward_seconds: float = 0.5
    backward_seconds: float = 0.5
    hold_seconds: float = 0.25
    state_seconds: float = 2.0
    #: Extra frames the new situation is held at the end: 0, except when the timeline was fitted to
    #: a duration (:func:`fit_duration`), where it takes up the rounding so the length is exact.
    end_frames: int = 0

    def validate(self) -> None:
        fps = self.fps
        if isinstance(fps, bool) or not (isinstance(fps, int) and 1 <= fps <= 240):
            raise NNCoreError(f"fps: must be a whole number from 1 to 240, got {fps!r:.40}")
        for name in ("forward_seconds", "backward_seconds", "hold_seconds", "state_seconds"):
            v = getattr(self, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not (ok and math.isfinite(v) and 0 <= v <= 60):
                raise NNCoreError(f"{name.replace('_', ' ')}: must be between 0 and 60 seconds, got {v!r:.40}")
        e = self.end_frames
        if isinstance(e, bool) or not isinstance(e, int) or not 0 <= e <= MAX_FRAMES:
            raise NNCoreError(f"end frames: must be a whole number from 0 to {MAX_FRAMES:,}, got {e!r:.40}")

    def frames(self, seconds: float, minimum: int) -> int:
        return max(int(round(seconds * self.fps)), minimum)

    def total_frames(self, n_seg: int, n_steps: int) -> int:
        """The timeline's length in frames for ``n_steps`` shown examples (docs/plan-format.md)."""
        F, B, H, S = self.frame_counts(n_seg)
        return 3 * S + n_steps * (F + B + H + 1) + F + self.end_frames

    def frame_counts(self, n_seg: int) -> tuple[int, int, int, int]:
        """(F, B, H, Sf): frames of a forward pass, a backward pass, a hold and a still."""
        return (
            self.frames(self.forward_seconds, n_seg),
            self.frames(self.backward_seconds, n_seg),
            self.frames(self.hold_seconds, 0),
            self.frames(self.state_seconds, 1),
        )


class _Track:
    """Keys of one group of items, gathered in time order."""

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.interp: list[str] = []
        self.values: list = []

    def key(self, frame: int, value, interp: str = "CONSTANT") -> None:
        if self.frames and frame <= self.frames[-1]:
            if frame == self.frames[-1]:  # a later key at the same frame wins
                self.frames.pop(), self.interp.pop(), self.values.pop()
            else:
                raise AssertionError(f"keys out of order: {frame} after {self.frames[-1]}")
        self.frames.append(int(frame))
        self.interp.append(interp)
        self.values.append(value)

    def to_json(self) -> dict:
        vals = np.round(np.asarray(self.values, dtype=np.float64), DECIMALS) + 0.0  # no -0.0
        return {"frames": self.frames, "interpolation": self.interp, "values": vals.tolist()}


def _r(a) -> list:
    return (np.round(np.asarray(a, dtype=np.float64), DECIMALS) + 0.0).tolist()


def build_plan(rec: Record, timing: Timing | None = None, preset: str = "") -> dict:
    """The keyframe plan for a training record (see docs/plan-format.md)."""
    timing = timing or Timing()
    timing.validate()
    spec = rec.spec
    sizes = spec.layers
    n_seg = len(sizes) - 1
    F, B, H, S = timing.frame_counts(n_seg)
    n_neurons = sum(sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    act = _Track()
    text = {k: [] for k in ("frames", "phase", "cycle", "example", "inputs", "target", "output", "error", "mean_error")}
    if rec.accuracy is not None:
        text["accuracy"] = []
    syn = []
    for _k in range(n_seg):
        d = {name: _Track() for name in ("weight", "signal", "forward", "backward", "error")}
        if spec.bias:
            d["bias"] = _Track()
        syn.append(d)

    def weights_key(track_set, k, frame, params, interp):
        track_set["weight"].key(frame, params.weights[k].ravel(), interp)
        if spec.bias:
            track_set["bias"].key(frame, params.biases[k], interp)

    def text_key(frame, phase, cycle=0, example=-1, inputs=None, target=None, output=None, error=0.0, mean=0.0):
        n_in, n_out = sizes[0], sizes[-1]
        if "accuracy" in text:  # softmax networks: the shown cycle's accuracy (0 before), as mean_error
            text["accuracy"].append(float(np.round(rec.accuracy[cycle - 1] if cycle else 0.0, DECIMALS)))
        text["frames"].append(int(frame))
        text["phase"].append(PHASES.index(phase))
        text["cycle"].append(int(cycle))
        text["example"].append(int(example))
        text["inputs"].append(_r(inputs if inputs is not None else np.zeros(n_in)))
        text["target"].append(_r(target if target is not None else np.zeros(n_out)))
        text["output"].append(_r(output if output is not None else np.zeros(n_out)))
        text["error"].append(float(np.round(error, DECIMALS)))
        text["mean_error"].append(float(np.round(mean, DECIMALS)))

    def idle(frame, params):
        act.key(frame, np.zeros(n_neurons))
        for k in range(n_seg):
            weights_key(syn[k], k, frame, params, "CONSTANT")
            syn[k]["signal"].key(frame, np.zeros(sizes[k] * sizes[k + 1]))
            syn[k]["error"].key(frame, np.zeros(sizes[k] * sizes[k + 1]))

    def forward_keys(s, acts):
        """Keys of a forward pass starting at frame s; returns the segment boundaries."""
        fb = [s + int(round(F * k / n_seg)) for k in range(n_seg + 1)]
        lit = np.zeros(n_neurons)
        lit[: sizes[0]] = acts[0]
        act.key(s, lit.copy())
        for k in range(n_seg):
            lit[offsets[k + 1] : offsets[k + 2]] = acts[k + 1]
            act.key(fb[k + 1], lit.copy())
            sig = np.repeat(acts[k][None, :], sizes[k + 1], axis=0).ravel()  # sender's output
            syn[k]["signal"].key(s, sig)
            syn[k]["forward"].key(fb[k], 0.0, "LINEAR")
            syn[k]["forward"].key(fb[k + 1], 1.0)
        return fb

    # 1. before
    frame = 1
    states = {}
    idle(frame, rec.initial)
    text_key(frame, "before")
    states["before"] = {"frame_start": frame, "frame_end": frame + S - 1}
    frame += S

    # 2. training steps
    steps = []
    abs_delta_max = [max((float(np.max(np.abs(st.deltas[k]))) for st in rec.steps), default=0.0) for k in range(n_seg)]
    prev_after = rec.initial
    for st in rec.steps:
        s = frame
        fb = forward_keys(s, st.activations)
        gb = [s + F + int(round(B * m / n_seg)) for m in range(n_seg + 1)]
        e = s + F + B + H
        for m in range(n_seg):
            k = n_seg - 1 - m
            changed = not np.array_equal(st.before.weights[k], prev_after.weights[k])
            if spec.bias:
                changed = changed or not np.array_equal(st.before.biases[k], prev_after.biases[k])
            if changed:  # training between shown cycles moved the weights: show that at once
                weights_key(syn[k], k, s, st.before, "CONSTANT")
            weights_key(syn[k], k, gb[m], st.before, "LINEAR")
            weights_key(syn[k], k, gb[m + 1], st.after, "CONSTANT")
            syn[k]["backward"].key(gb[m], 0.0, "LINEAR")
            syn[k]["backward"].key(gb[m + 1], 1.0)
            # error carried back into each synapse: the delta of the neuron it feeds
            ref = abs_delta_max[k] or 1.0
            err = np.sqrt(np.abs(st.deltas[k]) / ref)
            syn[k]["error"].key(s, np.repeat(err, sizes[k]))
        mean = float(rec.mean_error[st.cycle - 1])
        err_val = float(np.mean(np.abs(st.error)))
        text_key(s, "training", st.cycle, st.example, st.inputs, st.target, st.output, err_val, mean)
        steps.append(
            {
                "cycle": st.cycle,
                "example": st.example,
                "frame_start": s,
                "frame_end": e,
                "forward_frames": fb,
                "backward_frames": gb,
                "inputs": _r(st.inputs),
                "target": _r(st.target),
                "output": _r(st.output),
                "error": _r(st.error),
                "activations": [_r(a) for a in st.activations],
                "deltas": [_r(d) for d in st.deltas],
            }
        )
        prev_after = st.after
        frame = e + 1

    # 3. after
    idle(frame, rec.final)
    text_key(frame, "after", rec.config.cycles, mean=float(rec.mean_error[-1]))
    states["after"] = {"frame_start": frame, "frame_end": frame + S - 1}
    frame += S

    # 4. the new situation
    qa = rec.query_activations
    fb = forward_keys(frame, qa)
    text_key(frame, "query", rec.config.cycles, -1, qa[0], None, qa[-1], 0.0, float(rec.mean_error[-1]))
    end = frame + F + S - 1 + timing.end_frames
    states["query"] = {"frame_start": frame, "frame_end": end, "forward_frames": fb}
    for k in range(n_seg):  # hold every group's last state to the end
        for tr in syn[k].values():
            if tr.frames and tr.frames[-1] < end:
                tr.key(end, tr.values[-1], "CONSTANT")
    act.key(end, act.values[-1])

    # loss curve: every cycle, thinned geometrically (denser early, like the shown cycles)
    C = rec.config.cycles
    if C <= MAX_LOSS_POINTS:
        lc = np.arange(1, C + 1)
    else:
        lc = np.unique(np.round(np.geomspace(1, C, MAX_LOSS_POINTS)).astype(int))
    step_cycles = np.array([st["cycle"] for st in steps])
    step_frames = np.array([st["frame_start"] for st in steps])
    pos = np.searchsorted(step_cycles, lc, side="left")
    loss_frames = np.where(
        pos < len(steps), step_frames[np.minimum(pos, len(steps) - 1)], states["after"]["frame_start"]
    )

    neuron_layer = np.repeat(np.arange(len(sizes)), sizes)
    neuron_index = np.concatenate([np.arange(n) for n in sizes])
    syn_groups = []
    for k in range(n_seg):
        j, i = np.divmod(np.arange(sizes[k] * sizes[k + 1]), sizes[k])
        syn_groups.append(
            {
                "layer": k,
                "source": i.tolist(),
                "target": j.tolist(),
                **{name: tr.to_json() for name, tr in syn[k].items()},
            }
        )

    cfg = rec.config
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"nncore {__version__}",
        "preset": preset,
        "network": {
            "layers": list(sizes),
            "activations": list(spec.layer_activations),
            "bias": spec.bias,
        },
        "training": {
            "dataset": rec.dataset.name,
            "examples": len(rec.dataset),
            "learning_rate": float(cfg.learning_rate),
            "batch": int(cfg.batch),
            "cycles": int(cfg.cycles),
            "seed": int(cfg.seed),
            "shown_cycles": [int(c) for c in cfg.shown],
            "shown_examples": sorted({st.example for st in rec.steps}),
            "final_mean_error": float(np.round(rec.mean_error[-1], DECIMALS + 2)),
            "final_outputs": _r(rec.final_outputs),
            "targets": _r(rec.dataset.T),
            **({"header": list(rec.dataset.header)} if rec.dataset.header else {}),
            # softmax networks only (plans of other networks stay as they were)
            **({"final_accuracy": float(np.round(rec.final_accuracy, DECIMALS))} if rec.accuracy is not None else {}),
            **(
                {"test_accuracy": float(np.round(rec.test_accuracy, DECIMALS))} if rec.test_accuracy is not None else {}
            ),
            **({"test_examples": len(rec.dataset.test_X)} if rec.test_accuracy is not None else {}),
            **({"class_names": list(rec.dataset.class_names)} if rec.dataset.class_names else {}),
        },
        "timing": {
            # end_frames only in a plan fitted to a duration: plans without it read as end_frames 0
            **{k: v for k, v in asdict(timing).items() if k != "end_frames" or v},
            "forward_frames": F,
            "backward_frames": B,
            "hold_frames": H,
            "state_frames": S,
            "frame_start": 1,
            "frame_end": end,
        },
        "query": {
            "inputs": _r(rec.query),
            "outputs": _r(qa[-1]),
            **({"target": _r(rec.query_target)} if rec.query_target is not None else {}),
        },
        "weights": {
            "before": [_r(w) for w in rec.initial.weights],
            "after": [_r(w) for w in rec.final.weights],
        },
        "loss": {
            "cycles": lc.tolist(),
            "mean_error": _r(rec.mean_error[lc - 1]),
            **({"accuracy": _r(rec.accuracy[lc - 1])} if rec.accuracy is not None else {}),
            "frames": loss_frames.astype(int).tolist(),
        },
        "states": states,
        "steps": steps,
        "neurons": {"count": n_neurons, "layer": neuron_layer.tolist(), "index": neuron_index.tolist()},
        "tracks": {
            "neuron_activity": act.to_json(),
            "synapse_layers": syn_groups,
            "text": text,
        },
    }
