"""Export the built network as one animated glTF binary (.glb) for web viewers.

``export_glb(scene, path)`` writes the neurons, the synapses and the network's camera with the
whole animation as ONE clip (named after the scene):

* node animation (core glTF): every synapse's keyed scale (its radius follows the weight), and the
  camera's translation and rotation when it moves (the orbit camera);
* the glow, as ``KHR_animation_pointer`` channels on each material's ``emissiveFactor`` and
  ``KHR_materials_emissive_strength/emissiveStrength``.

Blender's exporter writes only the static scene (nodes, meshes, the camera; no materials, no
animation), which costs about the same for any length of timeline. The animation is computed here
in numpy from the scene's F-curves (:func:`sample_fcurve`) at every frame of the scene, with the
formulas of ``look.py``: every neuron and synapse gets its own material (the scene's materials are
shared and read keyed per-object custom properties through Attribute nodes, which glTF cannot
express), and the samplers keep only the keys that linear interpolation does not restore exactly
(:func:`_linear_keys`, about 9 in 10 are dropped). The values are those Blender's exporter wrote
when it baked the animation itself (``export_glb(..., _baked=True)``, kept for tests and the
benchmark: it scanned every material at every frame, minutes for a few thousand objects); the
scene is not changed (a temporary collection holds what is exported, removed afterwards).

What glTF cannot carry is left out or simplified:

* the Geometry-Nodes text (labels, HUD, loss curve) changes its mesh every frame, which glTF
  cannot animate: those objects are not exported, nor the area light (no glTF equivalent);
* a synapse's travelling pulse is a band moving along the cylinder; a material has one colour,
  so while a pulse travels the whole synapse is tinted with the pulse colour instead.

Emission stays at most ``WEB_MAX_GLOW`` (web viewers clip strengths of 6-8 to white). The file's
static pose and materials (what a viewer that plays no animation, or no KHR_animation_pointer,
shows) are the scene at the "after" still: the trained network.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import bpy
import numpy as np

from ..nncore import outputs
from ..nncore.errors import NNCoreError
from . import compat, keys, look, materials
from .buildctx import NEURON, ROLE, SYNAPSE, TAG

#: Largest emission (colour x strength) written to the file.
WEB_MAX_GLOW = 3.0
#: A travelling pulse tints its whole synapse with this fraction of the pulse's peak glow.
PULSE_TINT = 0.5
#: Custom property marking the export's temporary datablocks (removed in any case).
TEMP_TAG = "nna_gltf_tmp"
#: The animation is sampled at every frame of every object in numpy, ~2.5 us per object and frame
#: here (64-32-16-10 built per object: 2,842 objects x 4,186 frames in 26-31 s, a 60 MB file). Above
#: this many object-frames (~2 min, a file of a few hundred MB) the export is refused.
MAX_OBJECT_FRAMES = 40_000_000
#: The same limit for Blender's own baking (``_baked=True``), ~0.4 ms per object and frame (~30 min).
BAKED_MAX_OBJECT_FRAMES = 4_000_000
#: Cost per object-frame of each path, for the refusal's estimate (seconds).
_COST = {False: 2.5e-6, True: 0.4e-3}

#: The exporter's options (checked against io_scene_gltf2 of Blender 4.2, 4.5 and 5.0) for the baked
#: path (``_baked=True``); :data:`STATIC_OPTIONS` for the default one.
EXPORT_OPTIONS = {
    "export_format": "GLB",
    "use_active_scene": True,  # by default the exporter writes every scene of the file
    "export_cameras": True,
    "export_lights": False,
    "export_extras": False,
    "export_apply": False,
    "export_yup": True,
    "export_texcoords": False,  # plain materials, no textures
    "export_normals": True,
    "export_materials": "EXPORT",
    "export_animations": True,
    "export_animation_mode": "SCENE",  # bake the scene: needed for material animation
    "export_anim_scene_split_object": False,  # ONE clip, not one per object
    "export_pointer_animation": True,  # KHR_animation_pointer for the emission
    "export_anim_slide_to_zero": True,  # the clip starts at t = 0
    "export_optimize_animation_size": True,  # drop constant channels and repeated keys
    "export_frame_step": 1,
}
#: The static scene only: nodes, meshes, the camera; materials and animation are written here.
STATIC_OPTIONS = {
    **{k: v for k, v in EXPORT_OPTIONS.items() if not k.startswith("export_anim") and "animation" not in k},
    "export_materials": "NONE",
    "export_animations": False,
}


def export_glb(
    scene: bpy.types.Scene,
    path: str | os.PathLike,
    progress: Callable[[float, str], None] | None = None,
    *,
    _baked: bool = False,
) -> str:
    """Write the network built in ``scene`` to ``path`` (.glb) and return the file's absolute path.

    ``_baked`` (tests and benchmarks only): let Blender's exporter bake the animation itself, as
    before the animation was written from the F-curves (the same values, far slower).

    Bad input (no network built, missing or unwritable folder, a name not ending in .glb) raises
    :class:`~nncore.errors.NNCoreError` before anything is written. The file is written under a
    temporary name in the same folder and renamed at the end; a failed export leaves no file.
    """
    report = progress or (lambda f, t: None)
    out = _check_path(path)
    build_id = scene.nna.build_id
    if not build_id:
        raise NNCoreError("glTF export: the scene holds no network; build one first")
    _refuse_instanced(scene)
    neurons, synapses, cameras = _network_objects(scene, build_id)
    if not neurons:
        raise NNCoreError("glTF export: the scene's network has no neurons left; build it again")
    view_layer = bpy.context.view_layer if scene == bpy.context.scene else scene.view_layers[0]
    missing = [ob.name for ob in neurons + synapses if view_layer.objects.get(ob.name) != ob]
    if missing:
        raise NNCoreError(f"glTF export: {missing[0]} is not in the view layer (is its collection excluded?)")

    n_frames = scene.frame_end - scene.frame_start + 1
    work = (len(neurons) + len(synapses)) * n_frames
    if work > (BAKED_MAX_OBJECT_FRAMES if _baked else MAX_OBJECT_FRAMES):
        raise NNCoreError(
            f"glTF export: {len(neurons) + len(synapses):,} animated objects x {n_frames:,} frames is too much to "
            f"bake (about {max(1.0, work * _COST[_baked] / 60):.0f} min); export a smaller network or a shorter "
            "frame range"
        )
    options = compat.gltf_export_options()
    if not options:
        raise NNCoreError("glTF export: the glTF 2.0 add-on (io_scene_gltf2) is disabled; enable it in Preferences")
    lacking = sorted(set(EXPORT_OPTIONS) - options)
    if lacking:
        raise NNCoreError(f"glTF export: this Blender's glTF exporter lacks the options {', '.join(lacking)}")

    with outputs.atomic_file(str(out), "glTF export", verify=outputs.verify_glb) as tmp_name:
        # Blender's exporter writes into a private temporary folder, and only our own code writes the
        # target folder: an exporter failing mid-write on a full disk could crash Blender (seen once
        # as SIGSEGV in bpy 5.0.1 under load), a plain Python write fails cleanly
        with tempfile.TemporaryDirectory(prefix="nna-gltf-") as work:
            raw = Path(work) / "export.glb"
            state = _State(scene)
            export = _export_baked if _baked else _export
            try:
                export(scene, state, neurons, synapses, cameras, view_layer, raw, n_frames, report)
            finally:
                state.restore()
            data = raw.read_bytes()
        with open(tmp_name, "xb") as fh:
            fh.write(data)
    report(1.0, "done")
    return str(out)


def _refuse_instanced(scene) -> None:
    """Blender's glTF exporter does not animate the attributes of Geometry Nodes instances: an
    instanced network (scene.representation) is refused, pointing to the web page export."""
    from . import scene as nna_scene

    refuse_instanced(nna_scene.built_representation(scene))


def refuse_instanced(representation: str | None) -> None:
    """One line for a network built (or to be built: scene.representation(layers)) instanced."""
    from . import scene as nna_scene

    if representation == nna_scene.INSTANCED:
        raise NNCoreError(
            "glTF export: this network is instanced (more than "
            f"{nna_scene.PER_OBJECT_MAX_SYNAPSES:,} synapses, or a layer of more than {look.DENSE_LAYER:,}), "
            "and Blender's glTF exporter cannot animate instances; export the web page instead: "
            "nn_animator export --web DIR"
        )


def _run_exporter(scene, state, coll, view_layer, tmp: Path, options: dict) -> None:
    """Blender's exporter on collection ``coll`` of ``scene`` into ``tmp``; failures in one line."""
    try:
        result = bpy.ops.export_scene.gltf(filepath=str(tmp), collection=coll.name, **options)
    except RuntimeError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        why = next((ln.strip() for ln in reversed(lines) if "Error" in ln and "Python" not in ln), lines[-1:])
        hint = outputs.no_space_hint(str(tmp.parent))
        raise NNCoreError(f"glTF export: the exporter failed ({outputs.printable(why)}){hint}") from None
    if "FINISHED" not in result or not tmp.is_file():
        raise RuntimeError(f"glTF export: the exporter did not write {tmp.name} ({result})")


