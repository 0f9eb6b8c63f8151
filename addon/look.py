"""How plan values become what the eye sees: positions, radii, colours, glow. No bpy here.

These functions are the documented mapping (docs/look.md); the shaders built in
``materials.py`` implement the same formulas, and tests compare the two.
"""

from __future__ import annotations

import math

import numpy as np

from ..nncore import limits

#: Distance between neighbouring neurons of a layer, and between layers.
NEURON_SPACING = 2.0
LAYER_SPACING = 3.0
#: A layer with more neurons than this is not a row: the network is then laid out as upright planes.
MAX_ROW = 12
NEURON_RADIUS = 0.4
#: Text size (a digit is 0.7 of it high) of the neurons' activity numbers and of the output classes'
#: names: with the composed frame (compose.py) the numbers are at least 12 pixels high at 640x360.
LABEL_SIZE = 0.6
CLASS_NAME_SIZE = 0.6
#: The plane layout's output column (its names and numbers) takes bigger labels: its networks are
#: large; 0.8 of the column's pitch keeps neighbouring labels apart.
PLANE_LABEL_SIZE = 0.96

#: The plane layout (see layer_positions): neuron spacing in a grid plane and in a column (a layer
#: of up to MAX_ROW neurons); an input image's tile spacing (at least), its smallest width, and the
#: share of the pitch a tile covers; the gap (x) between neighbouring planes and the step back (+y)
#: from one plane to the next.
GRID_GAP = 1.5
COLUMN_PITCH = 1.2
PIXEL_PITCH = 0.5
IMAGE_MIN_SIDE = 10.0
PIXEL_FILL = 0.92
PLANE_GAP = 7.0
PLANE_DEPTH = 4.0
#: The three-quarter view of the plane layout: degrees down, and degrees turned about +z
#: (positive: the camera stands to the front right, looking left and back).
VIEW_TILT = 12.0
VIEW_AZIMUTH = 28.0

#: Synapse radius: R_MIN + (R_MAX - R_MIN) * tanh(|w| / W_REF). Bounded by R_MAX however
#: large the weight (the original's line widths reach about 21 and crowd the picture).
R_MIN = 0.012
R_MAX = 0.11
W_REF = 4.0

#: Colours (linear RGB): excitatory, inhibitory, the forward signal, the back-propagated error.
GREEN = (0.05, 0.85, 0.12)
RED = (0.9, 0.04, 0.03)
SIGNAL = (1.0, 0.82, 0.25)
ERROR = (0.15, 0.45, 1.0)
NEURON_GLOW = (1.0, 0.78, 0.2)
NEURON_BASE = (0.03, 0.03, 0.035)

#: Emission strengths. A synapse glows SYNAPSE_GLOW in its weight's colour; pulses add up
#: to PULSE_GLOW; a neuron glows NEURON_MAX_GLOW * clamp(|activity|, 0, 1).
SYNAPSE_GLOW = 1.0
PULSE_GLOW = 3.0
PULSE_WIDTH = 0.18
NEURON_MAX_GLOW = 3.0
#: An input image's tile: a dark base and emission of NEURON_GLOW colour, strength
#: PIXEL_GLOW * clamp(|activity|, 0, 1) (a flat tile is seen whole, so it glows less than a sphere).
PIXEL_GLOW = 1.5
PIXEL_BASE = (0.025, 0.025, 0.03)


