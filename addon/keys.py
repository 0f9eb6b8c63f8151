"""Bulk keyframe writes: numpy arrays straight into F-curves, no per-key Python loop."""

from __future__ import annotations

import bpy
import numpy as np

#: Blender's keyframe interpolation enum as integers (BEZT_IPO_CONST, BEZT_IPO_LIN).
INTERPOLATION = {"CONSTANT": 0, "LINEAR": 1}


def interpolation_codes(names) -> np.ndarray:
    """Plan interpolation names -> int32 codes for ``foreach_set('interpolation', ...)``."""
    if isinstance(names, str):
        raise TypeError("expected a list of interpolation names")
    lut = np.array([INTERPOLATION[n] for n in ("CONSTANT", "LINEAR")], dtype=np.int32)
    arr = np.asarray(names)
    return lut[(arr == "LINEAR").astype(np.int32)]


def write(fc: bpy.types.FCurve, frames: np.ndarray, values: np.ndarray, interp: np.ndarray) -> None:
    """Fill an empty F-curve with ``len(frames)`` keys in three bulk calls."""
    n = len(frames)
    kp = fc.keyframe_points
    kp.add(n)
    co = np.empty(2 * n, dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    kp.foreach_set("co", co)
    kp.foreach_set("interpolation", np.asarray(interp, dtype=np.int32))
    fc.update()
