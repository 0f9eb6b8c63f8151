"""The web page: a folder that plays a plan's animation in any browser, opened from disk. No bpy here.

:func:`write_web` writes, into one folder:

- ``index.html``: the page (the controls, the HUD and the loss curve are HTML/SVG over the 3-D view);
- ``viewer.js``: the viewer and three.js, bundled by esbuild into ONE classic script (``make
  web-bundle`` rebuilds it from ``web/src``; it is vendored in the repository, so no npm at run time);
- ``LICENSE-three.txt``: three.js's licence (MIT);
- ``network.js``: the network's data, assigning the global ``NNA_DATA`` (a classic script, because
  ``file://`` pages may not ``fetch()`` and may not load module scripts).

The data is the plan's tracks, unchanged in meaning (docs/plan-format.md), packed for the browser:
each K x N track keeps its frames and interpolations, and its rows as float32 binary (base64),
identical rows stored once; a synapse track whose every row only depends on the sending neuron
(``signal``) or on the receiving neuron (``error``) is stored per neuron. Neuron positions come
from :func:`look.layer_positions` and every constant of the look (docs/look.md) from ``look``, so
the page and Blender draw from the same numbers. The HUD's lines are formatted here, as Blender's
HUD formats them. docs/web.md describes the page.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil

import numpy as np

from ..nncore import outputs
from ..nncore import plan as plan_io
from ..nncore.errors import NNCoreError
from . import look

#: Version of the NNA_DATA layout (the page refuses other versions).
DATA_FORMAT = 1

#: The viewer's files, shipped in the repository's (and the extension zip's) ``web/`` folder.
WEB_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")
VENDORED = {"viewer.js": "vendor/viewer.js", "LICENSE-three.txt": "vendor/LICENSE-three.txt"}
TEMPLATE = "index.html"
DATA_FILE = "network.js"

#: The files write_web writes, in order.
FILES = ("index.html", "viewer.js", "LICENSE-three.txt", DATA_FILE)

#: As Blender's HUD (addon/labels.py): at most this many inputs and outputs are listed.
HUD_MAX_INPUTS = 8
HUD_MAX_OUTPUTS = 4
#: Layers of up to this many neurons show their activity as numbers (as addon/scene.py).
MAX_LABELLED_LAYER = 16

#: Above this many stored numbers a track's rows are stored as float16 (half the size; the sign
#: and the radius mapping read the same). The article and test plans stay far below it.
FLOAT16_ABOVE = 8_000_000

PHASE_BEFORE, PHASE_TRAINING, PHASE_AFTER, PHASE_QUERY = range(4)


# --------------------------------------------------------------------------------------------
# text, as Blender's HUD draws it


def thousands(n: float) -> str:
    return f"{int(round(n)):,}"


def compact(v: float) -> str:
    """No decimals for a whole number (``1``), else two (``0.35``), as the HUD's inputs and targets."""
    return f"{v:.0f}" if abs(v - round(v)) <= 0.0005 else f"{v:.2f}"


def _numbers(values, limit: int, fmt) -> str:
    shown = "".join(" " + fmt(float(v)) for v in values[:limit])
    return shown + (" \u2026" if len(values) > limit else "")


def hud_lines(plan: dict, entry: int) -> list[str]:
    """The HUD's three lines for entry ``entry`` of ``plan["tracks"]["text"]`` (docs/web.md)."""
    t = plan["tracks"]["text"]
    total = thousands(plan["training"]["cycles"])
    phase = t["phase"][entry]
    ins = "inputs" + _numbers(t["inputs"][entry], HUD_MAX_INPUTS, compact)
    outs = "   output" + _numbers(t["output"][entry], HUD_MAX_OUTPUTS, lambda v: f"{v:.2f}")
    mean = f"mean error {100 * t['mean_error'][entry]:.2f}%"
    if phase == PHASE_BEFORE:
        return ["before training", "", ""]
    if phase == PHASE_TRAINING:
        title = (
            f"cycle {thousands(t['cycle'][entry])} of {total} \u00b7 "
            f"example {t['example'][entry] + 1} of {plan['training']['examples']}"
        )
        target = "   target" + _numbers(t["target"][entry], HUD_MAX_OUTPUTS, compact)
        return [title, ins + target + outs, f"error {t['error'][entry]:.2f}   {mean}"]
    if phase == PHASE_AFTER:
        return [f"after training ({total} cycles)", "", mean]
    return ["new situation", ins + outs, ""]