def _export(scene, state, neurons, synapses, cameras, view_layer, tmp: Path, n_frames: int, report) -> None:
    """The exporter writes the static scene into ``tmp``; the materials and the animation, sampled
    from the F-curves at every frame, are added to it here."""
    report(0.05, "exporting the static scene")
    coll = state.collection(f"{neurons[0].users_collection[0].name} glTF", neurons + synapses + cameras)
    if state.window is not None and state.window.scene != scene:
        state.window.scene = scene  # the exporter reads bpy.context.scene (restored afterwards)
        view_layer = bpy.context.view_layer
    with bpy.context.temp_override(scene=scene, view_layer=view_layer), _network_framing(scene, cameras):
        _run_exporter(scene, state, coll, view_layer, tmp, STATIC_OPTIONS)
    doc, binary = read_glb(tmp.read_bytes())
    fps = scene.render.fps / scene.render.fps_base
    frames = state.frames
    anim = _Animation(doc, binary, ((frames - frames[0]) / fps).astype(np.float32), scene.name)
    nodes = {n.get("name"): i for i, n in enumerate(doc.get("nodes", []))}
    obs = neurons + synapses
    synapse_set = set(synapses)
    step = max(1, len(obs) // 50)
    for k, ob in enumerate(obs):
        if k % step == 0:
            report(0.3 + 0.6 * k / len(obs), f"animation of {ob.name} ({k + 1:,} of {len(obs):,})")
        node = nodes.get(ob.name)
        if node is None:
            continue
        curves = _curves(ob)
        if ob in synapse_set:
            emission = _synapse_emission(ob, frames, curves, anim.cache)
            anim.material(node, f"{ob.name} glow", emission, (0.0, 0.0, 0.0), 0.6)
        else:
            emission = _neuron_emission(ob, frames, curves, anim.cache)
            anim.material(node, f"{ob.name} glow", emission, look.NEURON_BASE, 0.5)
        anim.transform(node, ob, frames, curves)
    for ob in cameras:
        if ob.name in nodes:
            anim.transform(nodes[ob.name], ob, frames, _curves(ob))
    report(0.9, "writing the file")
    after = scene.nna.still_after if scene.nna.build_id else scene.frame_start
    static = (after - scene.frame_start) / fps  # the trained network, idle: what viewers show without animation
    tmp.write_bytes(static_pose(write_glb(*anim.finish()), static))


@contextlib.contextmanager
def _network_framing(scene, cameras):
    """The file has no HUD and no loss curve: its still camera frames the network alone (the
    scene's camera is put back afterwards). A moving (orbit) camera keeps its own framing."""
    from . import camera

    saved = []
    try:
        for cam in cameras:
            view = camera.network_view(scene, cam)
            if view is not None:
                saved.append((cam, cam.matrix_basis.copy()))
                cam.location, cam.rotation_euler = view
        yield
    finally:
        for cam, basis in saved:
            cam.matrix_basis = basis


def _export_baked(scene, state, neurons, synapses, cameras, view_layer, tmp: Path, n_frames: int, report) -> None:
    """Give every object its baked material, run Blender's exporter into ``tmp``, compact the result
    (the way before :func:`_export`: the exporter bakes every frame itself)."""
    report(0.05, "glow of the neurons")
    for ob in neurons:
        state.own_material(ob, _neuron_emission(ob, state.frames), look.NEURON_BASE, 0.5)
    report(0.15, "colours of the synapses")
    for ob in synapses:
        state.own_material(ob, _synapse_emission(ob, state.frames), (0.0, 0.0, 0.0), 0.6)
    coll = state.collection(f"{neurons[0].users_collection[0].name} glTF", neurons + synapses + cameras)
    # the exporter evaluates the whole scene at every frame: mute what it does not export
    # (the Geometry-Nodes text costs ~0.1 s a frame; the clip has thousands of frames)
    state.mute_modifiers(ob for ob in scene.objects if ob.name not in coll.objects)
    report(0.25, "exporting (baking every frame)")
    still = scene.nna.still_after if scene.nna.build_id else None
    if state.window is not None and state.window.scene != scene:
        # the exporter bakes by changing frames of bpy.context.scene: make the exported scene
        # the window's for the export (restored afterwards)
        state.window.scene = scene
        view_layer = bpy.context.view_layer
    with bpy.context.temp_override(scene=scene, view_layer=view_layer):
        if still is not None:
            # the static pose and glow that viewers without animation show: the trained network
            scene.frame_set(int(still))
        step = max(1, n_frames // 100)  # about a hundred progress reports while baking
        state.on_frame(
            lambda f: (
                (f - scene.frame_start) % step == 0
                and report(0.25 + 0.65 * (f - scene.frame_start) / n_frames, f"baking frame {f} of {scene.frame_end}")
            )
        )
        with _network_framing(scene, cameras):
            _run_exporter(scene, state, coll, view_layer, tmp, EXPORT_OPTIONS)
        state.on_frame(None)
    report(0.9, "dropping redundant keys")
    fps = scene.render.fps / scene.render.fps_base
    after = scene.nna.still_after if scene.nna.build_id else scene.frame_start
    static = (after - scene.frame_start) / fps  # the trained network, idle: what viewers show without animation
    tmp.write_bytes(static_pose(compact_animation(tmp.read_bytes()), static))


# --------------------------------------------------------------------------------------------
# input checks


def _check_path(path) -> Path:
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else ""
    p = bpy.path.abspath(p) if p.startswith("//") else p
    return Path(outputs.check_file(p, "glTF export", ext=".glb", add_ext=True))


def _network_objects(scene, build_id: str):
    """The build's neurons, synapses and camera(s) that are in ``scene``, in name order."""
    obs = sorted((ob for ob in scene.objects if ob.get(TAG) == build_id), key=lambda ob: ob.name)
    neurons = [ob for ob in obs if ob.get(ROLE) == NEURON and ob.type == "MESH"]
    synapses = [ob for ob in obs if ob.get(ROLE) == SYNAPSE and ob.type == "MESH"]
    cameras = [ob for ob in obs if ob.type == "CAMERA"]
    return neurons, synapses, cameras


# --------------------------------------------------------------------------------------------
# the glow, per frame, from the keyed custom properties


def sample_fcurve(fc: bpy.types.FCurve, frames: np.ndarray, cache: dict | None = None) -> np.ndarray:
    """``fc`` evaluated at ``frames``, in numpy for CONSTANT/LINEAR keys (what a build writes).

    Anything else (Bezier keys, modifiers, linear extrapolation) falls back to ``fc.evaluate``.
    ``cache`` (a dict kept across calls with the same ``frames``) reuses the interpolation
    weights of curves keyed at the same frames (every synapse of a layer is).
    """
    kp = fc.keyframe_points
    n = len(kp)
    frames = np.asarray(frames, dtype=np.float64)
    if n == 0:
        return np.zeros(len(frames))
    co = np.empty(2 * n, dtype=np.float32)
    kp.foreach_get("co", co)
    ip = np.empty(n, dtype=np.int32)
    kp.foreach_get("interpolation", ip)
    simple = ((ip == keys.INTERPOLATION["CONSTANT"]) | (ip == keys.INTERPOLATION["LINEAR"])).all()
    if not simple or len(fc.modifiers) or fc.extrapolation != "CONSTANT":
        return np.array([fc.evaluate(float(f)) for f in frames])
    x32 = co[0::2]
    key = x32.tobytes() if cache is not None else None
    weights = cache.get(key) if cache is not None else None
    if weights is None:
        x = x32.astype(np.float64)
        i = np.clip(np.searchsorted(x, frames, side="right") - 1, 0, n - 1)
        j = np.minimum(i + 1, n - 1)
        span = x[j] - x[i]
        t = np.where(span > 0, (frames - x[i]) / np.where(span > 0, span, 1.0), 0.0)
        weights = (i, j, np.clip(t, 0.0, 1.0), frames < x[0])
        if cache is not None:
            cache[key] = weights
    i, j, t, before = weights
    y = co[1::2].astype(np.float64)
    yi = y[i]
    out = np.where(ip[i] == keys.INTERPOLATION["LINEAR"], yi + t * (y[j] - yi), yi)
    out[before] = y[0]
    return out


def _curves(ob) -> dict[tuple[str, int], bpy.types.FCurve]:
    """The F-curves of ``ob``'s action by (data path, index)."""
    ad = ob.animation_data
    if ad is None or ad.action is None:
        return {}
    return {(fc.data_path, fc.array_index): fc for fc in compat.action_fcurves(ad.action)}


def _prop(ob, name: str, frames: np.ndarray, curves: dict | None = None, cache: dict | None = None) -> np.ndarray:
    """Custom property ``name`` of ``ob`` at ``frames``: from its F-curve (``curves``: :func:`_curves`,
    ``cache``: see :func:`sample_fcurve`), else its current value."""
    fc = (_curves(ob) if curves is None else curves).get((f'["{name}"]', 0))
    if fc is not None:
        return sample_fcurve(fc, frames, cache)
    return np.full(len(frames), float(ob.get(name, 0.0)))


def _cap(emission: np.ndarray) -> np.ndarray:
    """Scale rows of an (n, 3) linear RGB emission so that no channel exceeds WEB_MAX_GLOW."""
    peak = emission.max(axis=1, keepdims=True)
    return emission * np.minimum(1.0, WEB_MAX_GLOW / np.maximum(peak, 1e-9))


def _neuron_emission(ob, frames: np.ndarray, curves: dict | None = None, cache: dict | None = None) -> np.ndarray:
    glow = look.neuron_glow(_prop(ob, materials.ACTIVITY, frames, curves, cache))
    return _cap(glow[:, None] * np.asarray(look.NEURON_GLOW))


def _synapse_emission(ob, frames: np.ndarray, curves: dict | None = None, cache: dict | None = None) -> np.ndarray:
    """look.synapse_color * SYNAPSE_GLOW, plus the pulses spread over the whole synapse."""

    def travelling(position):
        return ((position > 0.0) & (position < 1.0)).astype(np.float64)

    curves = _curves(ob) if curves is None else curves

    def prop(name):
        return _prop(ob, name, frames, curves, cache)

    weight = prop(materials.WEIGHT)
    tint = look.PULSE_GLOW * PULSE_TINT
    fwd = prop(materials.SIGNAL) * travelling(prop(materials.FORWARD)) * tint
    back = prop(materials.ERROR) * travelling(prop(materials.BACKWARD)) * tint
    emission = look.synapse_color(weight) * look.SYNAPSE_GLOW
    emission = emission + fwd[:, None] * np.asarray(look.SIGNAL) + back[:, None] * np.asarray(look.ERROR)
    return _cap(emission)


def _changes(values: np.ndarray) -> np.ndarray:
    """Indices of the rows to key so that LINEAR keys reproduce ``values`` at every frame:
    the ends and every row that differs from a neighbour (constant runs keep their two ends)."""
    n = len(values)
    if n <= 2:
        return np.arange(n)
    step = np.any(values[1:] != values[:-1], axis=1)
    keep = np.zeros(n, dtype=bool)
    keep[[0, -1]] = True
    keep[1:] |= step
    keep[:-1] |= step
    return np.flatnonzero(keep)


# --------------------------------------------------------------------------------------------
# temporary changes, and putting everything back


class _State:
    """Everything the export changes in the file, and how to undo it."""

    def __init__(self, scene) -> None:
        self.scene = scene
        self.frame = (scene.frame_current, scene.frame_subframe)
        # the 4.2 exporter makes the scene it exports the window's scene
        self.window = bpy.context.window
        self.window_scene = self.window.scene if self.window else None
        self.frames = np.arange(scene.frame_start, scene.frame_end + 1, dtype=np.float64)
        self.slots: list[tuple] = []  # (object, slot index, link, object-level material)
        self.modifiers: list[tuple] = []  # (modifier, show_viewport)
        self.handler = None
        self.temp: list[bpy.types.ID] = []

    def own_material(self, ob, emission: np.ndarray, base, roughness: float) -> None:
        """Give ``ob`` (through object-linked slots) a new material with keyed emission colour."""
        if not ob.material_slots:
            return
        mat = self._tag(bpy.data.materials.new(f"{ob.name} glow"))
        tree = compat.ensure_node_tree(mat)
        bsdf = next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
        if bsdf is None:
            tree.nodes.clear()
            bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
            out = tree.nodes.new("ShaderNodeOutputMaterial")
            tree.links.new(bsdf.outputs[0], out.inputs["Surface"])
        bsdf.inputs["Base Color"].default_value = (*base, 1.0)
        bsdf.inputs["Roughness"].default_value = roughness
        bsdf.inputs["Metallic"].default_value = 0.0
        colour = bsdf.inputs["Emission Color"]
        # the strength stays a plain constant: a linked Emission Strength breaks the exporter
        bsdf.inputs["Emission Strength"].default_value = WEB_MAX_GLOW
        values = np.clip(emission / WEB_MAX_GLOW, 0.0, 1.0)
        rows = _changes(values)
        colour.default_value = (*values[0], 1.0)
        data_path = colour.path_from_id("default_value")
        fcs = compat.new_action_fcurves(tree, mat.name, [(data_path, c) for c in range(3)])
        self._tag(tree.animation_data.action)
        linear = np.full(len(rows), keys.INTERPOLATION["LINEAR"], dtype=np.int32)
        for c, fc in enumerate(fcs):
            keys.write(fc, self.frames[rows], values[rows, c], linear)
        for i, slot in enumerate(ob.material_slots):
            link = slot.link
            slot.link = "OBJECT"
            self.slots.append((ob, i, link, slot.material))
            slot.material = mat

    def on_frame(self, callback) -> None:
        """Call ``callback(frame)`` after every frame change of the scene (the exporter's bake), or stop."""
        if self.handler is not None:
            bpy.app.handlers.frame_change_post.remove(self.handler)
            self.handler = None
        if callback is not None:
            scene = self.scene

            def handler(sc, *args):
                if sc == scene:
                    callback(sc.frame_current)

            self.handler = handler
            bpy.app.handlers.frame_change_post.append(handler)

    def mute_modifiers(self, objects) -> None:
        for ob in objects:
            for mod in ob.modifiers:
                if mod.show_viewport:
                    self.modifiers.append((mod, True))
                    mod.show_viewport = False

    def collection(self, name: str, objects) -> bpy.types.Collection:
        """A temporary collection (not linked to any scene) holding ``objects``: what is exported."""
        coll = self._tag(bpy.data.collections.new(name))
        for ob in objects:
            coll.objects.link(ob)
        return coll

    def _tag(self, idb):
        idb[TEMP_TAG] = True
        self.temp.append(idb)
        return idb

    def restore(self) -> None:
        self.on_frame(None)
        for ob, i, link, material in reversed(self.slots):
            slot = ob.material_slots[i]
            slot.material = material
            slot.link = link
        self.slots.clear()
        for mod, show in reversed(self.modifiers):
            mod.show_viewport = show
        self.modifiers.clear()
        temp = [idb for idb in self.temp if idb is not None]
        # anything else the export made and tagged (e.g. after an exception inside the exporter)
        for attr in ("materials", "actions", "collections"):
            temp.extend(idb for idb in getattr(bpy.data, attr) if idb.get(TEMP_TAG) and idb not in temp)
        if temp:
            bpy.data.batch_remove(temp)
        self.temp.clear()
        if self.window_scene is not None and self.window.scene != self.window_scene:
            self.window.scene = self.window_scene
        frame, sub = self.frame
        self.scene.frame_set(frame, subframe=sub)


# --------------------------------------------------------------------------------------------
# GLB post-processing: drop redundant animation keys

_GLB_MAGIC = 0x46546C67  # "glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_FLOAT = 5126
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
#: Extensions known not to reference accessors or buffer views; anything else: left as is.
_SAFE_EXTENSIONS = {"KHR_animation_pointer", "KHR_lights_punctual", "KHR_materials_unlit"}


def read_glb(data: bytes) -> tuple[dict, bytes]:
    """The JSON and the binary chunk of a GLB file."""
    import json
    import struct

    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC or version != 2 or length > len(data):
        raise ValueError("not a glTF 2.0 binary file")
    doc, binary, pos = None, b"", 12
    while pos + 8 <= length:
        size, kind = struct.unpack_from("<II", data, pos)
        chunk = data[pos + 8 : pos + 8 + size]
        if kind == _CHUNK_JSON:
            doc = json.loads(chunk)
        elif kind == _CHUNK_BIN:
            binary = bytes(chunk)
        pos += 8 + size
    if doc is None:
        raise ValueError("GLB without a JSON chunk")
    return doc, binary


def write_glb(doc: dict, binary: bytes) -> bytes:
    import json
    import struct

    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary = binary + b"\0" * (-len(binary) % 4)
    parts = [struct.pack("<II", len(text), _CHUNK_JSON), text]
    if binary:
        parts += [struct.pack("<II", len(binary), _CHUNK_BIN), binary]
    body = b"".join(parts)
    return struct.pack("<III", _GLB_MAGIC, 2, 12 + len(body)) + body


def _linear_keys(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Indices of the keys of a LINEAR sampler (times ``t``, float32 values ``v`` (n, k)) that
    cannot be dropped: the ends and every key off the line through its neighbours by more than a
    few float32 steps. All keys if dropping the others would move any component anywhere by more
    than 1e-5 of its largest magnitude."""
    n = len(t)
    if n <= 2:
        return np.arange(n)
    v = v.astype(np.float64)
    dt = t[2:] - t[:-2]
    w = np.where(dt > 0, (t[1:-1] - t[:-2]) / np.where(dt > 0, dt, 1.0), 0.0)[:, None]
    off = np.abs(v[:-2] + w * (v[2:] - v[:-2]) - v[1:-1])
    mag = np.maximum(np.maximum(np.abs(v[:-2]), np.abs(v[2:])), np.abs(v[1:-1]))
    keep = np.ones(n, dtype=bool)
    keep[1:-1] = (off > 8 * np.spacing(mag.astype(np.float32)).astype(np.float64)).any(axis=1)
    idx = np.flatnonzero(keep)
    tol = 1e-5 * np.maximum(np.abs(v).max(axis=0), 1e-6)
    for c in range(v.shape[1]):
        if np.abs(np.interp(t, t[idx], v[idx, c]) - v[:, c]).max() > tol[c]:
            return np.arange(n)
    return idx


def compact_animation(data: bytes) -> bytes:
    """A GLB whose LINEAR (non-rotation) animation samplers keep only the keys that matter.

    Values at the original key times are unchanged (to float precision). Files this function does
    not fully understand (external buffers, images, sparse or strided accessors, unknown
    extensions) are returned unchanged.
    """
    doc, binary = read_glb(data)
    used = set(doc.get("extensionsUsed", []))
    unsafe = {e for e in used if e not in _SAFE_EXTENSIONS and not e.startswith("KHR_materials_")}
    if (
        unsafe
        or doc.get("images")
        or len(doc.get("buffers", [])) != 1
        or "uri" in doc["buffers"][0]
        or any("sparse" in a or "bufferView" not in a for a in doc.get("accessors", []))
        or not doc.get("animations")
    ):
        return data
    accessors, views = doc["accessors"], doc.get("bufferViews", [])

    def read(i: int):
        a = accessors[i]
        view = views[a["bufferView"]]
        width = _WIDTH.get(a["type"])
        if a["componentType"] != _FLOAT or a.get("normalized") or width is None:
            return None
        if view.get("byteStride", 4 * width) != 4 * width:
            return None
        start = view.get("byteOffset", 0) + a.get("byteOffset", 0)
        arr = np.frombuffer(binary, dtype="<f4", count=a["count"] * width, offset=start)
        return arr.reshape(a["count"], width)

    # new data for the samplers that shrink: {(animation, sampler): (times, values)}
    new: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for ai, anim in enumerate(doc["animations"]):
        rotation = {ch["sampler"] for ch in anim["channels"] if ch["target"].get("path") == "rotation"}
        for si, smp in enumerate(anim["samplers"]):
            if smp.get("interpolation", "LINEAR") != "LINEAR" or si in rotation:
                continue
            t, v = read(smp["input"]), read(smp["output"])
            if t is None or v is None or t.shape[1] != 1 or len(t) != len(v):
                continue
            idx = _linear_keys(t[:, 0].astype(np.float64), v)
            if len(idx) < len(t):
                new[ai, si] = (t[idx, 0].copy(), v[idx].copy())
    if not new:
        return data

    out = bytearray()
    new_views: list[dict] = []
    new_accessors: list[dict] = []
    view_map: dict[int, int] = {}
    accessor_map: dict[int, int] = {}
    times_map: dict[bytes, int] = {}

    def add_view(raw: bytes, extra: dict) -> int:
        out.extend(b"\0" * (-len(out) % 4))
        new_views.append({"buffer": 0, "byteOffset": len(out), "byteLength": len(raw), **extra})
        out.extend(raw)
        return len(new_views) - 1

    def keep_accessor(i: int) -> int:
        """Copy accessor ``i`` (and its whole buffer view, once) into the new file."""
        if i not in accessor_map:
            a = dict(accessors[i])
            vi = a["bufferView"]
            if vi not in view_map:
                view = views[vi]
                start = view.get("byteOffset", 0)
                extra = {k: view[k] for k in ("byteStride", "target", "name") if k in view}
                view_map[vi] = add_view(binary[start : start + view["byteLength"]], extra)
            a["bufferView"] = view_map[vi]
            new_accessors.append(a)
            accessor_map[i] = len(new_accessors) - 1
        return accessor_map[i]

    def new_accessor(values: np.ndarray, kind: str) -> int:
        raw = values.astype("<f4").tobytes()
        if kind == "SCALAR" and raw in times_map:
            return times_map[raw]
        view = add_view(raw, {})
        flat = values.reshape(len(values), -1)
        new_accessors.append(
            {
                "bufferView": view,
                "componentType": _FLOAT,
                "count": len(values),
                "type": kind,
                "min": [float(x) for x in flat.min(axis=0)],
                "max": [float(x) for x in flat.max(axis=0)],
            }
        )
        if kind == "SCALAR":
            times_map[raw] = len(new_accessors) - 1
        return len(new_accessors) - 1

    for mesh in doc.get("meshes", []):
        for prim in mesh["primitives"]:
            prim["attributes"] = {k: keep_accessor(v) for k, v in prim["attributes"].items()}
            if "indices" in prim:
                prim["indices"] = keep_accessor(prim["indices"])
            if "targets" in prim:
                prim["targets"] = [{k: keep_accessor(v) for k, v in tg.items()} for tg in prim["targets"]]
    for skin in doc.get("skins", []):
        if "inverseBindMatrices" in skin:
            skin["inverseBindMatrices"] = keep_accessor(skin["inverseBindMatrices"])
    for ai, anim in enumerate(doc["animations"]):
        for si, smp in enumerate(anim["samplers"]):
            if (ai, si) in new:
                t, v = new[ai, si]
                smp["input"] = new_accessor(t, "SCALAR")
                smp["output"] = new_accessor(v, accessors[smp["output"]]["type"])
            else:
                smp["input"] = keep_accessor(smp["input"])
                smp["output"] = keep_accessor(smp["output"])
    out.extend(b"\0" * (-len(out) % 4))
    doc["accessors"] = new_accessors
    doc["bufferViews"] = new_views
    doc["buffers"][0]["byteLength"] = len(out)
    return write_glb(doc, bytes(out))


# --------------------------------------------------------------------------------------------
# the animation, written into the exporter's static file

#: Object transform paths; an unparented object keyed only on location and scale is written in
#: numpy (Blender Z-up -> glTF Y-up: glTF component <- (Blender index, sign)), any other through
#: its world matrix per frame (the orbit camera on its rig).
_TRANSFORMS = ("location", "rotation_euler", "rotation_quaternion", "rotation_axis_angle", "scale")
_YUP = {"location": ((0, 1.0), (2, 1.0), (1, -1.0)), "scale": ((0, 1.0), (2, 1.0), (1, 1.0))}
_GLTF_PATH = {"location": "translation", "scale": "scale"}
_EMISSIVE_STRENGTH = "KHR_materials_emissive_strength"


def _pointer(path: str) -> dict:
    return {"path": "pointer", "extensions": {"KHR_animation_pointer": {"pointer": path}}}


def _emissive(emission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(emissiveFactor (n, 3), emissiveStrength (n, 1)) for linear RGB emissions (n, 3): the colour
    clamped to 0..WEB_MAX_GLOW; the strength 1 where every channel is at most 1, else the largest
    channel (the split Blender's exporter makes)."""
    e = np.clip(np.asarray(emission, dtype=np.float64), 0.0, WEB_MAX_GLOW)
    peak = e.max(axis=1)
    strength = np.where(peak > 1.0, peak, 1.0)
    return e / strength[:, None], strength[:, None]


def _basis(ob, curves: dict, frames: np.ndarray):
    """``ob``'s local matrix (mathutils) at each of ``frames`` from its transform F-curves (else its
    current values)."""
    import mathutils

    def track(path: str, size: int) -> np.ndarray:
        current = list(getattr(ob, path))
        return np.stack(
            [
                sample_fcurve(curves[path, i], frames) if (path, i) in curves else np.full(len(frames), current[i])
                for i in range(size)
            ],
            axis=1,
        )

    loc, scale = track("location", 3), track("scale", 3)
    mode = ob.rotation_mode
    if mode == "QUATERNION":
        rot = [mathutils.Quaternion(q) for q in track("rotation_quaternion", 4)]
    elif mode == "AXIS_ANGLE":
        rot = [mathutils.Quaternion(a[1:], a[0]) for a in track("rotation_axis_angle", 4)]
    else:
        rot = [mathutils.Euler(e, mode) for e in track("rotation_euler", 3)]
    return [mathutils.Matrix.LocRotScale(loc[i], rot[i], scale[i]) for i in range(len(frames))]


class _Animation:
    """Materials and one animation clip added to the exporter's static document and binary chunk."""

    def __init__(self, doc: dict, binary: bytes, times: np.ndarray, name: str) -> None:
        self.doc = doc
        self.out = bytearray(binary)
        self.times = np.asarray(times, dtype=np.float32)
        self.t64 = self.times.astype(np.float64)
        self.name = name
        self.channels: list[dict] = []
        self.samplers: list[dict] = []
        self.materials: list[dict] = list(doc.get("materials", []))
        self.claimed: set[int] = set()  # meshes already given to a node (others get a copy)
        self.time_accessors: dict[bytes, int] = {}
        self.cache: dict = {}  # sample_fcurve's interpolation weights, shared by every object

    def _accessor(self, values: np.ndarray, kind: str, times: bool = False) -> int:
        """A float accessor of ``values``; key times are written once for every sampler using them."""
        raw = values.astype("<f4").tobytes()
        if times and raw in self.time_accessors:
            return self.time_accessors[raw]
        self.out.extend(b"\0" * (-len(self.out) % 4))
        views = self.doc.setdefault("bufferViews", [])
        views.append({"buffer": 0, "byteOffset": len(self.out), "byteLength": len(raw)})
        self.out.extend(raw)
        flat = values.reshape(len(values), -1)
        accessors = self.doc.setdefault("accessors", [])
        accessors.append(
            {
                "bufferView": len(views) - 1,
                "componentType": _FLOAT,
                "count": len(values),
                "type": kind,
                "min": [float(x) for x in flat.min(axis=0)],
                "max": [float(x) for x in flat.max(axis=0)],
            }
        )
        if times:
            self.time_accessors[raw] = len(accessors) - 1
        return len(accessors) - 1

    def channel(self, target: dict, values: np.ndarray, constant: Callable, rotation: bool = False) -> None:
        """A LINEAR channel of ``values`` (n_frames, k) at every frame, keeping only the keys that
        linear interpolation does not restore (rotations: every key, as the baked export did). Values
        that never change make no channel: ``constant(value)`` writes them into the static scene
        (what the exporter's export_optimize_animation_size did)."""
        v = np.asarray(values, dtype=np.float32).reshape(len(self.times), -1)
        if (v == v[0]).all():
            constant([float(x) for x in v[0]])
            return
        idx = np.arange(len(v)) if rotation else _linear_keys(self.t64, v)
        kind = {1: "SCALAR", 3: "VEC3", 4: "VEC4"}[v.shape[1]]
        times = self._accessor(self.times[idx], "SCALAR", times=True)
        self.samplers.append({"input": times, "interpolation": "LINEAR", "output": self._accessor(v[idx], kind)})
        self.channels.append({"sampler": len(self.samplers) - 1, "target": target})

    def material(self, node: int, name: str, emission: np.ndarray, base, roughness: float) -> None:
        """Node ``node``'s own material, its emission animated from ``emission`` (n_frames, 3)."""
        nd = self.doc["nodes"][node]
        if "mesh" not in nd:
            return
        mi = len(self.materials)
        self.materials.append(
            {
                "name": name,
                "doubleSided": True,
                "pbrMetallicRoughness": {
                    "baseColorFactor": [*(float(c) for c in base), 1.0],
                    "metallicFactor": 0.0,
                    "roughnessFactor": float(roughness),
                },
                "emissiveFactor": [0.0, 0.0, 0.0],
                "extensions": {_EMISSIVE_STRENGTH: {"emissiveStrength": 1.0}},
            }
        )
        meshes = self.doc["meshes"]
        mesh = meshes[nd["mesh"]]
        if nd["mesh"] in self.claimed:
            mesh = {**mesh, "primitives": [dict(p) for p in mesh["primitives"]]}
            meshes.append(mesh)
            nd["mesh"] = len(meshes) - 1
        self.claimed.add(nd["mesh"])
        for prim in mesh["primitives"]:
            prim["material"] = mi
        factor, strength = _emissive(emission)
        mat = self.materials[mi]

        def static_strength(value):
            mat["extensions"][_EMISSIVE_STRENGTH]["emissiveStrength"] = value[0]

        self.channel(_pointer(f"/materials/{mi}/emissiveFactor"), factor, partial(mat.__setitem__, "emissiveFactor"))
        self.channel(
            _pointer(f"/materials/{mi}/extensions/{_EMISSIVE_STRENGTH}/emissiveStrength"), strength, static_strength
        )

    def transform(self, node: int, ob, frames: np.ndarray, curves: dict) -> None:
        """Node ``node``'s translation/rotation/scale channels where ``ob`` (or a parent) is keyed."""
        chain = [ob]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        keyed = [{p for p, _ in (curves if o is ob else _curves(o)) if p in _TRANSFORMS} for o in chain]
        if not any(keyed):
            return
        if len(chain) == 1 and keyed[0] <= set(_YUP):
            for path in sorted(keyed[0]):
                current_v = list(getattr(ob, path))
                blender = [
                    sample_fcurve(curves[path, i], frames, self.cache)
                    if (path, i) in curves
                    else np.full(len(frames), current_v[i])
                    for i in range(3)
                ]
                values = np.stack([sign * blender[i] for i, sign in _YUP[path]], axis=1)
                gltf_path = _GLTF_PATH[path]
                self.channel({"node": node, "path": gltf_path}, values, self._static(node, gltf_path))
            return
        self._world_channels(node, chain, frames)

    def _world_channels(self, node: int, chain: list, frames: np.ndarray) -> None:
        """Translation, rotation (and scale if it changes) of a node whose object moves through its
        own keys or its parents': its world matrix per frame in glTF's Y-up axes (a camera turned
        to look down its -Z axis, as glTF's cameras do)."""
        import math

        import mathutils

        world = [mathutils.Matrix.Identity(4)] * len(frames)
        for o in reversed(chain):  # root first: world = parent world @ parent inverse @ basis
            local = _basis(o, _curves(o), frames)
            inverse = o.matrix_parent_inverse if o.parent is not None else mathutils.Matrix.Identity(4)
            world = [w @ inverse @ b for w, b in zip(world, local)]
        yup = mathutils.Matrix(((1, 0, 0, 0), (0, 0, 1, 0), (0, -1, 0, 0), (0, 0, 0, 1)))
        turn = mathutils.Matrix.Identity(4)
        if chain[0].type in ("CAMERA", "LIGHT"):
            turn = mathutils.Matrix.Rotation(-math.pi / 2, 4, "X")
        back = yup.inverted() @ turn
        loc, rot, scale = [], [], []
        previous = None
        for w in world:
            t, q, s = (yup @ w @ back).decompose()
            if previous is not None and previous.dot(q) < 0:
                q.negate()
            previous = q
            loc.append(tuple(t))
            rot.append((q.x, q.y, q.z, q.w))
            scale.append(tuple(s))
        for path, values in (("translation", loc), ("rotation", rot)):
            self.channel({"node": node, "path": path}, np.array(values), self._static(node, path), path == "rotation")
        scale = np.array(scale)
        if np.ptp(scale, axis=0).max() > 1e-6:  # else the exported scale (rounding of the decomposition)
            self.channel({"node": node, "path": "scale"}, scale, self._static(node, "scale"))

    def _static(self, node: int, path: str) -> Callable:
        """Writes a channel's constant value into node ``node``'s static transform."""

        def write(value):
            nd = self.doc["nodes"][node]
            nd.pop("matrix", None)
            nd[path] = value

        return write

    def finish(self) -> tuple[dict, bytes]:
        doc = self.doc
        if self.materials:
            doc["materials"] = self.materials
        if self.channels:
            doc["animations"] = [{"name": self.name, "channels": self.channels, "samplers": self.samplers}]
        used = doc.setdefault("extensionsUsed", [])
        for ext, needed in ((_EMISSIVE_STRENGTH, self.materials), ("KHR_animation_pointer", self.channels)):
            if needed and ext not in used:
                used.append(ext)
        if not used:
            doc.pop("extensionsUsed")
        self.out.extend(b"\0" * (-len(self.out) % 4))
        doc["buffers"][0]["byteLength"] = len(self.out)
        return doc, bytes(self.out)


def _sample(t: np.ndarray, v: np.ndarray, at: float, step: bool) -> np.ndarray:
    """A sampler's value at time ``at`` (LINEAR or STEP; clamped at both ends)."""
    t = t[:, 0].astype(np.float64)
    i = int(np.searchsorted(t, at, side="right"))
    if i == 0:
        return v[0]
    if i >= len(t) or step:
        return v[min(i, len(t)) - 1]
    a = (at - t[i - 1]) / (t[i] - t[i - 1]) if t[i] > t[i - 1] else 0.0
    return v[i - 1] * (1 - a) + v[i] * a


def static_pose(data: bytes, at: float) -> bytes:
    """A GLB whose static pose (node transforms, materials' emission) is its animation at time ``at``,
    and whose node, mesh and material names have no dots (three.js cuts animation track names at a
    dot, so "NNA Neuron 0.000 glow" bound to nothing). Files it does not understand are unchanged."""
    try:
        doc, binary = read_glb(data)
    except ValueError:
        return data
    accessors, views = doc.get("accessors", []), doc.get("bufferViews", [])

    def read(i: int):
        a = accessors[i]
        width = _WIDTH.get(a["type"])
        if a["componentType"] != _FLOAT or width is None or "bufferView" not in a:
            return None
        view = views[a["bufferView"]]
        start = view.get("byteOffset", 0) + a.get("byteOffset", 0)
        return np.frombuffer(binary, dtype="<f4", count=a["count"] * width, offset=start).reshape(a["count"], width)

    for anim in doc.get("animations", []):
        for ch in anim.get("channels", []):
            smp = anim["samplers"][ch["sampler"]]
            if smp.get("interpolation", "LINEAR") not in ("LINEAR", "STEP"):
                continue
            t, v = read(smp["input"]), read(smp["output"])
            if t is None or v is None or len(t) != len(v) or not len(t):
                continue
            value = [float(x) for x in _sample(t, v, at, smp.get("interpolation") == "STEP")]
            target = ch["target"]
            pointer = target.get("extensions", {}).get("KHR_animation_pointer", {}).get("pointer")
            if pointer is None and "node" in target and target.get("path") in ("scale", "translation", "rotation"):
                node = doc["nodes"][target["node"]]
                node.pop("matrix", None)
                node[target["path"]] = value
            elif pointer is not None:
                parts = pointer.strip("/").split("/")
                obj = doc
                try:
                    for key in parts[:-1]:
                        obj = obj[int(key)] if isinstance(obj, list) else obj.setdefault(key, {})
                    obj[parts[-1]] = value[0] if len(value) == 1 else value
                except (KeyError, IndexError, ValueError, TypeError):
                    continue
    for kind in ("nodes", "meshes", "materials"):
        for item in doc.get(kind, []):
            if "name" in item:
                item["name"] = item["name"].replace(".", "_")
    return write_glb(doc, binary)
