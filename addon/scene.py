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

from ..nncore import plan as plan_io
from ..nncore.errors import NNCoreError
from . import compat, keys, look, materials
from .buildctx import NEURON, ROLE, SYNAPSE, TAG, BuildContext
from .camera import camera_and_world

#: Largest network built interactively: each neuron and synapse is an animated object.
MAX_NEURONS = 600
MAX_SYNAPSES = 12_000
#: Neuron labels (activity numbers) are drawn only for layers up to this size.
MAX_LABELLED_LAYER = 16

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
    n_synapses: int
    n_keys: int
    frame_end: int


def check_size(layers) -> None:
    n_neurons = sum(layers)
    n_syn = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    if n_neurons > MAX_NEURONS or n_syn > MAX_SYNAPSES:
        raise BuildError(
            f"network too large to build interactively: {n_neurons:,} neurons and {n_syn:,} synapses "
            f"(limits {MAX_NEURONS:,} and {MAX_SYNAPSES:,})"
        )


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


def _sphere_mesh(ctx: BuildContext) -> bpy.types.Mesh:
    import bmesh

    me = ctx.tag(bpy.data.meshes.new("NNA Neuron"))
    bm = bmesh.new()
    bmesh.ops.create_uvsphere(bm, u_segments=24, v_segments=12, radius=1.0)
    bm.to_mesh(me)
    bm.free()
    if hasattr(me, "shade_smooth"):
        me.shade_smooth()
    return me


def _cylinder_mesh(ctx: BuildContext, sides: int) -> bpy.types.Mesh:
    """Radius 1, from z = 0 to z = 1, open ends: scaled per synapse to (r, r, length)."""
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a)], axis=1)
    verts = np.concatenate([np.c_[ring, np.zeros(sides)], np.c_[ring, np.ones(sides)]]).astype(np.float32)
    i = np.arange(sides)
    faces = np.stack([i, (i + 1) % sides, (i + 1) % sides + sides, i + sides], axis=1)
    me = ctx.tag(bpy.data.meshes.new("NNA Synapse"))
    me.from_pydata(verts.tolist(), [], faces.tolist())
    me.update()
    if hasattr(me, "shade_smooth"):
        me.shade_smooth()
    return me


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
) -> BuildResult:
    """Build the network of ``plan`` (validated first) in ``scene``; replace its previous network.

    Bad input raises :class:`~nncore.errors.NNCoreError` before the scene is touched. Any failure
    while building (any exception) removes what this build made and restores the scene's camera,
    world, frame range and rate: the previous network is still there.
    """
    plan_io.validate(plan)
    layers = plan["network"]["layers"]
    check_size(layers)
    scene = scene or bpy.context.scene
    report = progress or (lambda f, t: None)

    old = scene.nna.build_id
    saved = _save_scene_state(scene)
    build_id = uuid.uuid4().hex[:12]
    coll = bpy.data.collections.new(f"{COLLECTION_PREFIX} ({plan.get('preset') or 'plan'})")
    ctx = BuildContext(build_id, coll)
    ctx.tag(coll)
    scene.collection.children.link(coll)
    try:
        result = _build(ctx, plan, scene, report, labels)
    except BaseException:
        remove_build(build_id)
        _restore_scene_state(scene, saved)
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
    return result


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
    if win is not None and win.scene != scene:
        win.scene = scene


