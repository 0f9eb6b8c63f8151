"""Big networks as a few objects whose Geometry Nodes instance spheres, tiles and cylinders.

One object per neuron layer and one per synapse layer. Each is a mesh of loose points (a neuron's
centre, a synapse's sending neuron) with a Nodes modifier that, on every frame, works out each
point's values from the plan's keys and instances the shape on it; the materials read the
values through Attribute nodes of type INSTANCER. Nothing of the add-on runs at render time.

How a value is found for the current frame (the same interpolation as an F-curve of the plan's
keys, see docs/plan-format.md):

* A **table** per synapse layer (and one for all neurons) holds every key of every item: a mesh
  of loose points with one float attribute ``nna_value``; row ``offset + key * count + item``.
  Tables are objects that are in no collection (they are neither drawn nor rendered); the
  modifier reads them with an Object Info node. Writing them is one ``foreach_set`` per track.
* Per track, three modifier inputs are keyed CONSTANT at the plan's frames: ``Key`` (the index
  ``i`` of the key in force), ``Start`` (its frame) and ``Rate`` (``1 / (frames[i+1] - frames[i])``
  when the plan says LINEAR, else 0). The node group reads rows ``i`` and ``min(i + 1, K - 1)``
  with Sample Index and mixes them by ``clamp((frame - Start) * Rate, 0, 1)`` (Scene Time, which
  follows the scene's time remapping like F-curves do): a CONSTANT stretch holds ``values[i]``, a
  LINEAR one runs to ``values[i+1]``; before the first key the first value holds, after the last
  the last.
* The forward and backward pulse positions (one value per synapse layer) are plain keyed
  modifier inputs with the plan's own interpolation.

A synapse's radius is ``look.synapse_radius_keys`` of the two keys' weights, mixed by the same
fraction: it moves exactly as the per-object F-curves of its scale (keyed with those radii) do.

Solid shading: the instances of synapses whose trained weight is negative get the red-displayed
copy of the synapse material (as per-object builds do), so Solid's default Material colour shows
green and red.

Row numbers are float32 in the node tree: a table holds fewer than 2**24 rows (checked).
"""

from __future__ import annotations

import bpy
import numpy as np

from . import compat, keys, labels, look, materials, meshes
from .buildctx import DATA, NEURONS, ROLE, SYNAPSES, BuildContext

#: Float attribute of a table's points: one key of one item each.
VALUE = "nna_value"
#: Point attributes of a synapse layer object (static): rotation (Euler XYZ), length, trained sign.
ROTATION = "nna_rot"
LENGTH = "nna_len"
INHIBIT = "nna_inhibit"
#: Point (and so instance) attribute of both kinds of objects: the neuron's index in its layer, or
#: the synapse's index in its synapse layer (the plan's synapse numbering).
INDEX = "nna_index"
#: Instance attribute of the radius (the material does not need it; kept for inspection).
RADIUS = "nna_radius"

NEURON_MODIFIER = "NNA Neurons"
SYNAPSE_MODIFIER = "NNA Synapses"
#: float32 holds every whole number below this exactly: the most rows a table may have.
MAX_TABLE_ROWS = 2**24


class TableTooLarge(ValueError):
    pass


# --------------------------------------------------------------------------------------------
# node groups


