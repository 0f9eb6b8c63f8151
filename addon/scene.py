"""Build the animated network from a keyframe plan: the add-on's plain-Python API.

``build_network(plan, scene)`` validates the plan and builds a new network in its own collection;
only when the new one is complete is the scene's previous network removed (a failure removes what
the new build made and puts the scene's camera, world and timing back). Operators and the command
line call only this.

The operators build into the add-on's own scene (:func:`network_scene`, "NN Animator"), never into
the user's: the user's objects (the startup Cube, Light, Camera), render settings and compositor
stay as they are, and renders show only the network.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import bpy
import numpy as np

from ..nncore import limits
from ..nncore import plan as plan_io
from ..nncore.errors import NNCoreError
from . import compat, instanced, keys, look, materials, meshes
from .buildctx import NEURON, ROLE, SYNAPSE, TAG, BuildContext
from .camera import camera_and_world

#: Largest network built interactively (big networks are instanced: see representation()).
#: The largest network built interactively: one source for them, nncore.limits (the panel and the
#: command line check them before training).
MAX_NEURONS = limits.MAX_NEURONS
MAX_SYNAPSES = limits.MAX_SYNAPSES
#: Neuron labels (activity numbers) are drawn only for layers up to this size (not on input images).
MAX_LABELLED_LAYER = 16

#: The two representations of a network in Blender, chosen by :func:`representation` (only there).
OBJECTS = "objects"
INSTANCED = "instanced"
#: A network of at most this many synapses, every synapse layer of them dense (look.DENSE_LAYER),
#: is built one animated object per neuron and synapse (the glTF export needs that); any other
#: network is instanced (instanced.py): a few objects whose Geometry Nodes draw every neuron and
#: synapse from tables of the plan's keys. Both render the same pixels.
PER_OBJECT_MAX_SYNAPSES = limits.PER_OBJECT_MAX_SYNAPSES  # (nncore.limits.per_object: the rule)

COLLECTION_PREFIX = "Neural Network"
#: The scene the operators build into (made on the first build, reused afterwards).
SCENE_NAME = "NN Animator"

#: ID collections of bpy.data that a build may create datablocks in.
_DATA = (
    "objects",
    "meshes",
    "materials",
    "node_groups",
    "actions",
    "cameras",
    "lights",
    "worlds",
    "curves",
    "collections",
)


class BuildError(NNCoreError):
    """The plan is fine but cannot be built here (e.g. too large)."""


@dataclass
class BuildResult:
    collection: bpy.types.Collection
    build_id: str
    n_neurons: int
    n_synapses: int  # drawn (look.drawn_synapses: all of them unless a layer has more than look.MAX_DRAWN)
    n_keys: int  # keyframes (OBJECTS) or keyed values in the tables (INSTANCED)
    frame_end: int
    representation: str = OBJECTS


def representation(layers) -> str:
    """OBJECTS or INSTANCED for a network of these layer sizes: the one place the choice is made."""
    return OBJECTS if limits.per_object(layers) else INSTANCED


def check_size(layers) -> None:
    """Refuse (one line) a network larger than the interactive limits (nncore.limits.check_buildable)."""
    try:
        limits.check_buildable(layers)
    except NNCoreError as exc:
        raise BuildError(str(exc)) from None


def tagged(build_id: str) -> list[bpy.types.ID]:
    """Every datablock made by build ``build_id``."""
    out = []
    for attr in _DATA:
        out.extend(idb for idb in getattr(bpy.data, attr) if idb.get(TAG) == build_id)
    return out


def remove_build(build_id: str) -> None:
    """Remove everything build ``build_id`` made (objects, data, actions, node groups...)."""
    if not build_id:
        return
    ids = tagged(build_id)
    if ids:
        bpy.data.batch_remove(ids)


def _set_aside(build_id: str) -> list[tuple[bpy.types.ID, str]]:
    """Rename build ``build_id``'s datablocks out of the way of a new build; the (datablock, name)
    pairs to put them back if the new build fails."""
    renamed = [(idb, idb.name) for idb in tagged(build_id)] if build_id else []
    for idb, name in renamed:
        idb.name = f"{name[:50]} (replaced)"
    return renamed


def _keyed(ctx: BuildContext, ob, channels, rows, item: int) -> int:
    """Give ob a tagged action with one F-curve per channel, filled from row ``item`` of each
    channel's prepared ``(co, interp)`` (see keys.interleave); returns the number of keys."""
    fcs = compat.new_action_fcurves(ob, ob.name, channels)
    ctx.tag(ob.animation_data.action)
    for fc, (co, interp) in zip(fcs, rows):
        keys.write_co(fc, co[item], interp)
    return sum(len(interp) for _, interp in rows)


