"""The composed frame: where the HUD and the loss curve go for the frame's shape, and how big.

The network stays where the build put it; its HUD (three lines of text) and its loss curve are
arranged around it in the plane facing the camera, for the scene's frame shape, every time the
camera is framed (camera.frame_camera, at build and when the frame shape changes):

- ``wide`` (16:9, 4:3): the HUD above the network, the loss curve to the right of both, as tall
  as the network and the HUD together and as wide as the frame's shape leaves room for;
- ``tall`` (9:16, 1:1 when it fits better): the HUD on top, the network under it and the loss
  curve under the network, as wide as the network and at most as tall as it.

The arrangement whose outline's aspect is nearer the frame's (in log) is used. Text scales with the
content so that, framed with the camera's margin, the HUD's and the curve's digits are at least
:data:`MIN_TEXT_PX` pixels high at 640x360 (9:16: 360x640), twice that at 1280x720; the neuron
labels are sized to match (scene.py, look.LABEL_SIZE). docs/look.md describes it with figures.

What the build records on the camera (:data:`INFO`): the basis of the plane (right, up, toward the
camera's depth), the network's box in that basis, and the HUD's extents per unit of text size
(measured at build over its longest texts). Nothing here reads the plan.
"""

from __future__ import annotations

import math

import bpy
import numpy as np

from .buildctx import HUD, LOSS_CURVE, OVERLAY, ROLE

#: Custom property of the network's camera holding what composing needs (see module docstring).
INFO = "nna_compose"
#: Custom properties of the camera: the arrangement last applied ("wide" or "tall"), and for
#: which frame aspect (width / height).
ARRANGEMENT = "nna_arrangement"
ARRANGED_FOR = "nna_arranged_for"

#: Digits (0.70 of the text size in Blender's font) at least this many pixels high at 640x360.
MIN_TEXT_PX = 15.0
#: Share of the frame's short side the content can fill (camera.frame_view's margin is 1.15).
FILL = 1 / 1.15
#: Height of a digit per unit of text size (Blender's built-in font, measured).
DIGIT = 0.70
#: Text size per unit of the content's short-side extent that gives MIN_TEXT_PX at 360 pixels.
TEXT_PER_EXTENT = MIN_TEXT_PX / (DIGIT * FILL * 360.0)
#: The loss curve's labels around its plot area, in units of the text size (labels.py draws them
#: there): below (ticks and the x label), above (the y label), left (the y ticks), right.
CURVE_BELOW, CURVE_ABOVE, CURVE_LEFT, CURVE_RIGHT = 2.8, 1.4, 2.9, 0.7
#: The plot is at least this many text sizes wide (its axis labels' length).
CURVE_MIN_WIDTH = 8.5
#: Gaps, in text sizes: between the HUD and the network, between the network and the curve.
GAP_HUD, GAP_CURVE = 1.0, 1.6


def record(cam: bpy.types.Object, basis, net_points: np.ndarray, hud_extent) -> None:
    """Store what :func:`compose` needs on the camera: ``basis`` (right, up, fwd unit vectors),
    the network's points (world, (n, 3)) and the HUD's (x0, x1, y0, y1) per unit text size."""
    right, up, fwd = (np.asarray(v, dtype=np.float64) for v in basis)
    p = np.asarray(net_points, dtype=np.float64).reshape(-1, 3)
    r, u, d = p @ right, p @ up, p @ fwd
    cam[INFO] = {
        "basis": [float(v) for v in (*right, *up, *fwd)],
        "net": [float(v) for v in (r.min(), r.max(), u.min(), u.max(), d.min(), d.max())],
        "hud": [float(v) for v in hud_extent] if hud_extent is not None else [],
        "points": [float(v) for v in p.ravel()],
    }


def overlay(cam: bpy.types.Object) -> list[bpy.types.Object]:
    """The objects composing moves (HUD, loss curve, its axes), in the camera's collections."""
    return [
        ob for c in cam.users_collection for ob in c.objects if ob.get(OVERLAY) or ob.get(ROLE) in (HUD, LOSS_CURVE)
    ]


