"""Export the built network as one animated glTF binary (.glb) for web viewers.

``export_glb(scene, path)`` writes the neurons, the synapses and the network's camera with the
whole animation as ONE clip (named after the scene):

* node animation (core glTF): every synapse's keyed scale (its radius follows the weight);
* the glow, as ``KHR_animation_pointer`` channels on each material's ``emissiveFactor`` and
  ``KHR_materials_emissive_strength/emissiveStrength``.

The scene's materials are shared and read keyed per-object custom properties through Attribute
nodes, which glTF cannot express. So, only for the duration of the export, every neuron and
synapse gets its own simple Principled material whose Emission Colour is keyed with values
computed here in numpy from the object's keyed custom properties (the formulas of ``look.py``).
Afterwards everything is put back: the temporary materials, their actions and the temporary
collection are removed and the material slots restored, so the file is as before.

What glTF cannot carry is left out or simplified:

* the Geometry-Nodes text (labels, HUD, loss curve) changes its mesh every frame, which glTF
  cannot animate: those objects are not exported, nor the area light (no glTF equivalent);
* a synapse's travelling pulse is a band moving along the cylinder; a material has one colour,
  so while a pulse travels the whole synapse is tinted with the pulse colour instead.

Emission stays at most ``WEB_MAX_GLOW`` (web viewers clip strengths of 6-8 to white).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import bpy
import numpy as np

from ..nncore.errors import NNCoreError
from . import compat, keys, look, materials
from .buildctx import TAG

#: Largest emission (colour x strength) written to the file.
WEB_MAX_GLOW = 3.0
#: A travelling pulse tints its whole synapse with this fraction of the pulse's peak glow.
PULSE_TINT = 0.5
#: Custom property marking the export's temporary datablocks (removed in any case).
TEMP_TAG = "nna_gltf_tmp"

#: The exporter's options (checked against io_scene_gltf2 of Blender 4.2, 4.5 and 5.0).
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


def export_glb(
    scene: bpy.types.Scene,
    path: str | os.PathLike,
    progress: Callable[[float, str], None] | None = None,
) -> str:
    """Write the network built in ``scene`` to ``path`` (.glb) and return the file's absolute path.

    Bad input (no network built, missing or unwritable folder, a name not ending in .glb) raises
    :class:`~nncore.errors.NNCoreError` before anything is written. The file is written under a
    temporary name in the same folder and renamed at the end; a failed export leaves no file.
    """
    report = progress or (lambda f, t: None)
    out = _check_path(path)
    build_id = scene.get("nna_build_id", "")
    if not build_id:
        raise NNCoreError("glTF export: the scene holds no network; build one first")
    neurons, synapses, cameras = _network_objects(scene, build_id)
    if not neurons:
        raise NNCoreError("glTF export: the scene's network has no neurons left; build it again")
    view_layer = bpy.context.view_layer if scene == bpy.context.scene else scene.view_layers[0]
    missing = [ob.name for ob in neurons + synapses if view_layer.objects.get(ob.name) != ob]
    if missing:
        raise NNCoreError(f"glTF export: {missing[0]} is not in the view layer (is its collection excluded?)")

    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.tmp.glb")
    state = _State(scene, neurons + synapses)
    done = False
    try:
        report(0.05, "glow of the neurons")
        for ob in neurons:
            state.own_material(ob, _neuron_emission(ob, state.frames), look.NEURON_BASE, 0.5)
        report(0.15, "colours of the synapses")
        for ob in synapses:
            state.own_material(ob, _synapse_emission(ob, state.frames), (0.0, 0.0, 0.0), 0.6)
        coll = state.collection(f"{neurons[0].users_collection[0].name} glTF", neurons + synapses + cameras)
        report(0.25, "exporting (baking every frame)")
        still = scene.get("nna_stills", {}).get("after")
        with bpy.context.temp_override(scene=scene, view_layer=view_layer):
            if still is not None:
                # the static pose and glow that viewers without animation show: the trained network
                scene.frame_set(int(still))
            result = bpy.ops.export_scene.gltf(filepath=str(tmp), collection=coll.name, **EXPORT_OPTIONS)
        if "FINISHED" not in result or not tmp.is_file():
            raise RuntimeError(f"glTF export: the exporter did not write {tmp.name} ({result})")
        os.replace(tmp, out)
        done = True
    finally:
        state.restore()
        if not done:
            tmp.unlink(missing_ok=True)
    report(1.0, "done")
    return str(out)


# --------------------------------------------------------------------------------------------
# input checks


def _check_path(path) -> Path:
    if path is None or not str(path).strip():
        raise NNCoreError("glTF export: no file name given")
    out = Path(bpy.path.abspath(str(path))).expanduser()
    if out.suffix == "":
        out = out.with_suffix(".glb")
    if out.suffix.lower() != ".glb":
        raise NNCoreError(f"glTF export: {out.name} must end in .glb (binary glTF)")
    out = out.resolve()
    folder = out.parent
    if not folder.is_dir():
        raise NNCoreError(f"glTF export: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NNCoreError(f"glTF export: folder {folder} is not writable")
    if out.is_dir():
        raise NNCoreError(f"glTF export: {out} is a folder")
    if out.exists() and not os.access(out, os.W_OK):
        raise NNCoreError(f"glTF export: {out} exists and is not writable")
    return out


def _network_objects(scene, build_id: str):
    """The build's neurons, synapses and camera(s) that are in ``scene``, in name order."""
    obs = sorted((ob for ob in scene.objects if ob.get(TAG) == build_id), key=lambda ob: ob.name)
    neurons = [ob for ob in obs if ob.get("nna_role") == "neuron" and ob.type == "MESH"]
    synapses = [ob for ob in obs if ob.get("nna_role") == "synapse" and ob.type == "MESH"]
    cameras = [ob for ob in obs if ob.type == "CAMERA"]
    return neurons, synapses, cameras


