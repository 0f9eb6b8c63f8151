"""The shared materials: neurons glow with activity, synapses show weight, signal and error.

Each reads its values through Attribute nodes, so one material serves every neuron (or synapse)
and renders in any Blender with no add-on code. The formulas are those of ``look.py``.

* One object per neuron and synapse (small networks): keyed custom properties of the object,
  Attribute nodes of type OBJECT.
* Instanced networks (``instanced.py``): the same names as attributes of the instances, made by
  Geometry Nodes; Attribute nodes of type INSTANCER (OBJECT and GEOMETRY read 0 on instances).

Both variants have the same nodes and names, so they render the same pixels.
"""

from __future__ import annotations

import bpy

from . import compat, look
from .buildctx import BuildContext

#: Keyed custom properties the materials read.
ACTIVITY = "nna_activity"
WEIGHT = "nna_weight"
SIGNAL = "nna_signal"
FORWARD = "nna_fwd"
BACKWARD = "nna_back"
ERROR = "nna_err"
#: Static values of a big synapse layer's fade (look.fade_params); absent (0) means no fade.
DIM = "nna_dim"
INVERSE_PEAK = "nna_inv"

#: Where the materials read their values: per-object custom properties, or instance attributes.
OBJECT = "OBJECT"
INSTANCER = "INSTANCER"


class _Graph:
    """Tiny helper to wire shader nodes: numbers become default values, sockets are linked."""

    def __init__(self, tree: bpy.types.NodeTree, source: str = OBJECT) -> None:
        self.tree = tree
        self.source = source
        tree.nodes.clear()
        self.x = 0

    def node(self, kind: str, **props):
        n = self.tree.nodes.new(kind)
        n.location = (self.x, 0)
        self.x += 40
        for k, v in props.items():
            setattr(n, k, v)
        return n

    def feed(self, sock, value) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.tree.links.new(value, sock)
        else:
            sock.default_value = value

    def attr(self, name: str):
        return self.node("ShaderNodeAttribute", attribute_type=self.source, attribute_name=name).outputs["Fac"]

    def math(self, op: str, a, b=0.0, clamp: bool = False):
        n = self.node("ShaderNodeMath", operation=op, use_clamp=clamp)
        self.feed(n.inputs[0], a)
        self.feed(n.inputs[1], b)
        return n.outputs[0]

    def vmath(self, op: str, a, b=None, scale=None):
        n = self.node("ShaderNodeVectorMath", operation=op)
        self.feed(n.inputs[0], a)
        if b is not None:
            self.feed(n.inputs[1], b)
        if scale is not None:
            self.feed(n.inputs["Scale"], scale)
        return n.outputs["Vector"]

    def pulse(self, z, position):
        """look.pulse: clamp(1 - |z - p| / width) where 0 < p < 1, else 0."""
        near = self.math(
            "SUBTRACT",
            1.0,
            self.math("DIVIDE", self.math("ABSOLUTE", self.math("SUBTRACT", z, position)), look.PULSE_WIDTH),
            clamp=True,
        )
        inside = self.math("MULTIPLY", self.math("GREATER_THAN", position, 0.0), self.math("LESS_THAN", position, 1.0))
        return self.math("MULTIPLY", near, inside)

    def output(self, shader) -> None:
        out = self.node("ShaderNodeOutputMaterial")
        self.tree.links.new(shader, out.inputs["Surface"])


def _material(ctx: BuildContext, name: str, source: str = OBJECT) -> tuple[bpy.types.Material, _Graph]:
    mat = ctx.tag(bpy.data.materials.new(name))
    return mat, _Graph(compat.ensure_node_tree(mat), source)


def _glowing(ctx: BuildContext, key: str, name: str, source: str, max_glow: float, base) -> bpy.types.Material:
    """Dark diffuse ``base`` plus emission NEURON_GLOW x ``max_glow`` x min(|activity|, 1)."""
    key = f"{key}:{source}"
    if key in ctx.shared:
        return ctx.shared[key]
    mat, g = _material(ctx, name, source)
    strength = g.math("MULTIPLY", g.math("MINIMUM", g.math("ABSOLUTE", g.attr(ACTIVITY)), 1.0), max_glow)
    em = g.node("ShaderNodeEmission")
    em.inputs["Color"].default_value = (*look.NEURON_GLOW, 1.0)
    g.feed(em.inputs["Strength"], strength)
    diffuse = g.node("ShaderNodeBsdfDiffuse")
    diffuse.inputs["Color"].default_value = (*base, 1.0)
    add = g.node("ShaderNodeAddShader")
    g.tree.links.new(diffuse.outputs[0], add.inputs[0])
    g.tree.links.new(em.outputs[0], add.inputs[1])
    g.output(add.outputs[0])
    mat.diffuse_color = (*look.NEURON_GLOW, 1.0)
    ctx.shared[key] = mat
    return mat