def _sample_group(ctx: BuildContext) -> bpy.types.NodeTree:
    """``NNA Key Sample``: the value of one track at the current frame, as a field over the points."""
    key = "instanced.sample_group"
    if key in ctx.shared:
        return ctx.shared[key]
    ng = ctx.tag(bpy.data.node_groups.new("NNA Key Sample", "GeometryNodeTree"))
    t = labels.Tree(ng)
    table = t.input("Table", "NodeSocketGeometry")
    count = t.input("Count", "NodeSocketFloat", 1.0)
    offset = t.input("Offset", "NodeSocketFloat", 0.0)
    key_in = t.input("Key", "NodeSocketFloat", 0.0)
    start = t.input("Start", "NodeSocketFloat", 0.0)
    rate = t.input("Rate", "NodeSocketFloat", 0.0)
    last = t.input("Last", "NodeSocketFloat", 0.0)
    index = t.node("GeometryNodeInputIndex").outputs[0]
    value = t.node("GeometryNodeInputNamedAttribute", {"Name": VALUE}, data_type="FLOAT").outputs["Attribute"]

    def row(k):
        return t.math("ADD", t.math("ADD", offset, t.math("MULTIPLY", k, count)), index)

    def sample(k):
        n = t.node("GeometryNodeSampleIndex", {"Geometry": table, "Value": value, "Index": row(k)}, data_type="FLOAT")
        n.domain = "POINT"
        return n.outputs[0]

    now = t.node("GeometryNodeInputSceneTime").outputs["Frame"]
    frac = t.node(
        "ShaderNodeMath", {0: t.math("SUBTRACT", now, start), 1: rate}, operation="MULTIPLY", use_clamp=True
    ).outputs[0]
    a = sample(key_in)
    b = sample(t.math("MINIMUM", t.math("ADD", key_in, 1.0), last))
    value = mix(t, frac, a, b)
    out = ng.nodes.new("NodeGroupOutput")
    t.order.append(out)
    for name, sock in (("Value", value), ("A", a), ("B", b), ("Factor", frac)):
        ng.interface.new_socket(name, in_out="OUTPUT", socket_type="NodeSocketFloat")
        ng.links.new(sock, out.inputs[name])
    t.arrange()
    ctx.shared[key] = ng
    return ng


def mix(t: labels.Tree, factor, a, b):
    return t.node("ShaderNodeMix", {"Factor": factor, "A": a, "B": b}, data_type="FLOAT").outputs["Result"]


#: Tracks of a synapse layer: (name, timing), timing naming the inputs Key/Start/Rate/Last it uses.
SYNAPSE_TRACKS = (
    (materials.WEIGHT, "W"),
    (materials.SIGNAL, "S"),
    (materials.ERROR, "E"),
)
TIMINGS = ("W", "S", "E")


def _timing_inputs(t: labels.Tree, prefix: str) -> dict:
    return {
        part: t.input(f"{prefix}{part}", "NodeSocketFloat", 1.0 if part == "Count" else 0.0)
        for part in ("Key", "Start", "Rate", "Last")
    }


def _sampled(t: labels.Tree, ctx: BuildContext, table, count, offset, timing: dict):
    """The ``NNA Key Sample`` node's outputs: Value (at the current frame), A and B (the two keys'
    values) and Factor (how far from A to B)."""
    n = t.node("GeometryNodeGroup", node_tree=_sample_group(ctx))
    for name, sock in (("Table", table), ("Count", count), ("Offset", offset), *timing.items()):
        t.feed(n.inputs[name], sock)
    return n.outputs


def _radius(t: labels.Tree, weight, scale, inverse):
    """look.synapse_radius_keys of one weight: ``scale * (R_MIN + (R_MAX - R_MIN) * g)`` with
    ``g = min(|w| * inverse, 1)`` for a big layer (inverse > 0), else ``tanh(|w| / W_REF)``."""
    w = t.math("ABSOLUTE", weight)
    dense = t.math("TANH", t.math("DIVIDE", w, look.W_REF))
    big = t.math("MINIMUM", t.math("MULTIPLY", w, inverse), 1.0)
    g = t.switch(t.compare("GREATER_THAN", inverse, 0.0), dense, big, kind="FLOAT")
    return t.math("MULTIPLY", scale, t.math("ADD", look.R_MIN, t.math("MULTIPLY", look.R_MAX - look.R_MIN, g)))