def scrub_label(plan: dict, entry: int) -> str:
    """What the scrub bar says at a text entry: the cycle, or the state."""
    t = plan["tracks"]["text"]
    phase = t["phase"][entry]
    if phase == PHASE_TRAINING:
        return f"cycle {thousands(t['cycle'][entry])} of {thousands(plan['training']['cycles'])}"
    return ("before training", "", "after training", "new situation")[phase]


# --------------------------------------------------------------------------------------------
# tracks, packed


class _Blobs:
    """Binary arrays, base64, referred to by index."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.nbytes = 0

    def add(self, array: np.ndarray) -> int:
        data = np.ascontiguousarray(array).tobytes()
        self.nbytes += len(data)
        self.items.append(base64.b64encode(data).decode("ascii"))
        return len(self.items) - 1


def _interp(track: dict) -> str:
    """``"L"`` / ``"C"`` per key (the stretch from that key to the next)."""
    return "".join("L" if name == "LINEAR" else "C" for name in track["interpolation"])


def _shared(track: dict) -> dict:
    return {"frames": list(track["frames"]), "interp": _interp(track), "values": [float(v) for v in track["values"]]}


def _gathered(values: np.ndarray, n_src: int, n_dst: int) -> tuple[np.ndarray, str | None]:
    """Rows of synapse values as rows per neuron when every row only depends on the sender or the receiver."""
    k = values.shape[0]
    v = values.reshape(k, n_dst, n_src)
    ways = []
    if np.array_equal(v, np.broadcast_to(v[:, :1, :], v.shape)):
        ways.append((v[:, 0, :], "source"))
    if np.array_equal(v, np.broadcast_to(v[:, :, :1], v.shape)):
        ways.append((v[:, :, 0], "target"))
    if not ways:
        return values, None
    return min(ways, key=lambda w: w[0].shape[1])  # the narrower, when both hold (one neuron on a side)


def _rows(track: dict, n: int, blobs: _Blobs, synapses: tuple[int, int] | None = None) -> dict:
    """A K x N track: frames, interpolations, its distinct rows (float32 or float16) and which row each key has."""
    values = np.asarray(track["values"], dtype=np.float64).reshape(len(track["frames"]), n)
    gather = None
    if synapses is not None:
        values, gather = _gathered(values, *synapses)
    rows32 = values.astype("<f4")
    seen: dict[bytes, int] = {}
    index = []
    for row in rows32:
        index.append(seen.setdefault(row.tobytes(), len(seen)))
    order = sorted(seen, key=seen.get)
    unique = np.frombuffer(b"".join(order), dtype="<f4").reshape(len(order), rows32.shape[1])
    dtype = "f2" if unique.size > FLOAT16_ABOVE else "f4"
    stored = unique.astype("<f2") if dtype == "f2" else unique
    return {
        "frames": list(track["frames"]),
        "interp": _interp(track),
        "n": n,
        "width": int(rows32.shape[1]),
        "gather": gather,
        "dtype": dtype,
        "rows": blobs.add(stored),
        "index": index,
    }


# --------------------------------------------------------------------------------------------
# the data


def _look() -> dict:
    return {
        name: getattr(look, name)
        for name in (
            "NEURON_RADIUS",
            "R_MIN",
            "R_MAX",
            "W_REF",
            "GREEN",
            "RED",
            "SIGNAL",
            "ERROR",
            "NEURON_GLOW",
            "NEURON_BASE",
            "SYNAPSE_GLOW",
            "PULSE_GLOW",
            "PULSE_WIDTH",
            "NEURON_MAX_GLOW",
        )
    }


def _view(layers: list[int], depth: float = 0.0) -> tuple[list[float], ...]:
    """The camera's (right, up, forward) unit vectors: look.view_basis of look.view_angles where the
    look has a three-quarter view for this network, else of the front view along +y tilted down by
    look.front_tilt for the network's ``depth`` along +y: the angles Blender's camera gets
    (camera.py), from the same functions."""
    angles = look.view_angles(layers)
    if angles is None:
        angles = (look.front_tilt(depth), 0.0)
    return tuple([round(float(c), 9) for c in v] for v in look.view_basis(*angles))


def _image(k: int, n: int) -> bool:
    """An input layer the look draws as an image (its pixels get no halo: they would merge)."""
    return bool(look.is_image(k, n)) if hasattr(look, "is_image") else False


def _radius(k: int, n: int) -> float:
    """A neuron's sphere radius: NEURON_RADIUS, or half an input image's tile where the look has tiles."""
    return float(look.neuron_extent(k, n)) if hasattr(look, "neuron_extent") else look.NEURON_RADIUS


def _legibility(group: dict, n: int, n_target: int) -> dict:
    """A big synapse layer's look, as Blender draws it (look.py's legibility rule): only the synapses
    of look.drawn_synapses (``drawn``, the plan's synapse indices), the radius relative to the
    layer's largest |w| and the weight colour faded (look.fade_params: ``dim``, ``invPeak``).
    Nothing for a dense layer."""
    if not look.is_big_layer(n):
        return {}
    weights = np.asarray(group["weight"]["values"], dtype=np.float64).reshape(-1, n)
    drawn = look.drawn_synapses(weights, np.asarray(group["target"]), n_target)
    dim, inv = look.fade_params(weights, n)
    out = {"dim": float(dim), "invPeak": float(inv)}
    if len(drawn) < n:
        out["drawn"] = [int(i) for i in drawn]
    return out


def title(plan: dict) -> str:
    layers = "-".join(str(n) for n in plan["network"]["layers"])
    name = plan.get("preset") or plan["training"].get("dataset") or "network"
    return f"{name} {layers}"


def web_data(plan: dict) -> tuple[dict, dict]:
    """The page's data (``NNA_DATA``) for a valid plan, and some figures about it (sizes)."""
    layers = [int(n) for n in plan["network"]["layers"]]
    tm = plan["timing"]
    pos = look.layer_positions(layers)
    allpos = np.concatenate(pos)
    lo = allpos.min(axis=0) - look.NEURON_RADIUS
    hi = allpos.max(axis=0) + look.NEURON_RADIUS
    right, up, forward = _view(layers, float(hi[1] - lo[1]))
    radii = [_radius(k, n) for k, n in enumerate(layers) for _ in range(n)]
    blobs = _Blobs()
    tracks = plan["tracks"]
    groups = []
    for g in tracks["synapse_layers"]:
        k = g["layer"]
        n_src, n_dst = layers[k], layers[k + 1]
        n = n_src * n_dst
        groups.append(
            {
                "layer": k,
                "nSrc": n_src,
                "nDst": n_dst,
                "weight": _rows(g["weight"], n, blobs),
                "signal": _rows(g["signal"], n, blobs, (n_src, n_dst)),
                "error": _rows(g["error"], n, blobs, (n_src, n_dst)),
                "forward": _shared(g["forward"]),
                "backward": _shared(g["backward"]),
                **_legibility(g, n, n_dst),
            }
        )
    text = tracks["text"]
    entries = range(len(text["frames"]))
    st = plan["states"]
    data = {
        "format": DATA_FORMAT,
        "generator": plan.get("generator", ""),
        "title": title(plan),
        "layers": layers,
        "fps": int(tm["fps"]),
        "frameStart": int(tm["frame_start"]),
        "frameEnd": int(tm["frame_end"]),
        "states": {
            name: [int(st[name]["frame_start"]), int(st[name]["frame_end"])] for name in ("before", "after", "query")
        },
        "cycles": int(plan["training"]["cycles"]),
        "positions": [round(float(v), 5) for v in allpos.ravel()],
        "bounds": [[round(float(v), 5) for v in lo], [round(float(v), 5) for v in hi]],
        "view": {"right": right, "up": up, "forward": forward},
        "radii": radii,
        "halos": [0 if _image(k, n) else 1 for k, n in enumerate(layers) for _ in range(n)],
        "radiusScale": look.radius_scale(layers),
        "labelled": [k for k, n in enumerate(layers) if n <= MAX_LABELLED_LAYER],
        "look": _look(),
        "activity": _rows(tracks["neuron_activity"], sum(layers), blobs),
        "synapses": groups,
        "text": {
            "frames": list(text["frames"]),
            "phase": list(text["phase"]),
            "lines": [hud_lines(plan, i) for i in entries],
            "label": [scrub_label(plan, i) for i in entries],
        },
        "loss": {
            "cycles": list(plan["loss"]["cycles"]),
            "meanError": list(plan["loss"]["mean_error"]),
            "frames": list(plan["loss"]["frames"]),
        },
        "blobs": blobs.items,
    }
    return data, {"binary_bytes": blobs.nbytes}


def data_script(plan: dict) -> str:
    """``network.js``: one classic script assigning ``NNA_DATA`` (ASCII)."""
    data, _ = web_data(plan)
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return (
        f"/* Neural Network Animator: the network's data for index.html ({title(plan)}) */\nwindow.NNA_DATA={body};\n"
    )


def page(plan: dict) -> str:
    """``index.html`` from the template, titled after the network."""
    with open(os.path.join(WEB_SOURCE, TEMPLATE), encoding="utf-8") as fh:
        template = fh.read()
    return template.replace("{{title}}", html.escape(f"Neural Network Animator: {title(plan)}"))


# --------------------------------------------------------------------------------------------
# the folder


def check_folder(folder: object, what: str = "--web") -> str:
    """The absolute path of the web folder: an existing writable folder, or a new one whose parent is one."""
    path = outputs._abspath(folder, what)  # noqa: SLF001  (the shared path checks)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise NNCoreError(f"{what}: {outputs.printable(path)} is not a folder")
    if os.path.isdir(path):
        outputs.check_folder(path, what)
    else:
        parent = os.path.dirname(path)
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise NNCoreError(f"{what}: {outputs.printable(parent)} is not a folder")
        if not os.path.isdir(parent):
            raise NNCoreError(f"{what}: folder {outputs.printable(parent)} does not exist")
        outputs.check_folder(parent, what)
    for name in FILES:
        target = os.path.join(path, name)
        if os.path.islink(target) or (os.path.lexists(target) and not os.path.isfile(target)):
            raise NNCoreError(f"{what}: {outputs.printable(target)} is not a regular file")
    return path


def _vendored(name: str) -> str:
    src = os.path.join(WEB_SOURCE, VENDORED[name])
    if not os.path.isfile(src):
        raise NNCoreError(f"web: the viewer script {src} is missing (run: make web-bundle)")
    return src


def write_web(plan: dict, folder: str) -> list[str]:
    """Write the web page for ``plan`` into ``folder`` (created if missing); the paths written.

    Every file is written under a temporary name and renamed when all are complete; on any failure
    nothing changes (a folder this call created is removed again). A bad folder, or a plan that does
    not validate, is one line (:class:`NNCoreError`).
    """
    path = check_folder(folder)
    plan_io.validate(plan)
    sources = {name: _vendored(name) for name in VENDORED}
    texts = {"index.html": page(plan), DATA_FILE: data_script(plan)}
    created = not os.path.isdir(path)
    if created:
        try:
            os.mkdir(path)
        except OSError as exc:
            raise NNCoreError(f"--web: cannot create {outputs.printable(path)} ({exc.strerror})") from None
    finals = [os.path.join(path, name) for name in FILES]
    done = False
    try:
        with outputs.atomic_files(finals, "--web") as tmps:
            umask = os.umask(0)
            os.umask(umask)
            for name, tmp in zip(FILES, tmps):
                if name in sources:
                    shutil.copyfile(sources[name], tmp)
                else:
                    with open(tmp, "x", encoding="ascii", newline="\n") as fh:
                        fh.write(texts[name])
                os.chmod(tmp, 0o666 & ~umask)
        done = True
    finally:
        if created and not done:
            shutil.rmtree(path, ignore_errors=True)
    return finals


def sizes(plan: dict) -> dict:
    """Figures for the benchmark: bytes of the data file and of its binary part."""
    data, figures = web_data(plan)
    text = json.dumps(data, separators=(",", ":"))
    return {"data_bytes": len(text), **figures}


__all__ = ["write_web", "web_data", "data_script", "hud_lines", "scrub_label", "check_folder", "FILES"]