def neuron_material(ctx: BuildContext, source: str = OBJECT) -> bpy.types.Material:
    return _glowing(ctx, "neuron_material", "NNA Neuron", source, look.NEURON_MAX_GLOW, look.NEURON_BASE)


def pixel_material(ctx: BuildContext, source: str = OBJECT) -> bpy.types.Material:
    """An input image's tile: look.pixel_glow of the activity (the example's input value)."""
    return _glowing(ctx, "pixel_material", "NNA Pixel", source, look.PIXEL_GLOW, look.PIXEL_BASE)


def synapse_material(ctx: BuildContext, source: str = OBJECT) -> bpy.types.Material:
    key = f"synapse_material:{source}"
    if key in ctx.shared:
        return ctx.shared[key]
    mat, g = _material(ctx, "NNA Synapse", source)
    weight = g.attr(WEIGHT)
    positive = g.math("GREATER_THAN", weight, 0.0)
    delta = tuple(gc - rc for gc, rc in zip(look.GREEN, look.RED))
    colour = g.vmath("ADD", g.vmath("SCALE", delta, scale=positive), look.RED)
    colour = g.vmath("SCALE", colour, scale=look.SYNAPSE_GLOW)
    # look.synapse_fade: 1 - dim * (1 - min(|w| * inv, 1) ** 2); dim = 0 (a dense layer, or unset) gives 1
    u = g.math("MINIMUM", g.math("MULTIPLY", g.math("ABSOLUTE", weight), g.attr(INVERSE_PEAK)), 1.0)
    fade = g.math("SUBTRACT", 1.0, g.math("MULTIPLY", g.attr(DIM), g.math("SUBTRACT", 1.0, g.math("MULTIPLY", u, u))))
    colour = g.vmath("SCALE", colour, scale=fade)
    z = g.node("ShaderNodeSeparateXYZ")
    g.feed(z.inputs[0], g.node("ShaderNodeTexCoord").outputs["Object"])
    z = z.outputs["Z"]
    fwd = g.math("MULTIPLY", g.pulse(z, g.attr(FORWARD)), g.math("MULTIPLY", g.attr(SIGNAL), look.PULSE_GLOW))
    back_pos = g.attr(BACKWARD)
    back = g.math(
        "MULTIPLY", g.pulse(g.math("SUBTRACT", 1.0, z), back_pos), g.math("MULTIPLY", g.attr(ERROR), look.PULSE_GLOW)
    )
    colour = g.vmath("ADD", colour, g.vmath("SCALE", look.SIGNAL, scale=fwd))
    colour = g.vmath("ADD", colour, g.vmath("SCALE", look.ERROR, scale=back))
    em = g.node("ShaderNodeEmission")
    g.feed(em.inputs["Color"], colour)
    em.inputs["Strength"].default_value = 1.0
    g.output(em.outputs[0])
    mat.diffuse_color = (*look.GREEN, 1.0)  # Solid shading: excitatory green
    ctx.shared[key] = mat
    return mat


def synapse_inhibit_material(ctx: BuildContext, source: str = OBJECT) -> bpy.types.Material:
    """The synapse material again, shown red in Solid shading: given to the synapses whose trained
    weight is negative (linked to the object; instanced: the instances of those synapses). Renders
    exactly as :func:`synapse_material` (the same nodes read the weight); only the viewport display
    colour differs."""
    key = f"synapse_inhibit:{source}"
    if key not in ctx.shared:
        mat = ctx.tag(synapse_material(ctx, source).copy())
        mat.name = "NNA Synapse inhibit"
        mat.diffuse_color = (*look.RED, 1.0)
        ctx.shared[key] = mat
    return ctx.shared[key]
