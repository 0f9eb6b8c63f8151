"""How plan values become what the eye sees: positions, radii, colours, glow. No bpy here.

These functions are the documented mapping (docs/look.md); the shaders built in
``materials.py`` implement the same formulas, and tests compare the two.
"""

from __future__ import annotations

import math

import numpy as np

#: Distance between neighbouring neurons of a layer, and between layers.
NEURON_SPACING = 2.0
LAYER_SPACING = 3.0
#: A layer with more neurons than this is laid out as a square-ish grid instead of a row.
MAX_ROW = 12
NEURON_RADIUS = 0.4

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


def layer_positions(sizes: list[int] | tuple[int, ...]) -> list[np.ndarray]:
    """Neuron centres per layer, shape (n, 3). Inputs at the bottom (z = 0), output on top.

    A layer of up to MAX_ROW neurons is a row along x, centred; a larger one a grid in the
    x-y plane (ceil(sqrt(n)) columns), centred, so a 64-neuron input layer is an 8 x 8 image.
    Layers are LAYER_SPACING apart, or 0.45 x the widest layer's width if that is more.
    """
    out = []
    widest = max(_layer_width(n) for n in sizes)
    spacing = max(LAYER_SPACING, 0.45 * widest)  # wide grids need room between layers
    for k, n in enumerate(sizes):
        z = k * spacing
        if n <= MAX_ROW:
            x = (np.arange(n) - (n - 1) / 2) * NEURON_SPACING
            pos = np.stack([x, np.zeros(n), np.full(n, z)], axis=1)
        else:
            cols = math.ceil(math.sqrt(n))
            rows = math.ceil(n / cols)
            i = np.arange(n)
            gap = NEURON_SPACING * 0.75
            x = (i % cols - (cols - 1) / 2) * gap
            y = (i // cols - (rows - 1) / 2) * gap
            pos = np.stack([x, y, np.full(n, z)], axis=1)
        out.append(pos.astype(np.float64))
    return out


def _layer_width(n: int) -> float:
    if n <= MAX_ROW:
        return (n - 1) * NEURON_SPACING
    return (math.ceil(math.sqrt(n)) - 1) * NEURON_SPACING * 0.75


def text_size(width: float, height: float) -> float:
    """Height of the HUD's and loss curve's letters for a network of this extent."""
    return max(0.34, 0.028 * max(width, height))


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
    widest = max(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return float(min(1.0, math.sqrt(64.0 / widest))) if widest > 64 else 1.0