def _build(ctx: BuildContext, plan: dict, scene, report, labels: bool) -> BuildResult:
    layers = plan["network"]["layers"]
    n_seg = len(layers) - 1
    pos = look.layer_positions(layers)
    r_scale = look.radius_scale(layers)
    n_keys = 0

    # neurons ---------------------------------------------------------------------------
    report(0.05, "neurons")
    sphere = _sphere_mesh(ctx)
    sphere.materials.append(materials.neuron_material(ctx))
    frames, values, interp = _track(plan["tracks"]["neuron_activity"])
    act_rows = [(keys.interleave(frames, values, values.shape[1]), interp)]
    act_channels = [(f'["{materials.ACTIVITY}"]', 0)]
    offsets = np.concatenate([[0], np.cumsum(layers)])
    neurons = []
    for k, n in enumerate(layers):
        for i in range(n):
            ob = ctx.link(bpy.data.objects.new(f"NNA Neuron {k}.{i:03d}", sphere))
            ob.location = pos[k][i]
            ob.scale = (look.NEURON_RADIUS,) * 3
            ob[ROLE] = NEURON
            ob["nna_layer"] = k
            ob["nna_index"] = i
            ob[materials.ACTIVITY] = 0.0
            n_keys += _keyed(ctx, ob, act_channels, act_rows, offsets[k] + i)
            neurons.append(ob)

    # synapses --------------------------------------------------------------------------
    report(0.2, "synapses")
    sides = 8 if sum(a * b for a, b in zip(layers[:-1], layers[1:])) > 500 else 12
    cyl = _cylinder_mesh(ctx, sides)
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
        radius = look.synapse_radius(w[1], r_scale)
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
        for s in range(len(src)):
            i, j = int(src[s]), int(dst[s])
            ob = ctx.link(bpy.data.objects.new(f"NNA Synapse {k}.{j:03d}.{i:03d}", cyl))
            ob.location = start[s]
            ob.rotation_euler = (0.0, pitch[s], yaw[s])
            ob.scale = (radius[0, s], radius[0, s], length[s])
            ob[ROLE] = SYNAPSE
            ob["nna_layer"] = k
            ob["nna_index"] = s
            ob["nna_source"] = i
            ob["nna_target"] = j
            for _path, _ in channels[2:]:
                ob[_path[2:-2]] = 0.0
            n_keys += _keyed(ctx, ob, channels, rows, s)
            if trained[s] < 0:  # Solid shading shows the trained sign (see materials.synapse_inhibit_material)
                ob.material_slots[0].link = "OBJECT"
                ob.material_slots[0].material = inhibit
            n_syn += 1
        report(0.2 + 0.6 * (k + 1) / n_seg, f"synapses of layer {k + 1}")

    # labels, camera, world ------------------------------------------------------------
    extent = _bounds(pos)
    if labels:
        report(0.85, "labels")
        _labels(ctx, plan, pos, extent)
    report(0.95, "camera")
    camera_and_world(ctx, scene, extent, plan["steps"])
    tm = plan["timing"]
    scene.frame_start = tm["frame_start"]
    scene.frame_end = tm["frame_end"]
    scene.render.fps = tm["fps"]
    scene.render.fps_base = 1.0
    scene.render.frame_map_old = scene.render.frame_map_new = 100  # no time remapping (render.configure)
    scene.frame_set(tm["frame_start"])
    report(1.0, "done")
    return BuildResult(ctx.collection, ctx.build_id, len(neurons), n_syn, n_keys, tm["frame_end"])


def _bounds(pos: list[np.ndarray]) -> np.ndarray:
    allp = np.concatenate(pos)
    lo = allp.min(axis=0) - look.NEURON_RADIUS
    hi = allp.max(axis=0) + look.NEURON_RADIUS
    return np.stack([lo, hi])


def _labels(ctx: BuildContext, plan: dict, pos, extent) -> None:
    from . import labels as lab

    act = plan["tracks"]["neuron_activity"]
    frames = np.asarray(act["frames"], dtype=np.float32)
    values = np.asarray(act["values"], dtype=np.float32)
    offsets = np.concatenate([[0], np.cumsum(plan["network"]["layers"])])
    for k, p in enumerate(pos):
        if len(p) > MAX_LABELLED_LAYER:
            continue
        for i, c in enumerate(p):
            loc = (c[0] + look.NEURON_RADIUS + 0.15, c[1] - look.NEURON_RADIUS, c[2] - 0.12)
            lab.number_label(
                ctx, f"NNA Label {k}.{i:03d}", loc, frames, values[:, offsets[k] + i], decimals=2, size=0.32
            )
    (lo, hi) = extent
    width, height = hi[0] - lo[0], hi[2] - lo[2]
    size = look.text_size(width, height)
    # HUD above the network (three lines, first baseline at the location), loss curve to the right
    lab.hud(ctx, plan, (lo[0], lo[1], hi[2] + 5.5 * size), size)
    curve_w = max(3.0, 0.35 * max(width, height))
    curve_h = max(2.0, 0.55 * height)
    lab.loss_curve(ctx, plan, (hi[0] + 3 * size, lo[1], lo[2] + 2 * size), curve_w, curve_h, label_size=size)
