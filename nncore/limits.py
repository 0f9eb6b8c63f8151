"""Resource limits, in one place: what nncore accepts and writes, and what the add-on builds.

Every limit is checked *before* the work it protects, with one line naming the limit and the
value (``NNCoreError``). The figures behind each value (time and memory at the limit, measured on
a 2-core machine) are in docs/nncore.md, "Limits".

* Input files: :data:`MAX_PLAN_BYTES`, :data:`MAX_CSV_BYTES` (regular files only; at most the
  limit + 1 bytes are ever read), :data:`MAX_CSV_ROWS`, :data:`MAX_CSV_COLUMNS`,
  :data:`MAX_CSV_CELLS`, :data:`MAX_JSON_DEPTH`.
* The plan nncore writes and reads: :data:`MAX_FRAME` (Blender's last frame),
  :data:`MAX_PLAN_VALUES` (numbers in the plan: parameters x shown steps),
  :data:`MAX_KEYS_PER_TRACK`, :data:`MAX_STEPS`, :data:`FLOAT32_MAX`.
* Training: :data:`MAX_WORK` (cycles x examples x parameters; the ``--max-work`` option lifts
  it), :data:`MAX_ACTIVATIONS` (rows of a batch x neurons held at once).
* Building in Blender (the add-on calls :func:`check_buildable` before training and
  :func:`check_buildable_plan` before building): :data:`MAX_NEURONS`, :data:`MAX_SYNAPSES`,
  :data:`MAX_SCENE_KEYS`.

No bpy here: the add-on imports these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import NNCoreError

# --- input files ---------------------------------------------------------------------------------

#: Largest plan file read (bytes). Any plan within MAX_PLAN_VALUES is far smaller (<= 16 bytes per
#: number); parsing a file this size takes ~5 s and at most ~1 GB.
MAX_PLAN_BYTES = 128 * 1024 * 1024
#: Deepest nesting of JSON lists/objects in a plan (a plan needs 7), checked before parsing.
MAX_JSON_DEPTH = 16
#: Largest CSV file read (bytes), and its rows, columns and cells (rows x columns).
MAX_CSV_BYTES = 16 * 1024 * 1024
MAX_CSV_ROWS = 100_000
MAX_CSV_COLUMNS = 8_192  # = 2 x the largest layer: input columns then target columns
MAX_CSV_CELLS = 2_000_000
#: Longest string in a plan: the preset name, and the data set's (a file name) and column names.
MAX_NAME = 64
MAX_FILE_NAME = 255

# --- the plan ------------------------------------------------------------------------------------

#: Blender's last frame (MAXFRAME): a plan's frames lie in 1..MAX_FRAME.
MAX_FRAME = 1_048_574
#: Largest magnitude of a float32 (Blender stores keyframes, properties and attributes as float32).
FLOAT32_MAX = 3.4028234663852886e38
#: Numbers in a plan (all of them: tracks, steps, tables). About 9 bytes each in the file.
MAX_PLAN_VALUES = 6_000_000
#: Keys of one track (one F-curve per item in Blender).
MAX_KEYS_PER_TRACK = 50_000
#: Shown steps (shown cycles x shown examples). A weight track has 3 keys per step: 16,000 steps
#: are 48,003 keys.
MAX_STEPS = 16_000
#: Layers of a network (input and output included).
MAX_LAYERS = 32
#: Training examples (the CSV's rows) and examples per batch.
MAX_EXAMPLES = MAX_CSV_ROWS

# --- training ------------------------------------------------------------------------------------

#: Training budget, in weight updates: cycles x examples x parameters (weights and biases). About
#: 2-3 minutes on the numpy path for large networks on a 2-core machine; ``--max-work`` lifts it.
MAX_WORK = 10_000_000_000
#: Rows of a batch x neurons: the activations (and deltas) numpy holds at once, 8 bytes each.
MAX_ACTIVATIONS = 8_000_000

# --- building in Blender -------------------------------------------------------------------------

#: Largest network built interactively (big networks are instanced: addon/scene.py representation()).
MAX_NEURONS = 5_000
MAX_SYNAPSES = 150_000
#: Keyframes of a scene built one object per neuron and synapse (their F-curves): ~175 bytes and
#: ~0.35 us each. An instanced scene keeps the plan's values in tables (4 bytes each, already
#: bounded by MAX_PLAN_VALUES), so this applies to per-object builds only (:func:`per_object`).
MAX_SCENE_KEYS = 16_000_000
#: The add-on builds a network one animated object per neuron and synapse if it has at most
#: PER_OBJECT_MAX_SYNAPSES synapses and no synapse layer of more than DENSE_LAYER (those are drawn
#: relative to their own largest weight, addon/look.py); any other network is instanced. The add-on's
#: scene.representation() and look.DENSE_LAYER use these: the rule is made here only.
PER_OBJECT_MAX_SYNAPSES = 1_000
DENSE_LAYER = 256


def per_object(layers) -> bool:
    """Whether the add-on builds a network of these layer sizes one object per neuron and synapse."""
    pairs = [int(a) * int(b) for a, b in zip(list(layers)[:-1], list(layers)[1:])]
    return sum(pairs) <= PER_OBJECT_MAX_SYNAPSES and all(n <= DENSE_LAYER for n in pairs)


def fmt(n: float) -> str:
    """A count for a message: 12,000 or 1.2e+10."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:.3g}"
    return f"{int(n):,}" if abs(n) < 1e15 else f"{n:.3g}"