def _track(tr: dict):
    frames = np.asarray(tr["frames"], dtype=np.float32)
    values = np.asarray(tr["values"], dtype=np.float32)
    interp = keys.interpolation_codes(tr["interpolation"])
    return frames, values, interp


def build_network(
    plan: dict,
    scene: bpy.types.Scene | None = None,
    progress: Callable[[float, str], None] | None = None,
    labels: bool = True,
    kind: str | None = None,
) -> BuildResult:
    """Build the network of ``plan`` (validated first) in ``scene``; replace its previous network.

    ``kind`` (OBJECTS or INSTANCED) overrides :func:`representation`'s choice (tests and
    benchmarks build the same plan both ways).

    Bad input raises :class:`~nncore.errors.NNCoreError` before the scene is touched. Any failure
    while building (any exception) removes what this build made and restores the scene's camera,
    world, frame range and rate: the previous network is still there.
    """
    plan_io.validate(plan)
    layers = plan["network"]["layers"]
    check_size(layers)
    kind = kind or representation(layers)
    if kind not in (OBJECTS, INSTANCED):
        raise ValueError(f"kind: {kind!r} is not one of {OBJECTS}, {INSTANCED}")
    scene = scene or bpy.context.scene
    report = progress or (lambda f, t: None)

    old = scene.nna.build_id
    aside = _set_aside(old)  # so the new build gets the same names ("NNA Camera", not "NNA Camera.001")
    saved = _save_scene_state(scene)
    build_id = uuid.uuid4().hex[:12]
    coll = bpy.data.collections.new(f"{COLLECTION_PREFIX} ({plan.get('preset') or 'plan'})")
    ctx = BuildContext(build_id, coll)
    ctx.tag(coll)
    scene.collection.children.link(coll)
    try:
        result = _build(ctx, plan, scene, report, labels, kind)
    except BaseException as exc:
        remove_build(build_id)
        _restore_scene_state(scene, saved)
        for idb, name in aside:
            idb.name = name
        if isinstance(exc, instanced.TableTooLarge):
            raise BuildError(f"network too large to build: {exc}") from None
        raise
    remove_build(old)
    st = plan["states"]
    pg = scene.nna
    pg.build_id = build_id
    pg.built_preset = str(plan.get("preset") or "")
    # the three stills of the original: idle before and after training, and the new situation
    pg.still_before = st["before"]["frame_end"]
    pg.still_after = st["after"]["frame_end"]
    pg.still_new_situation = st["query"]["frame_end"]
    pg.after_start = st["after"]["frame_start"]
    pg.render_quality = ""
    pg.retime.active = False
    coll[REPRESENTATION] = kind
    return result


#: Custom properties of the network's collection: how it was built (OBJECTS or INSTANCED), and the
#: world-space corners of every layer's box (flat x, y, z list; :func:`_outline`).
REPRESENTATION = "nna_representation"
OUTLINE = "nna_outline"


def built_representation(scene: bpy.types.Scene) -> str | None:
    """OBJECTS or INSTANCED for the network built in ``scene`` (None if there is none)."""
    build_id = scene.nna.build_id
    if not build_id:
        return None
    coll = next((c for c in bpy.data.collections if c.get(TAG) == build_id), None)
    return coll.get(REPRESENTATION) if coll is not None else None


_SCENE_STATE = ("camera", "world", "frame_start", "frame_end", "frame_current")
_RENDER_STATE = ("fps", "fps_base", "frame_map_old", "frame_map_new")


def _save_scene_state(scene: bpy.types.Scene) -> dict:
    return {
        "scene": [(a, getattr(scene, a)) for a in _SCENE_STATE],
        "render": [(a, getattr(scene.render, a)) for a in _RENDER_STATE],
    }


def _restore_scene_state(scene: bpy.types.Scene, saved: dict) -> None:
    for attr, value in saved["render"]:
        setattr(scene.render, attr, value)
    values = dict(saved["scene"])
    scene.camera, scene.world = values["camera"], values["world"]
    if values["frame_start"] > scene.frame_end:  # an order Blender's start <= end clamping cannot spoil
        scene.frame_end, scene.frame_start = values["frame_end"], values["frame_start"]
    else:
        scene.frame_start, scene.frame_end = values["frame_start"], values["frame_end"]
    scene.frame_set(values["frame_current"])