def _store(t: labels.Tree, geometry, name: str, value, data_type: str = "FLOAT"):
    return t.node(
        "GeometryNodeStoreNamedAttribute",
        {"Geometry": geometry, "Name": name, "Value": value},
        data_type=data_type,
        domain="POINT",
    ).outputs[0]


def _shape(t: labels.Tree, shape, material):
    geo = t.node("GeometryNodeObjectInfo", {"Object": shape}, transform_space="ORIGINAL").outputs["Geometry"]
    return t.node("GeometryNodeSetMaterial", {"Geometry": geo, "Material": material}).outputs[0]


def _neuron_group(ctx: BuildContext) -> bpy.types.NodeTree:
    """``NNA Neuron Layer``: activity per point, then the shape (sphere or tile) on every point."""
    key = "instanced.neuron_group"
    if key in ctx.shared:
        return ctx.shared[key]
    ng = ctx.tag(bpy.data.node_groups.new("NNA Neuron Layer", "GeometryNodeTree"))
    ng.is_modifier = True
    t = labels.Tree(ng)
    points = t.input("Geometry", "NodeSocketGeometry")
    table = t.input("Table", "NodeSocketObject")
    shape = t.input("Shape", "NodeSocketObject")
    material = t.input("Material", "NodeSocketMaterial")
    size = t.input("Size", "NodeSocketFloat", look.NEURON_RADIUS)
    count = t.input("Count", "NodeSocketFloat", 1.0)
    offset = t.input("Offset", "NodeSocketFloat", 0.0)
    timing = _timing_inputs(t, "A ")
    table_geo = t.node("GeometryNodeObjectInfo", {"Object": table}, transform_space="ORIGINAL").outputs["Geometry"]
    value = _sampled(t, ctx, table_geo, count, offset, timing)["Value"]
    points = _store(t, points, materials.ACTIVITY, value)
    inst = t.node(
        "GeometryNodeInstanceOnPoints",
        {"Points": points, "Instance": _shape(t, shape, material), "Scale": t.vector(size, size, size)},
    )
    t.output(inst.outputs[0])
    ctx.shared[key] = ng
    return ng


def _synapse_group(ctx: BuildContext) -> bpy.types.NodeTree:
    """``NNA Synapse Layer``: weight, radius, signal and error per point, pulses and fade per layer, then
    a cylinder on every point turned towards its receiving neuron, scaled to (radius, radius, length)."""
    key = "instanced.synapse_group"
    if key in ctx.shared:
        return ctx.shared[key]
    ng = ctx.tag(bpy.data.node_groups.new("NNA Synapse Layer", "GeometryNodeTree"))
    ng.is_modifier = True
    t = labels.Tree(ng)
    points = t.input("Geometry", "NodeSocketGeometry")
    table = t.input("Table", "NodeSocketObject")
    shape = t.input("Shape", "NodeSocketObject")
    excite = t.input("Material", "NodeSocketMaterial")
    inhibit = t.input("Inhibit Material", "NodeSocketMaterial")
    count = t.input("Count", "NodeSocketFloat", 1.0)
    offsets = {name: t.input(f"{name} Offset", "NodeSocketFloat", 0.0) for name, _ in SYNAPSE_TRACKS}
    timings = {prefix: _timing_inputs(t, f"{prefix} ") for prefix in TIMINGS}
    forward = t.input("Forward", "NodeSocketFloat", 0.0)
    backward = t.input("Backward", "NodeSocketFloat", 0.0)
    dim = t.input("Dim", "NodeSocketFloat", 0.0)
    inverse = t.input("Inverse Peak", "NodeSocketFloat", 0.0)
    radius_scale = t.input("Radius Scale", "NodeSocketFloat", 1.0)

    table_geo = t.node("GeometryNodeObjectInfo", {"Object": table}, transform_space="ORIGINAL").outputs["Geometry"]
    for name, prefix in SYNAPSE_TRACKS:
        out = _sampled(t, ctx, table_geo, count, offsets[name], timings[prefix])
        points = _store(t, points, name, out["Value"])
        if name == materials.WEIGHT:
            ra, rb = (_radius(t, out[k], radius_scale, inverse) for k in ("A", "B"))
            points = _store(t, points, RADIUS, mix(t, out["Factor"], ra, rb))
    for name, value in (
        (materials.FORWARD, forward),
        (materials.BACKWARD, backward),
        (materials.DIM, dim),
        (materials.INVERSE_PEAK, inverse),
    ):
        points = _store(t, points, name, value)

    def attr(name, data_type="FLOAT"):
        n = t.node("GeometryNodeInputNamedAttribute", {"Name": name}, data_type=data_type)
        return n.outputs["Attribute"]

    radius = attr(RADIUS)
    scale = t.vector(radius, radius, attr(LENGTH))
    rotation = t.node("FunctionNodeEulerToRotation", {"Euler": attr(ROTATION, "FLOAT_VECTOR")}).outputs[0]
    negative = attr(INHIBIT, "BOOLEAN")
    positive = t.node("FunctionNodeBooleanMath", {0: negative}, operation="NOT").outputs[0]
    parts = []
    for selection, material in ((positive, excite), (negative, inhibit)):
        inst = t.node(
            "GeometryNodeInstanceOnPoints",
            {
                "Points": points,
                "Selection": selection,
                "Instance": _shape(t, shape, material),
                "Rotation": rotation,
                "Scale": scale,
            },
        )
        parts.append(inst.outputs[0])
    t.output(t.joined(*parts))
    ctx.shared[key] = ng
    return ng