def _over(what: str, value: float, limit: float, hint: str = "") -> NNCoreError:
    return NNCoreError(f"{what}: {fmt(value)} is over the limit of {fmt(limit)}{'; ' + hint if hint else ''}")


# --- estimates before any work -------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """What a run will produce, computed from the settings before training (upper bounds)."""

    steps: int  # shown steps
    frames: int  # frame_end of the plan (exact)
    keys_per_track: int  # the longest track
    plan_values: int  # numbers in the plan
    scene_keys: int  # keyframes of the Blender scene built from it
    work: int  # cycles x examples x parameters
    activations: int  # rows of a batch x neurons
    neurons: int
    synapses: int


def estimate(
    layers,
    bias: bool,
    n_examples: int,
    batch: int,
    cycles: int,
    n_shown_cycles: int,
    n_shown_examples: int,
    frames: tuple[int, int, int, int],
    kernel: bool = False,
    end_frames: int = 0,
) -> Estimate:
    """Upper bounds of the plan's size, its longest track, the scene's keys and the training work.

    ``frames`` = (F, B, H, Sf): the forward, backward, hold and state frames (timeline.Timing).
    ``kernel``: online training of a small network runs in nncore.kernel; ``end_frames``: frames
    the new situation is held at the end (timing.end_frames, a duration's rounding). The frame count is
    exact. Layout and key counts: docs/plan-format.md; the work: :func:`training_work`.
    """
    layers = [int(n) for n in layers]
    L = len(layers)
    S = L - 1
    N = n_shown_cycles * n_shown_examples
    n = sum(layers)
    n0, no = layers[0], layers[-1]
    W = [a * b for a, b in zip(layers[:-1], layers[1:])]
    n_bias = sum(layers[1:]) if bias else 0
    F, B, H, Sf = frames
    frame_end = Sf + N * (F + B + H + 1) + Sf + F + Sf + end_frames
    # keys per track (see timeline.build_plan): activity: S + 1 per step and the query, + 2 idle, + end
    k_act = N * (S + 1) + (S + 1) + 3
    k_weight = 3 * N + 3  # before, per step (jump, segment start, segment end), after, end
    k_signal = N + 4  # before, per step, after, query, end
    k_pulse = 2 * N + 3  # forward: per step and the query 0 -> 1, end (backward: fewer)
    values = k_act * (n + 1)
    scene = n * k_act
    for k, w in enumerate(W):
        b = layers[k + 1] if bias else 0
        values += k_weight * (w + 1) + (k_weight * (b + 1) if bias else 0)
        values += 2 * k_signal * (w + 1) + 2 * (k_pulse + 1) + 2 * w  # signal, error, pulses, numbering
        scene += w * (3 * k_weight + 2 * k_signal + 2 * k_pulse)  # scale x, y, weight; signal, error; pulses
    K_text = N + 3
    values += K_text * (6 + n0 + 2 * no)  # the text table
    values += N * (2 * S + 6 + 3 * no + 2 * n)  # steps
    values += 2 * sum(W) + 2 * n_examples * no + n_shown_cycles + N + 1500 + 2 * n + n0 + no + S + 64
    scene += K_text * (5 + min(n0, 8) + 2 * min(no, 4))  # the HUD's columns
    scene += sum(ln for ln in layers if ln <= 16) * k_act  # the neurons' number labels
    rows = n_examples if batch == 0 else min(batch, n_examples)
    return Estimate(
        steps=N,
        frames=frame_end,
        keys_per_track=max(k_act, k_weight, k_pulse),
        plan_values=values,
        scene_keys=scene,
        work=training_work(cycles, n_examples, sum(W) + n_bias, rows, kernel),
        activations=max(rows, 1) * n,
        neurons=n,
        synapses=sum(W),
    )