def network_scene(context=None, create: bool = True) -> bpy.types.Scene | None:
    """The add-on's own scene: the window's scene if it is one, else the newest one made before,
    else (``create``) a new, empty scene named "NN Animator" (not yet shown; see :func:`show_scene`)."""
    context = context or bpy.context
    if context.scene is not None and context.scene.nna.is_network_scene:
        return context.scene
    ours = [sc for sc in bpy.data.scenes if sc.nna.is_network_scene]
    if ours:
        return ours[-1]
    if not create:
        return None
    sc = bpy.data.scenes.new(SCENE_NAME)
    sc.nna.is_network_scene = True
    # the panel's settings travel with the user to the new scene
    for prop in context.scene.nna.bl_rna.properties:
        key = prop.identifier
        if key in _CARRIED:
            setattr(sc.nna, key, getattr(context.scene.nna, key))
    return sc


#: Panel settings copied from the user's scene into the network's scene when it is made.
_CARRIED = (
    "preset", "csv_path", "layers", "activation", "bias", "learning_rate", "cycles", "batch", "seed", "show",
    "fps", "forward_seconds", "backward_seconds", "hold_seconds", "query", "quality", "frame_shape",
    "duration", "fit", "audio_path", "camera_mode", "dof",
)  # fmt: skip


def find_built_scene(context=None) -> bpy.types.Scene | None:
    """The scene holding a network: the window's, else the add-on's own (None if there is none)."""
    context = context or bpy.context
    if context.scene is not None and context.scene.nna.build_id:
        return context.scene
    return next((sc for sc in reversed(bpy.data.scenes) if sc.nna.is_network_scene and sc.nna.build_id), None)


def show_scene(context, scene: bpy.types.Scene) -> None:
    """Make ``scene`` the window's scene (the user's own scene stays in the file, untouched)."""
    win = getattr(context, "window", None)
    if win is None:  # a background Blender without an active window: its file's first window
        windows = context.window_manager.windows
        win = windows[0] if len(windows) else None
    if win is not None and win.scene != scene:
        win.scene = scene


def _build(ctx: BuildContext, plan: dict, scene, report, labels: bool, kind: str = OBJECTS) -> BuildResult:
    layers = plan["network"]["layers"]
    pos = look.layer_positions(layers)
    if kind == INSTANCED:
        n_neurons, n_syn, n_keys = instanced.build(ctx, plan, pos, report)
    else:
        n_neurons, n_syn, n_keys = _build_objects(ctx, plan, pos, report)

    # labels, camera, world ------------------------------------------------------------
    view = look.view_angles(layers)
    points = _outline(layers, pos)
    # where the network is, for camera code: instanced objects' bound boxes do not include their instances
    ctx.collection[OUTLINE] = [float(v) for v in points.ravel()]
    extent = np.stack([points.min(axis=0), points.max(axis=0)])
    if labels:
        report(0.85, "labels")
        _labels(ctx, plan, pos, view)
    report(0.95, "camera")
    camera_and_world(
        ctx, scene, extent, plan["steps"], view=view, points=points if view else None, hud_frames=_hud_frames(plan)
    )
    tm = plan["timing"]
    scene.frame_start = tm["frame_start"]
    scene.frame_end = tm["frame_end"]
    scene.render.fps = tm["fps"]
    scene.render.fps_base = 1.0
    scene.render.frame_map_old = scene.render.frame_map_new = 100  # no time remapping (render.configure)
    scene.frame_set(tm["frame_start"])
    report(1.0, "done")
    return BuildResult(ctx.collection, ctx.build_id, n_neurons, n_syn, n_keys, tm["frame_end"], kind)


