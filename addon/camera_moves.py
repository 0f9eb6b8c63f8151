"""Camera moves on top of the build's camera: ``front``, ``three-quarter`` and ``orbit``.

- ``front``: the build's own camera and framing (camera.py): the original's picture.
- ``three-quarter``: the camera on a rig (an empty at the network's centre) turned 35 degrees around
  the vertical and 20 degrees up, so that depth reads.
- ``orbit``: the rig, 15 degrees up, turns once around the network over the training, eased in and
  out (Bezier keys with flat ends: no jumps, no sudden start or stop), and rests at the front-on
  angle for the three stills (before, after, new situation).

The HUD and the loss curve are parented to the camera with its front-on pose as their rest, so
they stay exactly where they are on screen in the front view, readable from every camera; the
neurons' number labels stay beside their neurons. The framing fits the network as seen from every
angle the camera takes (every 30 degrees of the orbit) plus the HUD and the curve, for the scene's
frame shape, and is redone by :func:`reframe` when the frame shape changes (render.configure).
Optional depth of field (``dof``), focused on the network's centre, for the moving cameras.
"""

from __future__ import annotations

import math

import bpy
import mathutils
import numpy as np

from ..nncore.errors import NNCoreError
from . import camera, compat, compose
from .buildctx import TAG

CAMERAS = ("front", "three-quarter", "orbit")
RIG = "NNA Camera rig"
MODE = "nna_camera_mode"
#: The points the rig's framing must show (network, overlay: flat x, y, z lists) and the centre.
NET_POINTS = "nna_rig_net"
OVERLAY_POINTS = "nna_rig_overlay"
CENTRE = "nna_rig_centre"
FRAMED_AT = "nna_rig_framed_at"
#: (up, around) of the three-quarter camera, and the orbit's elevation, in degrees.
THREE_QUARTER = (20.0, 35.0)
ORBIT_UP = 15.0
#: The network's outline the build stores on its collection (scene.OUTLINE): every layer's box corners.
OUTLINE = "nna_outline"
_ORBIT_YAWS = tuple(math.radians(a) for a in range(0, 360, 30))
#: f-stop of the optional depth of field (the network stays sharp, the far side softens).
DOF_FSTOP = 2.8


def mode(scene: bpy.types.Scene) -> str:
    cam = scene.camera
    return cam.get(MODE, "front") if cam is not None else "front"


def _rig(cam: bpy.types.Object) -> bpy.types.Object | None:
    p = cam.parent
    return p if p is not None and p.name.startswith(RIG) else None


def _overlay(cam: bpy.types.Object) -> list[bpy.types.Object]:
    return compose.overlay(cam)


def _rotations(which: str) -> list[np.ndarray]:
    if which == "three-quarter":
        angles = [(-math.radians(THREE_QUARTER[0]), math.radians(THREE_QUARTER[1]))]
    else:
        angles = [(-math.radians(ORBIT_UP), yaw) for yaw in _ORBIT_YAWS]
    return [np.array(mathutils.Euler((pitch, 0.0, yaw)).to_matrix()) for pitch, yaw in angles]


def _outline(scene: bpy.types.Scene, cam: bpy.types.Object) -> tuple[np.ndarray, np.ndarray]:
    """World-space bounding-box corners of the network's objects and of its HUD and loss curve, at
    the first training frame (the HUD's longest text), with the rig at rest."""
    frame = scene.frame_current
    scene.frame_set((scene.nna.still_before or scene.frame_start) + 1)
    dg = scene.view_layers[0].depsgraph
    dg.update()
    net, overlay = [], []
    on_top = set(_overlay(cam))
    for ob in (ob for c in cam.users_collection for ob in c.objects):
        if ob.type not in ("MESH", "CURVE", "FONT") or ob == cam:
            continue
        ev = ob.evaluated_get(dg)
        corners = [np.asarray(ev.matrix_world @ mathutils.Vector(c)) for c in ev.bound_box]
        (overlay if ob in on_top else net).extend(corners)
    scene.frame_set(frame)
    for coll in cam.users_collection:  # instanced objects' bounding boxes leave out their instances
        if OUTLINE in coll:
            net.extend(np.asarray(coll[OUTLINE], dtype=np.float64).reshape(-1, 3))
    net = np.array(net) if net else np.zeros((1, 3))
    return net, (np.array(overlay) if overlay else net)