#: Cost of one update on the numpy path beyond its arithmetic (the calls, the per-cycle checks), in
#: weight updates (about 150 us against about 15 ns per weight and example).
UPDATE_COST = 10_000
#: The scalar kernel costs about this many numpy weight updates per weight and example (70 ns).
KERNEL_FACTOR = 4


def training_work(cycles: int, n_examples: int, parameters: int, batch_rows: int, kernel: bool) -> int:
    """The training budget's measure, in weight updates of ~15-20 ns on a 2-core machine:
    ``cycles x examples x parameters`` (x KERNEL_FACTOR on the kernel path), plus UPDATE_COST per
    update on the numpy path (the fixed cost of one forward/backward/update, which dominates small
    networks: 10 million cycles of XOR in mini-batches of 2 would take an hour)."""
    if kernel:
        return cycles * n_examples * parameters * KERNEL_FACTOR
    updates = -(-n_examples // max(1, batch_rows))
    return cycles * (n_examples * parameters + updates * UPDATE_COST)


_SHOW_LESS = "show fewer cycles (--show) or examples per cycle (--examples-shown)"


def check_estimate(est: Estimate, max_work: float | None = None) -> None:
    """Refuse, in one line naming the limit and the value, a run that would break a limit."""
    if est.steps > MAX_STEPS:
        raise _over("shown steps (shown cycles x shown examples)", est.steps, MAX_STEPS, _SHOW_LESS)
    if est.frames > MAX_FRAME:
        raise NNCoreError(
            f"frames: the timeline would end at frame {est.frames:,}, past Blender's last frame "
            f"{MAX_FRAME:,}; {_SHOW_LESS}, a lower --fps or shorter --*-seconds"
        )
    if est.keys_per_track > MAX_KEYS_PER_TRACK:
        raise _over("keys per track", est.keys_per_track, MAX_KEYS_PER_TRACK, _SHOW_LESS)
    if est.plan_values > MAX_PLAN_VALUES:
        raise _over(
            "plan size (numbers in the plan, about parameters x shown steps)",
            est.plan_values,
            MAX_PLAN_VALUES,
            f"{_SHOW_LESS}, or use a smaller network",
        )
    if est.activations > MAX_ACTIVATIONS:
        raise _over(
            "memory (rows of a batch x neurons)", est.activations, MAX_ACTIVATIONS, "use a smaller --batch (1 = online)"
        )
    budget = MAX_WORK if max_work is None else max_work
    if not budget > 0 or (math.isfinite(budget) and est.work > budget):
        raise NNCoreError(
            f"training work (cycles x examples x parameters): {fmt(est.work)} is over the limit of {fmt(budget)} "
            f"(roughly {max(1, round(est.work * 2e-8 / 60)):,} min); use fewer --cycles or a smaller network, "
            f"or raise the limit with --max-work {fmt(float(est.work))}"
        )


def check_buildable(layers, scene_keys: int | None = None) -> None:
    """The add-on's limits: neurons, synapses and (if known) the scene's keyframes, which bound a
    per-object build only (:func:`per_object`)."""
    layers = [int(n) for n in layers]
    n_neurons = sum(layers)
    n_syn = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    if n_neurons > MAX_NEURONS or n_syn > MAX_SYNAPSES:
        raise NNCoreError(
            f"network too large to build interactively: {n_neurons:,} neurons and {n_syn:,} synapses "
            f"(limits {MAX_NEURONS:,} and {MAX_SYNAPSES:,})"
        )
    if scene_keys is not None and scene_keys > MAX_SCENE_KEYS and per_object(layers):
        raise _over(
            "scene size (keyframes of every neuron and synapse)",
            scene_keys,
            MAX_SCENE_KEYS,
            f"{_SHOW_LESS}, or use a smaller network",
        )


def scene_keys(plan: dict) -> int:
    """Keyframes the add-on writes for a (validated) plan, as :func:`estimate` counts them."""
    layers = plan["network"]["layers"]
    tracks = plan["tracks"]
    k_act = len(tracks["neuron_activity"]["frames"])
    keys = sum(layers) * k_act + sum(ln for ln in layers if ln <= 16) * k_act
    for k, g in enumerate(tracks["synapse_layers"]):
        w = layers[k] * layers[k + 1]
        per = 3 * len(g["weight"]["frames"]) + len(g["signal"]["frames"]) + len(g["error"]["frames"])
        keys += w * (per + len(g["forward"]["frames"]) + len(g["backward"]["frames"]))
    K = len(tracks["text"]["frames"])
    return keys + K * (5 + min(layers[0], 8) + 2 * min(layers[-1], 4))


def check_buildable_plan(plan: dict) -> None:
    """:func:`check_buildable` for a validated plan (exact key count)."""
    check_buildable(plan["network"]["layers"], scene_keys(plan))


# --- reading input files -------------------------------------------------------------------------


def read_file(path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; else one line starting with ``what``.

    The path is checked with ``os.stat`` before it is opened (never open a device: /dev/zero is
    endless, opening some devices does something), opened non-blocking (a FIFO swapped in after the
    check cannot block) and checked again, and at most ``limit + 1`` bytes are read.
    """
    import os
    import stat

    from .outputs import path_text

    p = path_text(path, what)
    name = clean_name(p, 300)  # for messages: no control characters reach the terminal

    def kind(mode: int) -> str | None:
        if stat.S_ISREG(mode):
            return None
        if stat.S_ISDIR(mode):
            return "is a folder, not a file"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            return "is a device, not a regular file"
        if stat.S_ISFIFO(mode):
            return "is a FIFO (named pipe), not a regular file"
        if stat.S_ISSOCK(mode):
            return "is a socket, not a regular file"
        return "is not a regular file"

    def check(st) -> None:
        why = kind(st.st_mode)
        if why:
            raise NNCoreError(f"{what}: {name}: {why}")
        if st.st_size > limit:
            raise NNCoreError(f"{what}: {name}: {fmt(st.st_size)} bytes is over the limit of {fmt(limit)} bytes")

    try:
        check(os.stat(p))
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except NNCoreError:
        raise
    except FileNotFoundError:
        raise NNCoreError(f"{what}: {name}: no such file") from None
    except NotADirectoryError:
        raise NNCoreError(f"{what}: {name}: no such file (a part of the path is not a folder)") from None
    except OSError as exc:
        raise NNCoreError(f"{what}: {name}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeError):
        raise NNCoreError(f"{what}: {name}: not a usable file name") from None
    try:
        check(os.fstat(fd))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise NNCoreError(f"{what}: {name}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise NNCoreError(f"{what}: {name}: more than {fmt(limit)} bytes, over the limit")
    return b"".join(chunks)


def decode_text(data: bytes, what: str, name: str) -> str:
    """UTF-8 text, a leading byte-order mark (as Excel and Notepad write it) dropped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NNCoreError(f"{what}: {name}: not a text file (UTF-8 expected; byte {exc.start + 1} is not)") from None


def clean_name(text: str, limit: int) -> str:
    """``text`` with every unprintable character (control, lone surrogate...) as ``?``, at most ``limit`` long."""
    s = "".join(c if c.isprintable() else "?" for c in str(text)[: limit * 2])
    return s[:limit]