def _build_objects(ctx: BuildContext, plan: dict, pos, report) -> tuple[int, int, int]:
    """One animated object per neuron and synapse (keyed custom properties, materials reading them
    with Attribute nodes of type OBJECT); returns (neurons, synapses, keyframes)."""
    layers = plan["network"]["layers"]
    n_seg = len(layers) - 1
    r_scale = look.radius_scale(layers)
    n_keys = 0

    # neurons ---------------------------------------------------------------------------
    report(0.05, "neurons")
    sphere = meshes.sphere(ctx)
    sphere.materials.append(materials.neuron_material(ctx))
    frames, values, interp = _track(plan["tracks"]["neuron_activity"])
    act_rows = [(keys.interleave(frames, values, values.shape[1]), interp)]
    act_channels = [(f'["{materials.ACTIVITY}"]', 0)]
    offsets = np.concatenate([[0], np.cumsum(layers)])
    neurons = []
    for k, n in enumerate(layers):
        shape, size = sphere, look.NEURON_RADIUS
        if look.is_image(k, n):  # an input image: a tile per pixel
            shape, size = meshes.tile(ctx), look.tile_size(k, n)
            if not shape.materials:
                shape.materials.append(materials.pixel_material(ctx))
        for i in range(n):
            ob = ctx.link(bpy.data.objects.new(f"NNA Neuron {k}.{i:03d}", shape))
            ob.location = pos[k][i]
            ob.scale = (size,) * 3
            ob[ROLE] = NEURON
            ob["nna_layer"] = k
            ob["nna_index"] = i
            ob[materials.ACTIVITY] = 0.0
            n_keys += _keyed(ctx, ob, act_channels, act_rows, offsets[k] + i)
            neurons.append(ob)

    # synapses --------------------------------------------------------------------------
    report(0.2, "synapses")
    cyl = meshes.cylinder(ctx, meshes.cylinder_sides(sum(a * b for a, b in zip(layers[:-1], layers[1:]))))
    cyl.materials.append(materials.synapse_material(ctx))
    inhibit = materials.synapse_inhibit_material(ctx)
    n_syn = 0
    channels = [("scale", 0), ("scale", 1)] + [
        (f'["{p}"]', 0)
        for p in (materials.WEIGHT, materials.SIGNAL, materials.FORWARD, materials.BACKWARD, materials.ERROR)
    ]
    for k, group in enumerate(plan["tracks"]["synapse_layers"]):
        src, dst = np.asarray(group["source"]), np.asarray(group["target"])
        # geometry of the whole layer at once: origin at the sender, +Z along the synapse
        start, d = pos[k][src], pos[k + 1][dst] - pos[k][src]
        length = np.linalg.norm(d, axis=1)
        pitch = np.arccos(np.clip(d[:, 2] / length, -1.0, 1.0))
        yaw = np.arctan2(d[:, 1], d[:, 0])
        # key rows per channel, prepared in bulk: (n_synapses, 2K) interleaved frame/value
        w = _track(group["weight"])
        radius = look.synapse_radius_keys(w[1], len(src), r_scale)
        dim, inv = look.fade_params(w[1], len(src))
        trained = w[1][-1]
        per_item = [
            (w[0], radius, w[2]),
            (w[0], radius, w[2]),
            w,
            _track(group["signal"]),
            _track(group["forward"]),
            _track(group["backward"]),
            _track(group["error"]),
        ]
        rows = [(keys.interleave(f, v, len(src)), ip) for f, v, ip in per_item]
        for s in look.drawn_synapses(w[1], dst, layers[k + 1]):
            i, j = int(src[s]), int(dst[s])
            ob = ctx.link(bpy.data.objects.new(f"NNA Synapse {k}.{j:03d}.{i:03d}", cyl))
            ob.location = start[s]
            ob.rotation_euler = (0.0, pitch[s], yaw[s])
            ob.scale = (radius[0, s], radius[0, s], length[s])
            ob[ROLE] = SYNAPSE
            ob["nna_layer"] = k
            ob["nna_index"] = int(s)
            ob["nna_source"] = i
            ob["nna_target"] = j
            for _path, _ in channels[2:]:
                ob[_path[2:-2]] = 0.0
            if dim:  # a big layer: the material's fade (look.synapse_fade)
                ob[materials.DIM], ob[materials.INVERSE_PEAK] = dim, inv
            n_keys += _keyed(ctx, ob, channels, rows, s)
            if trained[s] < 0:  # Solid shading shows the trained sign (see materials.synapse_inhibit_material)
                ob.material_slots[0].link = "OBJECT"
                ob.material_slots[0].material = inhibit
            n_syn += 1
        report(0.2 + 0.6 * (k + 1) / n_seg, f"synapses of layer {k + 1}")
    return len(neurons), n_syn, n_keys