def set_camera(scene: bpy.types.Scene, which: str, dof: bool = False) -> None:
    """Give the network's camera the move ``which`` (one of CAMERAS) and frame it."""
    if which not in CAMERAS:
        raise NNCoreError(f"camera: {which!r} is not one of {', '.join(CAMERAS)}")
    cam = scene.camera
    if cam is None or camera.FRAME_BOX not in cam:
        raise NNCoreError("camera: the scene has no network camera; build the network first")
    rig = _rig(cam)
    if rig is not None:  # back to the rest: the build's own camera, then the new move from there
        _unrig(cam, rig)
    cam.data.dof.use_dof = False
    cam[MODE] = which
    if which == "front":
        cam.pop(camera.FRAMED_AT, None)
        camera.frame_camera(scene)
        return
    compose.compose(scene, _aspect(scene))  # the HUD and the curve arranged for the frame's shape
    net, overlay = _outline(scene, cam)
    centre = (net.min(axis=0) + net.max(axis=0)) / 2
    cam[NET_POINTS] = [float(v) for v in net.ravel()]
    cam[OVERLAY_POINTS] = [float(v) for v in overlay.ravel()]
    cam[CENTRE] = [float(v) for v in centre]
    rig = bpy.data.objects.new(RIG, None)
    rig.empty_display_size = 0.5
    if TAG in cam:
        rig[TAG] = cam[TAG]  # removed with the build
    for coll in cam.users_collection:
        coll.objects.link(rig)
    rig.location = tuple(centre)
    cam.parent = rig
    cam.matrix_parent_inverse = mathutils.Matrix.Identity(4)
    for ob in _overlay(cam):
        ob.parent = cam
    if which == "three-quarter":
        rig.rotation_euler = (-math.radians(THREE_QUARTER[0]), 0.0, math.radians(THREE_QUARTER[1]))
    else:
        _orbit_keys(scene, rig)
    cam.pop(FRAMED_AT, None)
    reframe(scene)
    cam.data.dof.use_dof = bool(dof)
    cam.data.dof.focus_object = rig
    cam.data.dof.aperture_fstop = DOF_FSTOP


def _unrig(cam: bpy.types.Object, rig: bpy.types.Object) -> None:
    """Undo :func:`set_camera`'s rig: the camera and the overlay back at their front-on rest."""
    centre = mathutils.Matrix.Translation(mathutils.Vector(cam.get(CENTRE, (0.0, 0.0, 0.0))))
    cam_rest = centre @ cam.matrix_basis
    for ob in _overlay(cam):
        basis = ob.matrix_basis.copy()
        ob.parent = None
        ob.matrix_parent_inverse = mathutils.Matrix.Identity(4)
        ob.matrix_basis = basis  # the overlay's own transform is its rest in the world
    cam.parent = None
    cam.matrix_basis = cam_rest
    bpy.data.objects.remove(rig)


def reframe(scene: bpy.types.Scene) -> bool:
    """Fit the camera to the frame's shape again (the front camera through camera.frame_camera). A rig
    the user moved is left alone; returns whether the camera was framed."""
    cam = scene.camera
    if cam is None or cam.get(MODE, "front") == "front" or _rig(cam) is None:
        return camera.frame_camera(scene)
    at = cam.get(FRAMED_AT)
    if at is not None and any(abs(a - b) > 1e-4 for a, b in zip(at, (*cam.location, *cam.rotation_euler))):
        return False
    if compose.INFO in cam and abs(cam.get(compose.ARRANGED_FOR, 0.0) - _aspect(scene)) > 1e-6:
        set_camera(scene, cam[MODE], cam.data.dof.use_dof)  # a new shape: the overlay re-arranged, the rig again
        return True
    centre = np.asarray(cam[CENTRE], dtype=np.float64)
    net = np.asarray(cam[NET_POINTS], dtype=np.float64).reshape(-1, 3) - centre
    pts = [net @ r + centre for r in _rotations(cam[MODE])]  # each row times r^T: the world seen from the rig
    pts.append(np.asarray(cam[OVERLAY_POINTS], dtype=np.float64).reshape(-1, 3))
    cam.data.sensor_fit = "AUTO"
    loc, rot = camera.frame_points(np.concatenate(pts), float(cam[camera.FRAME_TILT]), cam.data, _aspect(scene))
    cam.location, cam.rotation_euler = tuple(np.asarray(loc) - centre), rot
    cam[FRAMED_AT] = [*cam.location, *cam.rotation_euler]
    rest = mathutils.Matrix.Translation(mathutils.Vector(centre)) @ cam.matrix_basis
    for ob in _overlay(cam):
        ob.matrix_parent_inverse = rest.inverted()
    return True


def _aspect(scene: bpy.types.Scene) -> float:
    r = scene.render
    return (r.resolution_x * r.pixel_aspect_x) / max(1.0, r.resolution_y * r.pixel_aspect_y)


def _orbit_keys(scene: bpy.types.Scene, rig: bpy.types.Object) -> None:
    """One turn from the end of "before" to the first frame of "after"; then at rest."""
    pg = scene.nna
    start = pg.still_before or scene.frame_start
    end = max(start + 1, pg.after_start or scene.frame_end)
    rig.rotation_euler = (-math.radians(ORBIT_UP), 0.0, 0.0)
    rig.keyframe_insert("rotation_euler", index=2, frame=start)
    rig.rotation_euler[2] = 2 * math.pi
    rig.keyframe_insert("rotation_euler", index=2, frame=end)
    for fc in compat.action_fcurves(rig.animation_data.action):
        for kp in fc.keyframe_points:
            kp.interpolation = "BEZIER"
            kp.handle_left_type = kp.handle_right_type = "AUTO_CLAMPED"  # flat at both ends: eased
        fc.update()
