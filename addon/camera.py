"""The network's camera (framed for any frame shape), its dark world and its key light."""

from __future__ import annotations

import math

import bpy
import mathutils
import numpy as np

from . import compat, compose, look
from .buildctx import HUD, NEURON, NEURONS, OVERLAY, ROLE, SYNAPSE, SYNAPSES, BuildContext

#: Custom properties of the network's camera: the world-space box (lo, hi) the framing must show,
#: the camera's tilt, and where :func:`frame_camera` last put it (so a camera the user moved is left alone).
FRAME_BOX = "nna_frame_box"
FRAME_TILT = "nna_frame_tilt"
FRAMED_AT = "nna_framed_at"
#: A three-quarter view (the plane layout, look.view_angles): the camera's turn about +z, and the
#: world-space points (flat x, y, z list) the framing must show, used instead of the box's corners.
FRAME_AZIMUTH = "nna_frame_azimuth"
FRAME_POINTS = "nna_frame_points"


def frame_points(pts: np.ndarray, tilt: float, cam_data, aspect: float, margin: float = 1.15):
    """Camera location and rotation that look down by ``tilt`` along +Y and fit every point."""
    return frame_view(pts, tilt, 0.0, cam_data, aspect, margin)


def frame_view(pts: np.ndarray, tilt: float, azimuth: float, cam_data, aspect: float, margin: float = 1.15):
    """Camera location and rotation that look down by ``tilt`` along +Y, turned by ``azimuth`` about
    +z (look.view_basis), and fit every point."""
    right, up, fwd = look.view_basis(tilt, azimuth)
    # tangent of half the field of view; the sensor width spans the longer side (sensor fit AUTO)
    half = cam_data.sensor_width / (2 * cam_data.lens) / margin
    half_x, half_y = (half, half / aspect) if aspect >= 1 else (half * aspect, half)
    xs, ys, zs = pts @ right, pts @ up, pts @ fwd
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    # distance from the camera to the plane through (cx, cy) so every point fits
    need = np.maximum(np.abs(xs - cx) / half_x, np.abs(ys - cy) / half_y) - (zs - zs.min())
    dist = float(need.max()) + 0.5
    eye = cx * right + cy * up + (zs.min() - dist) * fwd
    return tuple(eye), (math.pi / 2 - tilt, 0.0, azimuth)


def _aspect(scene: bpy.types.Scene) -> float:
    r = scene.render
    return (r.resolution_x * r.pixel_aspect_x) / max(1.0, r.resolution_y * r.pixel_aspect_y)


def frame_camera(scene: bpy.types.Scene) -> bool:
    """Fit the network's camera to the scene's current frame shape (any aspect: 16:9, 1:1, 9:16...).

    Everything the build recorded in the camera's FRAME_BOX (neurons, labels, HUD, loss curve) is
    kept inside the frame with a margin. A camera the user moved or did not come from a build is
    left alone; returns whether the camera was (re)framed.
    """
    cam = scene.camera
    if cam is None or FRAME_BOX not in cam or cam.type != "CAMERA":
        return False
    at = cam.get(FRAMED_AT)
    if at is not None and any(abs(a - b) > 1e-4 for a, b in zip(at, (*cam.location, *cam.rotation_euler))):
        return False  # moved by the user since
    cam.data.sensor_fit = "AUTO"
    composed = compose.compose(scene, _aspect(scene))  # the HUD and the loss curve for this shape
    if composed is not None:
        if FRAME_POINTS in cam:
            cam[FRAME_POINTS] = [float(v) for v in composed.ravel()]
        else:
            cam[FRAME_BOX] = [float(v) for v in (*composed.min(axis=0), *composed.max(axis=0))]
    key, shape = (FRAME_POINTS, (-1, 3)) if FRAME_POINTS in cam else (FRAME_BOX, (2, 3))
    cam.location, cam.rotation_euler = _fit(scene, cam, np.asarray(cam[key], dtype=np.float64).reshape(shape))
    cam[FRAMED_AT] = [*cam.location, *cam.rotation_euler]
    return True