def _outline(layers, pos: list[np.ndarray]) -> np.ndarray:
    """The corners of every layer's box (its neurons, each with its extent): what the camera must show."""
    out = []
    for k, p in enumerate(pos):
        r = look.neuron_extent(k, len(p))
        lo, hi = p.min(axis=0) - r, p.max(axis=0) + r
        out.extend([lo[0], y, z] for y in (lo[1], hi[1]) for z in (lo[2], hi[2]))
        out.extend([hi[0], y, z] for y in (lo[1], hi[1]) for z in (lo[2], hi[2]))
    return np.array(out, dtype=np.float64)


def class_names(plan: dict) -> list[str]:
    """Names of the output neurons when the output is a choice between classes (2 or more
    outputs): the plan's ``training.class_names``, else the CSV header's target columns, else 0, 1,
    2, ...; [] for a single output."""
    n_out = plan["network"]["layers"][-1]
    if n_out < 2:
        return []
    names = plan["training"].get("class_names") or []
    if len(names) == n_out:
        return [str(n) for n in names]
    header = plan["training"].get("header") or []
    if len(header) >= n_out:
        return [str(h) for h in header[-n_out:]]
    return [str(i) for i in range(n_out)]


def _hud_frames(plan: dict) -> list[int]:
    """Frames showing the HUD's longest texts: the first and last entry of every phase."""
    text = plan["tracks"]["text"]
    phase = np.asarray(text["phase"])
    frames = np.asarray(text["frames"])
    out = set()
    for p in np.unique(phase):
        idx = np.flatnonzero(phase == p)
        out.update((int(frames[idx[0]]), int(frames[idx[-1]])))
    return sorted(out)


def _labels(ctx: BuildContext, plan: dict, pos, view=None) -> None:
    """Activity numbers beside the neurons of small layers, the output classes' names, the HUD and
    the loss curve. ``view`` (tilt, azimuth) for the plane layout's three-quarter camera: everything
    then faces that camera; None: the front view (everything in the x-z plane)."""
    from . import labels as lab

    act = plan["tracks"]["neuron_activity"]
    frames = np.asarray(act["frames"], dtype=np.float32)
    values = np.asarray(act["values"], dtype=np.float32)
    layers = plan["network"]["layers"]
    offsets = np.concatenate([[0], np.cumsum(layers)])
    r = look.NEURON_RADIUS
    if view is None:
        rotation = lab.FACING_CAMERA
        right, up, fwd = np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), np.array([0, 1.0, 0])
    else:
        rotation = (np.pi / 2 - view[0], 0.0, view[1])
        right, up, fwd = look.view_basis(*view)
    names = class_names(plan)
    name_size = look.CLASS_NAME_SIZE if view is None else look.PLANE_LABEL_SIZE
    for k, p in enumerate(pos):
        if len(p) > MAX_LABELLED_LAYER or look.is_image(k, len(p)):
            continue
        # the plane layout's output column takes bigger labels (its networks are large)
        label_size = look.PLANE_LABEL_SIZE if view is not None and k == len(pos) - 1 else look.LABEL_SIZE
        for i, c in enumerate(p):
            if view is None:
                loc = (c[0] + r + 0.1, c[1] - r, c[2] - 0.35 * label_size)
            else:  # beside the neuron, after the class name if it has one
                gap = r + 0.15
                if k == len(pos) - 1 and names:
                    gap += 0.6 * name_size * max(len(n) for n in names) + 0.35
                loc = tuple(c + gap * right - r * fwd - 0.35 * label_size * up)
            lab.number_label(
                ctx,
                f"NNA Label {k}.{i:03d}",
                loc,
                frames,
                values[:, offsets[k] + i],
                decimals=2,
                size=label_size,
                rotation=rotation,
            )
    for i, name in enumerate(names):
        c = pos[-1][i]
        if view is None:  # above the output neuron
            lab.text_label(ctx, f"NNA Class {i:03d}", name, tuple(c + (r + 0.3) * up - r * fwd), name_size, rotation)
        else:  # to its right
            at = tuple(c + (r + 0.25) * right - r * fwd - 0.35 * name_size * up)
            lab.text_label(ctx, f"NNA Class {i:03d}", name, at, name_size, rotation, align="LEFT")
    # the HUD (at text size 1: camera.py measures it) and the loss curve; compose.py arranges and
    # sizes both for the frame's shape whenever the camera is framed
    lab.hud(ctx, plan, (0.0, 0.0, 0.0), 1.0, rotation=rotation, classes=names)
    lab.loss_curve(ctx, plan, (0.0, 0.0, 0.0), 4.0, 2.0, label_size=0.3, rotation=rotation)