def layer_positions(sizes: list[int] | tuple[int, ...]) -> list[np.ndarray]:
    """Neuron centres per layer, shape (n, 3).

    If every layer has at most MAX_ROW neurons (the article's network), each is a row along x,
    centred, at z = k x spacing (LAYER_SPACING, or 0.45 x the widest row's width if that is more):
    inputs at the bottom, output on top, the front view of the original.

    Otherwise (:func:`plane_layout`) the network reads from left to right, and every layer stands
    upright in its own x-z plane facing the front (-y), centred on z = 0: a layer of up to MAX_ROW
    neurons is a column, a wider one a grid of ceil(sqrt(n)) columns filled from the top left like
    an image's pixels, and a square input layer (64 = 8 x 8, 784 = 28 x 28) an image of tiles
    (:func:`layer_grid`). Neighbouring planes are PLANE_GAP apart (x) and each stands PLANE_DEPTH
    further back (+y) than the one before it, so the synapses run behind the planes they leave.
    The three-quarter view from the front right (:func:`view_angles`) shows every plane.
    """
    sizes = [int(n) for n in sizes]
    if not plane_layout(sizes):
        return _row_positions(sizes)
    out = []
    x0 = 0.0
    for k, n in enumerate(sizes):
        if k:
            x0 += (plane_width(k - 1, sizes[k - 1]) + plane_width(k, n)) / 2 + PLANE_GAP
        cols, rows, pitch = layer_grid(k, n)
        i = np.arange(n)
        x = x0 + (i % cols - (cols - 1) / 2) * pitch
        z = ((rows - 1) / 2 - i // cols) * pitch
        out.append(np.stack([x, np.full(n, k * PLANE_DEPTH), z], axis=1).astype(np.float64))
    return out


def _row_positions(sizes: list[int]) -> list[np.ndarray]:
    out = []
    widest = max(_layer_width(n) for n in sizes)
    spacing = max(LAYER_SPACING, 0.45 * widest)
    for k, n in enumerate(sizes):
        x = (np.arange(n) - (n - 1) / 2) * NEURON_SPACING
        out.append(np.stack([x, np.zeros(n), np.full(n, k * spacing)], axis=1).astype(np.float64))
    return out


def _layer_width(n: int) -> float:
    return (n - 1) * NEURON_SPACING


def plane_layout(sizes) -> bool:
    """Whether the network is laid out as upright planes (some layer is wider than a row)."""
    return max(int(n) for n in sizes) > MAX_ROW


def is_image(k: int, n: int) -> bool:
    """A square input layer wider than a row (16 = 4 x 4, 64 = 8 x 8, 784 = 28 x 28) is drawn as an image."""
    return k == 0 and n > MAX_ROW and math.isqrt(n) ** 2 == n


def layer_grid(k: int, n: int) -> tuple[int, int, float]:
    """(columns, rows, pitch) of layer ``k`` (``n`` neurons) in the plane layout.

    A layer of up to MAX_ROW neurons: a column (1 x n), COLUMN_PITCH apart. An image: sqrt(n) x
    sqrt(n) tiles, PIXEL_PITCH apart (further for a small image, so that it is at least
    IMAGE_MIN_SIDE across). Any other layer: ceil(sqrt(n)) columns, GRID_GAP apart.
    """
    if n <= MAX_ROW:
        return 1, n, COLUMN_PITCH
    if is_image(k, n):
        side = math.isqrt(n)
        return side, side, max(PIXEL_PITCH, IMAGE_MIN_SIDE / side)
    cols = math.ceil(math.sqrt(n))
    return cols, math.ceil(n / cols), GRID_GAP


def neuron_extent(k: int, n: int) -> float:
    """Half the size of one neuron of the layer: a sphere's radius, or half a tile's edge."""
    return tile_size(k, n) / 2 if is_image(k, n) else NEURON_RADIUS


def tile_size(k: int, n: int) -> float:
    """Edge of an input image's tile (PIXEL_FILL of the pitch: a thin dark gap between pixels)."""
    return PIXEL_FILL * layer_grid(k, n)[2]


def plane_width(k: int, n: int) -> float:
    cols, _, pitch = layer_grid(k, n)
    return (cols - 1) * pitch + 2 * neuron_extent(k, n)


def view_angles(sizes) -> tuple[float, float] | None:
    """The camera's (tilt, azimuth) in radians for the plane layout (a three-quarter view from the
    front right and above), or None for the row layout (the original's front view)."""
    if not plane_layout(sizes):
        return None
    return math.radians(VIEW_TILT), math.radians(VIEW_AZIMUTH)


#: The front view's tilt down toward the network (the row layout, view_angles None), in degrees: a
#: little for a flat network, more for one with depth along +y (more than FRONT_DEPTH units).
FRONT_TILT = 6.0
FRONT_TILT_DEEP = 24.0
FRONT_DEPTH = 1.0


def front_tilt(depth: float = 0.0) -> float:
    """The front camera's tilt in radians for a network (and labels) ``depth`` units deep along +y:
    camera.py frames the Blender camera with it, web.py the web page's."""
    return math.radians(FRONT_TILT_DEEP if depth > FRONT_DEPTH else FRONT_TILT)


def view_basis(tilt: float, azimuth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, forward) unit vectors of a camera looking along +y, tilted down by ``tilt`` and
    turned by ``azimuth`` about +z (camera rotation_euler = (pi/2 - tilt, 0, azimuth))."""
    ca, sa, ct, st = math.cos(azimuth), math.sin(azimuth), math.cos(tilt), math.sin(tilt)
    right = np.array([ca, sa, 0.0])
    up = np.array([-sa * st, ca * st, ct])
    fwd = np.array([-sa * ct, ca * ct, -st])
    return right, up, fwd


def synapse_radius(weight, scale: float = 1.0) -> np.ndarray:
    """Radius of a synapse cylinder for a weight (any shape); bounded in [R_MIN, R_MAX] * scale."""
    w = np.abs(np.asarray(weight, dtype=np.float64))
    return scale * (R_MIN + (R_MAX - R_MIN) * np.tanh(w / W_REF))


def synapse_color(weight) -> np.ndarray:
    """GREEN for a positive weight, RED otherwise (shape (..., 3))."""
    w = np.asarray(weight, dtype=np.float64)[..., None]
    return np.where(w > 0, np.array(GREEN), np.array(RED))


def neuron_glow(activity) -> np.ndarray:
    """Emission strength of a neuron for its activity."""
    return NEURON_MAX_GLOW * np.clip(np.abs(np.asarray(activity, dtype=np.float64)), 0.0, 1.0)


def pixel_glow(activity) -> np.ndarray:
    """Emission strength of an input image's tile for its activity (the example's input value)."""
    return PIXEL_GLOW * np.clip(np.abs(np.asarray(activity, dtype=np.float64)), 0.0, 1.0)


def pulse(z, position) -> np.ndarray:
    """Brightness 0..1 of a pulse at ``position`` (0..1 along the synapse) seen at ``z``.

    Zero unless 0 < position < 1, so a pulse key of 0 or 1 (the plan's idle values) is dark.
    """
    z = np.asarray(z, dtype=np.float64)
    p = np.asarray(position, dtype=np.float64)
    inside = (p > 0.0) & (p < 1.0)
    return np.where(inside, np.clip(1.0 - np.abs(z - p) / PULSE_WIDTH, 0.0, 1.0), 0.0)


def radius_scale(sizes) -> float:
    """Thinner synapses for crowded networks: 1 up to 16 synapses per neuron pair of layers, less above."""
    widest = max(drawn_count(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
    return float(min(1.0, math.sqrt(64.0 / widest))) if widest > 64 else 1.0


# --------------------------------------------------------------------------------------------
# legibility of big synapse layers

#: A synapse layer of up to DENSE_LAYER synapses looks as in the original (radius by tanh(|w| / W_REF),
#: full glow). A bigger layer is drawn relative to its own largest weight (synapse_radius_keys,
#: synapse_fade): the strong synapses stand out, the weak ones are thin and dim.
DENSE_LAYER = limits.DENSE_LAYER  # 256; the per-object build draws dense layers only (limits.per_object)
#: A big layer's synapse glows at ``1 - FADE * (1 - u**2)`` of its colour, u = |w| / the layer's
#: largest |w|: its strongest synapses glow fully, its weak ones at 1 - FADE.
FADE = 0.9
#: A layer of more than MAX_DRAWN synapses draws only the STRONGEST strongest incoming synapses of
#: each receiving neuron (by the largest |w| each reaches over the whole plan): 784 x 64 = 50,176
#: synapses show 16 per hidden neuron, the pixels it watches most.
MAX_DRAWN = 2048
STRONGEST = 16


def is_big_layer(n_synapses: int) -> bool:
    return n_synapses > DENSE_LAYER


def layer_peak(weights) -> float:
    """A layer's largest |w| over every key (1 if all are 0): the reference of its big-layer look."""
    w = np.asarray(weights)
    peak = float(np.abs(w).max()) if w.size else 0.0
    return peak if peak > 0 else 1.0


def drawn_synapses(weights, target, n_target: int) -> np.ndarray:
    """Indices (sorted) of the synapses of one layer that are drawn: all of them up to MAX_DRAWN,
    else the STRONGEST strongest into each receiving neuron, strongest by the largest |w| the
    synapse reaches in the plan (``weights``: K x N keys); ties keep the lower index."""
    n = np.shape(weights)[-1]
    if n <= MAX_DRAWN:
        return np.arange(n)
    w = np.abs(np.asarray(weights, dtype=np.float64))
    per = STRONGEST
    peak = w.max(axis=0) if w.ndim == 2 else w
    target = np.asarray(target, dtype=np.int64)
    order = np.lexsort((np.arange(n), -peak, target))  # by target, then strongest first
    first = np.searchsorted(target[order], target[order], side="left")
    rank = np.arange(n) - first
    return np.sort(order[rank < per])


def drawn_count(n_source: int, n_target: int) -> int:
    """How many synapses of an n_source x n_target layer :func:`drawn_synapses` keeps."""
    n = n_source * n_target
    return n if n <= MAX_DRAWN else n_target * min(n_source, STRONGEST)


def synapse_radius_keys(weights, n_synapses: int, scale: float = 1.0) -> np.ndarray:
    """The radius of every synapse at every key of a layer (``weights``: K x N).

    A dense layer: :func:`synapse_radius`. A big layer: ``scale * (R_MIN + (R_MAX - R_MIN) * u)``
    with ``u = |w| / layer_peak``, so its strongest synapse is as thick as a strong one of the original.
    """
    if not is_big_layer(n_synapses):
        return synapse_radius(weights, scale)
    u = np.abs(np.asarray(weights, dtype=np.float64)) / layer_peak(weights)
    return scale * (R_MIN + (R_MAX - R_MIN) * np.clip(u, 0.0, 1.0))


def fade_params(weights, n_synapses: int) -> tuple[float, float]:
    """(dim, inverse peak) the synapse material uses: ``fade = 1 - dim * (1 - min(|w| * inv, 1) ** 2)``.
    (0, 0) for a dense layer: no fade."""
    if not is_big_layer(n_synapses):
        return 0.0, 0.0
    return FADE, 1.0 / layer_peak(weights)


def synapse_fade(weight, dim: float, inv: float) -> np.ndarray:
    """Brightness factor 0..1 of a synapse's weight colour (1 for a dense layer)."""
    u = np.minimum(np.abs(np.asarray(weight, dtype=np.float64)) * inv, 1.0)
    return 1.0 - dim * (1.0 - u * u)