# --------------------------------------------------------------------------------------------
# data


def _points_mesh(ctx: BuildContext, name: str, co: np.ndarray) -> bpy.types.Mesh:
    me = ctx.tag(bpy.data.meshes.new(name))
    me.vertices.add(len(co))
    me.vertices.foreach_set("co", np.ascontiguousarray(co, dtype=np.float32).ravel())
    return me


def _attribute(me: bpy.types.Mesh, name: str, kind: str, values: np.ndarray) -> None:
    dtype = {"FLOAT": np.float32, "INT": np.int32, "BOOLEAN": bool, "FLOAT_VECTOR": np.float32}[kind]
    field = "vector" if kind == "FLOAT_VECTOR" else "value"
    me.attributes.new(name, kind, "POINT").data.foreach_set(field, np.ascontiguousarray(values, dtype=dtype).ravel())


def _table(ctx: BuildContext, name: str, blocks: list[np.ndarray]) -> bpy.types.Object:
    """An object (in no collection) whose mesh's points hold ``blocks`` (each K x N, key-major) one
    value a point, in order."""
    rows = sum(b.size for b in blocks)
    if rows >= MAX_TABLE_ROWS:
        raise TableTooLarge(f"{name}: {rows:,} keyed values, over the limit of {MAX_TABLE_ROWS - 1:,}")
    me = ctx.tag(bpy.data.meshes.new(name))
    me.vertices.add(rows)
    values = np.concatenate([np.ascontiguousarray(b, dtype=np.float32).ravel() for b in blocks])
    me.attributes.new(VALUE, "FLOAT", "POINT").data.foreach_set("value", values)
    ob = ctx.tag(bpy.data.objects.new(name, me))
    ob[ROLE] = DATA
    return ob


def _shape_object(ctx: BuildContext, name: str, mesh: bpy.types.Mesh) -> bpy.types.Object:
    """The shape instanced on the points: an object in no collection (never drawn itself)."""
    key = f"instanced.shape.{mesh.name}"
    if key not in ctx.shared:
        ob = ctx.tag(bpy.data.objects.new(name, mesh))
        ob[ROLE] = DATA
        ctx.shared[key] = ob
    return ctx.shared[key]