# --------------------------------------------------------------------------------------------
# the glow, per frame, from the keyed custom properties


def sample_fcurve(fc: bpy.types.FCurve, frames: np.ndarray) -> np.ndarray:
    """``fc`` evaluated at ``frames``, in numpy for CONSTANT/LINEAR keys (what a build writes).

    Anything else (Bezier keys, modifiers, linear extrapolation) falls back to ``fc.evaluate``.
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
    simple = np.isin(ip, list(keys.INTERPOLATION.values())).all()
    if not simple or len(fc.modifiers) or fc.extrapolation != "CONSTANT":
        return np.array([fc.evaluate(float(f)) for f in frames])
    x = co[0::2].astype(np.float64)
    y = co[1::2].astype(np.float64)
    i = np.clip(np.searchsorted(x, frames, side="right") - 1, 0, n - 1)
    j = np.minimum(i + 1, n - 1)
    span = x[j] - x[i]
    t = np.where(span > 0, (frames - x[i]) / np.where(span > 0, span, 1.0), 0.0)
    linear = ip[i] == keys.INTERPOLATION["LINEAR"]
    out = np.where(linear, y[i] + np.clip(t, 0.0, 1.0) * (y[j] - y[i]), y[i])
    return np.where(frames < x[0], y[0], out)


def _prop(ob, name: str, frames: np.ndarray) -> np.ndarray:
    """Custom property ``name`` of ``ob`` at ``frames``: from its F-curve, else its current value."""
    ad = ob.animation_data
    path = f'["{name}"]'
    if ad is not None and ad.action is not None:
        for fc in compat.action_fcurves(ad.action):
            if fc.data_path == path:
                return sample_fcurve(fc, frames)
    return np.full(len(frames), float(ob.get(name, 0.0)))


def _cap(emission: np.ndarray) -> np.ndarray:
    """Scale rows of an (n, 3) linear RGB emission so that no channel exceeds WEB_MAX_GLOW."""
    peak = emission.max(axis=1, keepdims=True)
    return emission * np.minimum(1.0, WEB_MAX_GLOW / np.maximum(peak, 1e-9))


def _neuron_emission(ob, frames: np.ndarray) -> np.ndarray:
    glow = look.neuron_glow(_prop(ob, materials.ACTIVITY, frames))
    return _cap(glow[:, None] * np.asarray(look.NEURON_GLOW))


def _synapse_emission(ob, frames: np.ndarray) -> np.ndarray:
    """look.synapse_color * SYNAPSE_GLOW, plus the pulses spread over the whole synapse."""

    def travelling(position):
        return ((position > 0.0) & (position < 1.0)).astype(np.float64)

    weight = _prop(ob, materials.WEIGHT, frames)
    tint = look.PULSE_GLOW * PULSE_TINT
    fwd = _prop(ob, materials.SIGNAL, frames) * travelling(_prop(ob, materials.FORWARD, frames)) * tint
    back = _prop(ob, materials.ERROR, frames) * travelling(_prop(ob, materials.BACKWARD, frames)) * tint
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

    def __init__(self, scene, objects) -> None:
        self.scene = scene
        self.frame = (scene.frame_current, scene.frame_subframe)
        self.frames = np.arange(scene.frame_start, scene.frame_end + 1, dtype=np.float64)
        self.slots: list[tuple] = []  # (object, slot index, link, object-level material)
        self.temp: list[bpy.types.ID] = []
        self.objects = objects

    def own_material(self, ob, emission: np.ndarray, base, roughness: float) -> None:
        """Give ``ob`` (through object-linked slots) a new material with keyed emission colour."""
        if not ob.material_slots:
            return
        mat = self._tag(bpy.data.materials.new(f"NNA glTF {ob.name}"))
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
        for ob, i, link, material in reversed(self.slots):
            slot = ob.material_slots[i]
            slot.material = material
            slot.link = link
        self.slots.clear()
        temp = [idb for idb in self.temp if idb is not None]
        # anything else the export made and tagged (e.g. after an exception inside the exporter)
        for attr in ("materials", "actions", "collections"):
            temp.extend(idb for idb in getattr(bpy.data, attr) if idb.get(TEMP_TAG) and idb not in temp)
        if temp:
            bpy.data.batch_remove(temp)
        self.temp.clear()
        frame, sub = self.frame
        self.scene.frame_set(frame, subframe=sub)