def _fit(scene: bpy.types.Scene, cam: bpy.types.Object, pts: np.ndarray):
    """Location and rotation of the build's camera showing ``pts``: every point for a three-quarter
    view (FRAME_POINTS), the corners of their box for the front view."""
    tilt = float(cam[FRAME_TILT])
    if FRAME_POINTS in cam:
        return frame_view(pts, tilt, float(cam.get(FRAME_AZIMUTH, 0.0)), cam.data, _aspect(scene))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    corners = np.array(
        [[(lo, hi)[i][0], (lo, hi)[j][1], (lo, hi)[k][2]] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    )
    return frame_points(corners, tilt, cam.data, _aspect(scene))


def _hud_extent(scene, hud: bpy.types.Object, frames) -> list[float]:
    """The HUD's local extent (x0, x1, y0, y1) per unit of text size, over its texts at ``frames``."""
    depsgraph = scene.view_layers[0].depsgraph
    boxes = []  # the build makes the HUD at text size 1 (scene._labels): its extent is per unit
    for f in frames:
        scene.frame_set(int(f))
        depsgraph.update()
        boxes.append(np.array([tuple(c) for c in hud.evaluated_get(depsgraph).bound_box]))
    bb = np.concatenate(boxes)
    if not np.isfinite(bb).all():
        return [0.0, 0.0, 0.0, 0.0]
    lo, hi = bb.min(axis=0), bb.max(axis=0)
    return [float(v) for v in (lo[0], hi[0], lo[1], hi[1])]


def network_view(scene: bpy.types.Scene, cam: bpy.types.Object):
    """Location and rotation of ``cam`` framing the network and its own labels only (not the HUD and
    the loss curve), for the scene's frame shape; None for a camera that is not a build's front or
    three-quarter camera (e.g. on an orbit rig). For exports that carry no text (glTF)."""
    info = cam.get(compose.INFO)
    if info is None or cam.parent is not None or FRAME_TILT not in cam:
        return None
    return _fit(scene, cam, np.asarray(info["points"], dtype=np.float64).reshape(-1, 3))


def camera_and_world(ctx: BuildContext, scene, extent, steps: list, view=None, points=None, hud_frames=()) -> None:
    """The camera (framed), the world and the key light. ``view`` (tilt, azimuth in radians) and
    ``points`` (the network's outline) give a three-quarter view (the plane layout); without them
    the front view along +y. ``hud_frames``: frames showing the HUD's longest texts (its extent,
    for compose.py, which arranges the HUD and the loss curve for the frame's shape)."""
    lo, hi = extent
    # the network and its own labels (numbers, class names), as shown during training
    pts = [lo, hi] if points is None else list(points)
    objs = [ob for ob in ctx.collection.objects if ob.get(ROLE) not in (NEURON, SYNAPSE, NEURONS, SYNAPSES)]
    labels_ = [ob for ob in objs if not ob.get(OVERLAY)]
    hud = next((ob for ob in objs if ob.get(ROLE) == HUD), None)
    if labels_:
        if steps:
            scene.frame_set(steps[0]["frame_start"])
        # the scene's own depsgraph: the scene need not be the window's (the operators build in their own)
        depsgraph = scene.view_layers[0].depsgraph
        depsgraph.update()
        for ob in labels_:
            ev = ob.evaluated_get(depsgraph)
            pts.extend(np.asarray(ev.matrix_world @ mathutils.Vector(c)) for c in ev.bound_box)
    pts = np.array(pts)
    frames = list(hud_frames) or ([steps[0]["frame_start"]] if steps else [scene.frame_current])
    hud_ext = _hud_extent(scene, hud, frames) if hud is not None else None
    cam_data = ctx.tag(bpy.data.cameras.new("NNA Camera"))
    cam_data.lens = 50
    cam_data.sensor_width = 36
    cam_data.clip_end = 1000
    cam = ctx.link(bpy.data.objects.new("NNA Camera", cam_data))
    tilt = look.front_tilt(np.ptp(pts[:, 1]))
    cam[FRAME_BOX] = [float(v) for v in (*pts.min(axis=0), *pts.max(axis=0))]
    if view is not None:
        tilt = float(view[0])
        cam[FRAME_AZIMUTH] = float(view[1])
        cam[FRAME_POINTS] = [float(v) for v in pts.ravel()]
        basis = look.view_basis(*view)
    else:
        basis = (np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), np.array([0, 1.0, 0]))
    cam[FRAME_TILT] = tilt
    compose.record(cam, basis, pts, hud_ext)
    scene.camera = cam
    frame_camera(scene)

    world = ctx.tag(bpy.data.worlds.new("NNA Dark"))
    bg = compat.ensure_node_tree(world).nodes.get("Background")
    if bg is not None:
        bg.inputs["Color"].default_value = (0.004, 0.005, 0.008, 1.0)
        bg.inputs["Strength"].default_value = 1.0
    world.color = (0.004, 0.005, 0.008)
    scene.world = world

    light_data = ctx.tag(bpy.data.lights.new("NNA Key light", "AREA"))
    light_data.energy = 400.0
    light_data.size = max(4.0, float(hi[0] - lo[0]))
    light = ctx.link(bpy.data.objects.new("NNA Key light", light_data))
    centre = (lo + hi) / 2
    light.location = (centre[0], lo[1] - 6.0, hi[2] + 4.0)
    light.rotation_euler = (math.radians(50), 0.0, 0.0)