def timing_columns(frames: np.ndarray, interp: np.ndarray) -> dict[str, np.ndarray]:
    """The CONSTANT-keyed Key, Start and Rate of a track (see the module docstring), at ``frames``."""
    frames = np.asarray(frames, dtype=np.float64)
    k = len(frames)
    rate = np.zeros(k)
    if k > 1:
        linear = np.asarray(interp)[:-1] == keys.INTERPOLATION["LINEAR"]
        rate[:-1] = np.where(linear, 1.0 / np.diff(frames), 0.0)
    return {"Key": np.arange(k, dtype=np.float64), "Start": frames, "Rate": rate}


def _set(mod: bpy.types.Modifier, values: dict) -> None:
    for name, value in values.items():
        mod[labels.socket_id(mod.node_group, name)] = value


def _key(ctx: BuildContext, ob: bpy.types.Object, mod, channels: dict) -> int:
    """Key modifier inputs: ``channels`` maps a socket name to (frames, values, interpolation codes)."""
    names = list(channels)
    fcs = compat.new_action_fcurves(ob, f"{ob.name} Action", [(labels.input_path(mod, n), 0) for n in names])
    ctx.tag(ob.animation_data.action)
    for fc, n in zip(fcs, names):
        frames, values, interp = channels[n]
        keys.write(fc, np.asarray(frames, np.float32), np.asarray(values, np.float32), np.asarray(interp, np.int32))
        mod[labels.socket_id(mod.node_group, n)] = float(values[0])
    return sum(len(v[0]) for v in channels.values())


def _timing_channels(prefix: str, frames, interp) -> dict:
    constant = np.zeros(len(frames), dtype=np.int32)
    return {f"{prefix} {name}": (frames, col, constant) for name, col in timing_columns(frames, interp).items()}


def _modifier_object(ctx: BuildContext, name: str, mesh, group, modifier: str, role: str, layer: int):
    ob = ctx.link(bpy.data.objects.new(name, mesh))
    ob[ROLE] = role
    ob["nna_layer"] = layer
    mod = ob.modifiers.new(modifier, "NODES")
    mod.node_group = group
    return ob, mod


# --------------------------------------------------------------------------------------------
# the build