def _plan(net, hud, aspect: float, kind: str) -> dict:
    """Positions (in the plane's r, u coordinates) and sizes of the HUD and the curve."""
    r0, r1, u0, u1 = net[:4]
    wn, hn = r1 - r0, u1 - u0
    hx0, hx1, hy0, hy1 = hud if hud else (0.0, 0.0, 0.0, 0.0)
    hud_h = hy1 - hy0
    if kind == "wide":
        # s = K * union height, the union height = hn + s * (GAP_HUD + hud_h)
        k = TEXT_PER_EXTENT
        s = k * hn / max(0.2, 1.0 - k * (GAP_HUD + hud_h))
        top = u1 + s * (GAP_HUD + hud_h) if hud else u1
        hud_at = (r0 - hx0 * s, top - hy1 * s)
        cx = r1 + s * (GAP_CURVE + CURVE_LEFT)
        cy = u0 + s * CURVE_BELOW
        ceiling = top
        if hud and r0 + hx1 * s > cx - s * CURVE_LEFT:  # the HUD reaches over the curve: stay below it
            ceiling = top - s * (hud_h + GAP_HUD)
        ch = max(ceiling - s * CURVE_ABOVE - cy, 0.3 * hn)
        right = r0 + aspect * (top - u0)  # the union as wide as the frame's shape asks
        cw = float(np.clip(right - s * CURVE_RIGHT - cx, max(0.7 * ch, CURVE_MIN_WIDTH * s), 1.8 * ch))
        lo = (r0, u0)
        hi = (max(cx + cw + s * CURVE_RIGHT, r0 + hx1 * s), top)
    else:
        k = TEXT_PER_EXTENT
        s = k * wn
        top = u1 + s * (GAP_HUD + hud_h) if hud else u1
        hud_at = (r0 - hx0 * s, top - hy1 * s)
        width = max(wn, (hx1 - hx0) * s)
        cx = r0 + s * CURVE_LEFT
        cw = max(width - s * (CURVE_LEFT + CURVE_RIGHT), 0.5 * wn, CURVE_MIN_WIDTH * s)
        target_h = width / aspect  # the union as tall as the frame's shape asks
        fixed = (top - u0) + s * (GAP_CURVE + CURVE_ABOVE + CURVE_BELOW)
        ch = float(np.clip(target_h - fixed, 0.3 * cw, min(0.7 * cw, max(hn, 0.3 * cw))))
        cy = u0 - s * (GAP_CURVE + CURVE_ABOVE) - ch
        lo = (r0, cy - s * CURVE_BELOW)
        hi = (r0 + max(width, cx - r0 + cw + s * CURVE_RIGHT), top)
    return {"size": s, "hud_at": hud_at, "curve_at": (cx, cy), "curve_size": (cw, ch), "lo": lo, "hi": hi}


def arrangement(cam: bpy.types.Object, aspect: float) -> tuple[str, dict]:
    """The arrangement for a frame of this aspect (width / height) and its plan."""
    info = cam[INFO]
    net, hud = list(info["net"]), list(info["hud"])
    best = None
    for kind in ("wide", "tall"):
        p = _plan(net, hud, aspect, kind)
        a = (p["hi"][0] - p["lo"][0]) / max(1e-9, p["hi"][1] - p["lo"][1])
        score = abs(math.log(a / aspect))
        if best is None or score < best[0] - 1e-9:
            best = (score, kind, p)
    return best[1], best[2]


def compose(scene: bpy.types.Scene, aspect: float) -> np.ndarray | None:
    """Arrange the HUD and the loss curve for ``aspect``; return the world points the framing must
    show (the network's and the overlay's corners), or None if the camera has no composition."""
    from . import labels

    cam = scene.camera
    if cam is None or INFO not in cam:
        return None
    info = cam[INFO]
    right, up, fwd = np.asarray(info["basis"], dtype=np.float64).reshape(3, 3)
    net = list(info["net"])
    d = (net[4] + net[5]) / 2
    kind, p = arrangement(cam, aspect)
    s = p["size"]
    hx0, hx1, hy0, hy1 = list(info["hud"]) or (0.0, 0.0, 0.0, 0.0)
    (cx, cy), (cw, ch) = p["curve_at"], p["curve_size"]
    boxes = []
    for ob in overlay(cam):
        if ob.get(ROLE) == HUD:
            at = p["hud_at"]
            labels.set_text_size(ob, s)
            boxes.append((at[0] + hx0 * s, at[0] + hx1 * s, at[1] + hy0 * s, at[1] + hy1 * s))
        else:  # the loss curve and its axes, at the plot's corner
            at = p["curve_at"]
            if ob.get(ROLE) == LOSS_CURVE:
                labels.set_loss_size(ob, cw, ch, s)
            else:
                labels.set_axes_size(ob, cw, ch, s)
            boxes.append(
                (cx - s * CURVE_LEFT, cx + cw + s * CURVE_RIGHT, cy - s * CURVE_BELOW, cy + ch + s * CURVE_ABOVE)
            )
        w = at[0] * right + at[1] * up + d * fwd
        if ob.parent is None:
            ob.location = tuple(w)
        else:  # parented to a camera rig: the object's basis is its rest in the world
            m = ob.matrix_basis.copy()
            m.translation = tuple(w)
            ob.matrix_basis = m
    cam[ARRANGEMENT] = kind
    cam[ARRANGED_FOR] = float(aspect)
    pts = [np.asarray(info["points"], dtype=np.float64).reshape(-1, 3)]
    for r0, r1, u0, u1 in boxes:
        pts.append(np.array([r * right + u * up + d * fwd for r in (r0, r1) for u in (u0, u1)]))
    return np.concatenate(pts)