def build(ctx: BuildContext, plan: dict, pos: list[np.ndarray], report) -> tuple[int, int, int]:
    """Build the instanced neurons and synapses of ``plan`` at positions ``pos``; returns
    (neurons, synapses drawn, keyed values)."""
    layers = [int(n) for n in plan["network"]["layers"]]
    n_total = sum(layers)
    source = materials.INSTANCER
    n_values = 0

    # neurons: one table for every layer's activity, one object per layer ------------------------
    report(0.05, "neurons")
    act = plan["tracks"]["neuron_activity"]
    frames = np.asarray(act["frames"], dtype=np.float64)
    interp = keys.interpolation_codes(act["interpolation"])
    values = np.asarray(act["values"], dtype=np.float32)  # K x n_total
    table = _table(ctx, "NNA Neuron table", [values])
    n_values += values.size
    group = _neuron_group(ctx)
    offsets = np.concatenate([[0], np.cumsum(layers)])
    sphere = _shape_object(ctx, "NNA Neuron shape", meshes.sphere(ctx))
    for k, n in enumerate(layers):
        image = look.is_image(k, n)
        me = _points_mesh(ctx, f"NNA Neurons {k}", pos[k])
        _attribute(me, INDEX, "INT", np.arange(n))
        ob, mod = _modifier_object(ctx, f"NNA Neurons {k}", me, group, NEURON_MODIFIER, NEURONS, k)
        shape = _shape_object(ctx, "NNA Pixel shape", meshes.tile(ctx)) if image else sphere
        material = materials.pixel_material(ctx, source) if image else materials.neuron_material(ctx, source)
        _set(
            mod,
            {
                "Table": table,
                "Shape": shape,
                "Material": material,
                "Size": float(look.tile_size(k, n) if image else look.NEURON_RADIUS),
                "Count": float(n_total),
                "Offset": float(offsets[k]),
                "A Last": float(len(frames) - 1),
            },
        )
        _key(ctx, ob, mod, _timing_channels("A", frames, interp))

    # synapses: one table and one object per synapse layer -------------------------------------------
    report(0.2, "synapses")
    r_scale = look.radius_scale(layers)
    group = _synapse_group(ctx)
    cylinder = meshes.cylinder(ctx, meshes.cylinder_sides(sum(a * b for a, b in zip(layers[:-1], layers[1:]))))
    n_drawn = 0
    n_seg = len(layers) - 1
    for k, g in enumerate(plan["tracks"]["synapse_layers"]):
        n_syn = layers[k] * layers[k + 1]
        weights = np.asarray(g["weight"]["values"], dtype=np.float32)  # K x N
        target = np.asarray(g["target"])
        drawn = look.drawn_synapses(weights, target, layers[k + 1])
        every = len(drawn) == n_syn

        def pick(values, every=every, drawn=drawn):
            return values if every else values[:, drawn]

        src, dst = pick(np.asarray(g["source"])[None])[0], pick(target[None])[0]
        start, d = pos[k][src], pos[k + 1][dst] - pos[k][src]
        length = np.linalg.norm(d, axis=1)
        pitch = np.arccos(np.clip(d[:, 2] / length, -1.0, 1.0))
        yaw = np.arctan2(d[:, 1], d[:, 0])
        w = pick(weights)
        signal = pick(np.asarray(g["signal"]["values"], dtype=np.float32))
        error = pick(np.asarray(g["error"]["values"], dtype=np.float32))
        blocks = [w, signal, error]
        table = _table(ctx, f"NNA Synapse table {k}", blocks)
        n_values += sum(b.size for b in blocks)

        me = _points_mesh(ctx, f"NNA Synapses {k}", start)
        _attribute(me, INDEX, "INT", drawn)
        _attribute(me, ROTATION, "FLOAT_VECTOR", np.stack([np.zeros_like(pitch), pitch, yaw], axis=1))
        _attribute(me, LENGTH, "FLOAT", length)
        _attribute(me, INHIBIT, "BOOLEAN", w[-1] < 0)  # Solid shading shows the trained sign
        ob, mod = _modifier_object(ctx, f"NNA Synapses {k}", me, group, SYNAPSE_MODIFIER, SYNAPSES, k)
        dim, inv = look.fade_params(weights, n_syn)
        sizes = np.cumsum([0] + [b.size for b in blocks])
        statics = {
            "Table": table,
            "Shape": _shape_object(ctx, "NNA Synapse shape", cylinder),
            "Material": materials.synapse_material(ctx, source),
            "Inhibit Material": materials.synapse_inhibit_material(ctx, source),
            "Count": float(len(drawn)),
            "Dim": float(dim),
            "Inverse Peak": float(inv),
            "Radius Scale": float(r_scale),
        }
        statics.update({f"{name} Offset": float(sizes[i]) for i, (name, _) in enumerate(SYNAPSE_TRACKS)})
        channels = {}
        for prefix, track in (("W", g["weight"]), ("S", g["signal"]), ("E", g["error"])):
            statics[f"{prefix} Last"] = float(len(track["frames"]) - 1)
            channels.update(_timing_channels(prefix, track["frames"], keys.interpolation_codes(track["interpolation"])))
        for name, track in (("Forward", g["forward"]), ("Backward", g["backward"])):
            channels[name] = (track["frames"], track["values"], keys.interpolation_codes(track["interpolation"]))
            n_values += len(track["frames"])
        _set(mod, statics)
        _key(ctx, ob, mod, channels)
        n_drawn += len(drawn)
        report(0.2 + 0.6 * (k + 1) / n_seg, f"synapses of layer {k + 1}")
    return n_total, n_drawn, n_values
