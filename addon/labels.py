"""Text and the loss curve, drawn by Geometry Nodes so that they render with no add-on code.

A text object's body cannot be keyframed, so every changing text here is a mesh object with a
Nodes modifier whose float inputs are keyed (CONSTANT interpolation) through the modifier's data
path ``modifiers["<modifier>"]["<socket identifier>"]``; the node group turns the numbers into
strings (Value to String, Join Strings, Index Switch, ...) and the strings into filled curves
(String to Curves -> Realize Instances -> Fill Curve). The loss curve is a polyline whose points
carry their reveal frame as an attribute; its node group deletes the points not yet reached
(Scene Time) and sweeps a thin circle along the rest; its axes and their labels are a separate,
static object (a node group that reads Scene Time is re-made on every frame, text is costly).

All objects face the camera: the geometry is built in the local XY plane and the object is
turned 90 degrees about X (the front view, a camera looking along +Y), so text reads along +X
with +Z up; for the three-quarter view of big networks the objects take the camera's rotation.
"""

from __future__ import annotations

import math

import bpy
import numpy as np

from . import compat, keys, look
from .buildctx import HUD, LABEL, LOSS_CURVE, OVERLAY, ROLE, BuildContext

#: Instance attribute that numbers the glyphs of a text, so each is filled on its own.
GLYPH_ATTR = "nna_glyph"

#: Colours (linear RGB) and emission strengths.
TEXT_COLOUR = (0.92, 0.94, 1.0)
TEXT_GLOW = 1.6
LOSS_COLOUR = (1.0, 0.3, 0.02)
LOSS_GLOW = 1.2
#: The loss curve's axes are dimmer than its text (a frame, not a bright bar at the origin); its
#: current point is a bright disc.
AXIS_COLOUR = (0.55, 0.58, 0.66)
AXIS_GLOW = 0.5
MARKER_COLOUR = (1.0, 0.85, 0.6)
MARKER_GLOW = 3.0

#: The HUD shows at most this many inputs and outputs (targets) of an example.
HUD_MAX_INPUTS = 8
HUD_MAX_OUTPUTS = 4
#: A classifier's HUD names the target class and the answer (up to this many classes; else numbers).
MAX_NAMED_CLASSES = 32

#: Mesh attribute of the loss curve's points: the frame at which each point appears.
REVEAL_ATTR = "nna_reveal_frame"
#: Mesh attribute of the loss curve's points: their place in the unit square (log cycle, error / top).
UNIT_ATTR = "nna_unit"

NUMBER_MODIFIER = "NNA Number"
TEXT_MODIFIER = "NNA Text"
HUD_MODIFIER = "NNA HUD"
LOSS_MODIFIER = "NNA Loss Curve"
LOSS_AXES_MODIFIER = "NNA Loss Axes"

#: Phase values of plan["tracks"]["text"]["phase"] (nncore.timeline.PHASES): the order of the HUD's Index Switch items.
BEFORE, TRAINING, AFTER, QUERY = range(4)

#: Geometry is built in local XY; this rotation stands it up in the world X-Z plane.
FACING_CAMERA = (math.pi / 2, 0.0, 0.0)


# --------------------------------------------------------------------------------------------
# a small helper to wire Geometry Nodes trees readably


class _Tree:
    """Wires a node group: plain values become socket defaults, sockets get linked.

    Nodes are created after the nodes they read from, so :meth:`arrange` can lay them out in
    columns by depth for anyone who opens the group in the node editor.
    """

    def __init__(self, ng: bpy.types.NodeTree) -> None:
        self.ng = ng
        ng.nodes.clear()
        self.group_in = ng.nodes.new("NodeGroupInput")
        self.order: list[bpy.types.Node] = [self.group_in]

    # -- plumbing ------------------------------------------------------------------------------
    def feed(self, socket: bpy.types.NodeSocket, value) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.ng.links.new(value, socket)
        else:
            socket.default_value = value

    def node(self, kind: str, inputs: dict | None = None, **props) -> bpy.types.Node:
        """A new node; ``props`` are set first (they may change which sockets exist), then ``inputs``
        (by socket name, the first enabled socket of that name, or by index)."""
        n = self.ng.nodes.new(kind)
        for key, value in props.items():
            setattr(n, key, value)
        for key, value in (inputs or {}).items():
            if isinstance(key, int):
                sock = n.inputs[key]
            else:
                sock = next(s for s in n.inputs if s.name == key and s.enabled)
            self.feed(sock, value)
        self.order.append(n)
        return n

    def input(self, name: str, socket_type: str, default=None, min_value=None) -> bpy.types.NodeSocket:
        """A new group input; returns the Group Input node's socket for it."""
        item = self.ng.interface.new_socket(name, in_out="INPUT", socket_type=socket_type)
        if default is not None:
            item.default_value = default
        if min_value is not None:
            item.min_value = min_value
        return next(s for s in self.group_in.outputs if s.identifier == item.identifier)

    def output(
        self, geometry: bpy.types.NodeSocket, name: str = "Geometry", socket_type: str = "NodeSocketGeometry"
    ) -> None:
        """The group's one output (a geometry, or e.g. a float field), linked from ``geometry``."""
        self.ng.interface.new_socket(name, in_out="OUTPUT", socket_type=socket_type)
        out = self.ng.nodes.new("NodeGroupOutput")
        self.order.append(out)
        self.ng.links.new(geometry, out.inputs[0])
        self.arrange()

    def arrange(self) -> None:
        # the tree's links read once (a socket's ``links`` scans every link of the tree)
        sources: dict[str, list[str]] = {}
        for link in self.ng.links:
            sources.setdefault(link.to_node.name, []).append(link.from_node.name)
        depth: dict[str, int] = {}
        rows: dict[int, int] = {}
        where: dict[str, tuple[float, float]] = {}
        for n in self.order:
            d = max((depth[name] + 1 for name in sources.get(n.name, ())), default=0)
            depth[n.name] = d
            where[n.name] = (d * 220.0, -rows.get(d, 0) * 170.0)
            rows[d] = rows.get(d, 0) + 1
        # in bulk: setting one node's location updates the whole tree (~1 ms a node)
        nodes = self.ng.nodes
        loc = np.empty(2 * len(nodes), dtype=np.float32)
        nodes.foreach_get("location", loc)
        loc = loc.reshape(-1, 2)
        for i, n in enumerate(nodes):
            if n.name in where:
                loc[i] = where[n.name]
        nodes.foreach_set("location", loc.ravel())

    # -- numbers -------------------------------------------------------------------------------
    def math(self, op: str, a, b=0.0) -> bpy.types.NodeSocket:
        return self.node("ShaderNodeMath", {0: a, 1: b}, operation=op).outputs[0]

    def compare(self, op: str, a, b) -> bpy.types.NodeSocket:
        """A boolean: ``a <op> b`` for floats (op: LESS_THAN, GREATER_EQUAL, ...)."""
        return self.node("FunctionNodeCompare", {"A": a, "B": b}, data_type="FLOAT", operation=op).outputs[0]

    # -- strings -------------------------------------------------------------------------------
    def string(self, text: str) -> bpy.types.NodeSocket:
        return self.node("FunctionNodeInputString", string=text).outputs[0]

    def line_break(self) -> bpy.types.NodeSocket:
        return self.node("FunctionNodeInputSpecialCharacters").outputs["Line Break"]

    def to_string(self, value, decimals) -> bpy.types.NodeSocket:
        return self.node("FunctionNodeValueToString", {"Value": value, "Decimals": decimals}).outputs["String"]

    def join(self, *parts, delimiter="") -> bpy.types.NodeSocket:
        """Concatenate strings (sockets or Python str) in the given order.

        Join Strings puts the most recently linked string first (checked in 4.2, 4.5 and 5.0),
        so the parts are linked last to first.
        """
        n = self.node("GeometryNodeStringJoin", {"Delimiter": delimiter})
        for part in reversed(parts):
            sock = part if isinstance(part, bpy.types.NodeSocket) else self.string(part)
            self.ng.links.new(sock, n.inputs["Strings"])
        self.order.remove(n)  # keep creation order topological: after its string nodes
        self.order.append(n)
        return n.outputs[0]

    def switch(self, condition, if_false, if_true, kind: str = "STRING") -> bpy.types.NodeSocket:
        """``if_true`` where ``condition`` holds, else ``if_false`` (None: the socket's default, e.g.
        no geometry)."""
        values = {"Switch": condition, "False": if_false, "True": if_true}
        n = self.node("GeometryNodeSwitch", {k: v for k, v in values.items() if v is not None}, input_type=kind)
        return n.outputs[0]

    def index_switch(self, index, items: list, kind: str = "STRING") -> bpy.types.NodeSocket:
        """``items[index]`` (a float index is converted to an integer by the link)."""
        n = self.node("GeometryNodeIndexSwitch", data_type=kind)
        while len(n.index_switch_items) < len(items):
            n.index_switch_items.new()
        self.feed(n.inputs["Index"], index)
        for i, item in enumerate(items):
            self.feed(n.inputs[i + 1], item)  # inputs: Index, then the items
        return n.outputs[0]

    def whole_number(self, value) -> bpy.types.NodeSocket:
        return self.to_string(value, 0)

    def compact_number(self, value) -> bpy.types.NodeSocket:
        """No decimals for a whole number (``1``), else two (``0.35``)."""
        fraction = self.math("ABSOLUTE", self.math("SUBTRACT", value, self.math("ROUND", value)))
        return self.to_string(value, self.math("MULTIPLY", self.math("GREATER_THAN", fraction, 0.0005), 2.0))

    def percent(self, fraction) -> bpy.types.NodeSocket:
        return self.join(self.to_string(self.math("MULTIPLY", fraction, 100.0), 2), "%")

    def thousands(self, value) -> bpy.types.NodeSocket:
        """A whole number below 10^9 with thousands separators: ``60,000``, ``1,234,567``.

        Groups come from exact float arithmetic (fmod, then the difference divided by 1000);
        a group is zero-padded as the last three characters of ``1000 + group``.
        """
        units = self.math("MODULO", value, 1000.0)
        kilo = self.math("DIVIDE", self.math("SUBTRACT", value, units), 1000.0)
        kilo_group = self.math("MODULO", kilo, 1000.0)
        mega = self.math("DIVIDE", self.math("SUBTRACT", kilo, kilo_group), 1000.0)

        def padded(group):
            return self.node(
                "FunctionNodeSliceString",
                {"String": self.whole_number(self.math("ADD", group, 1000.0)), "Position": 1, "Length": 3},
            ).outputs[0]

        units_padded = padded(units)
        below_thousand = self.whole_number(units)
        below_million = self.join(self.whole_number(kilo), ",", units_padded)
        millions = self.join(self.whole_number(mega), ",", padded(kilo_group), ",", units_padded)
        small = self.switch(self.compare("GREATER_EQUAL", value, 1000.0), below_thousand, below_million)
        return self.switch(self.compare("GREATER_EQUAL", value, 1.0e6), small, millions)

    def number_list(self, values: list, count, fmt) -> bpy.types.NodeSocket:
        """`` v0 v1 ...`` (each with a leading space) for the first ``count`` of ``values``."""
        parts = [
            self.switch(self.compare("LESS_THAN", i, count), "", self.join(" ", fmt(v))) for i, v in enumerate(values)
        ]
        return self.join(*parts)

    # -- geometry ------------------------------------------------------------------------------
    def text_mesh(self, string, size, material, align_x: str = "LEFT") -> bpy.types.NodeSocket:
        """Filled glyphs of ``string`` in the XY plane, first baseline at y = 0."""
        return self.filled(self.glyphs(string, size, align_x), material)

    def glyphs(self, string, size, align_x: str = "LEFT") -> bpy.types.NodeSocket:
        """The glyph outlines of ``string`` (curve instances; :meth:`filled` makes them a mesh).
        Several texts can be moved and joined first, then filled once (fewer nodes)."""
        curves = self.node("GeometryNodeStringToCurves", {"String": string, "Size": size}, align_x=align_x)
        return curves.outputs["Curve Instances"]

    def filled(self, glyphs, material) -> bpy.types.NodeSocket:
        """Glyph outlines (curve instances) as a filled mesh with ``material``."""
        # Fill each glyph on its own (Group ID = the glyph's instance index): filling all outlines
        # as one set is ~20x slower, and the text is re-made on every frame change. Outlines at a
        # low resolution, filled as n-gons, keep it cheaper still (HUD: ~0.4 s -> ~0.02 s a frame).
        glyph = self.node(
            "GeometryNodeStoreNamedAttribute",
            {0: glyphs, "Name": GLYPH_ATTR, "Value": self.node("GeometryNodeInputIndex").outputs[0]},
            data_type="INT",
            domain="INSTANCE",
        )
        real = self.node("GeometryNodeRealizeInstances", {"Geometry": glyph.outputs[0]})
        coarse = self.node("GeometryNodeSetSplineResolution", {0: real.outputs[0], "Resolution": 4})
        group = self.node("GeometryNodeInputNamedAttribute", {"Name": GLYPH_ATTR}, data_type="INT")
        fill = self.node("GeometryNodeFillCurve", {"Curve": coarse.outputs[0], "Group ID": group.outputs[0]})
        compat.fill_curve_ngons(fill)
        return self.node("GeometryNodeSetMaterial", {"Geometry": fill.outputs[0], "Material": material}).outputs[0]

    def tube(self, curve, radius, material) -> bpy.types.NodeSocket:
        """A curve swept with a small circle, so it renders."""
        profile = self.node("GeometryNodeCurvePrimitiveCircle", {"Resolution": 8, "Radius": radius}, mode="RADIUS")
        mesh = self.node(
            "GeometryNodeCurveToMesh", {"Curve": curve, "Profile Curve": profile.outputs["Curve"], "Fill Caps": True}
        )
        return self.node("GeometryNodeSetMaterial", {"Geometry": mesh.outputs[0], "Material": material}).outputs[0]

    def vector(self, x=0.0, y=0.0, z=0.0) -> bpy.types.NodeSocket:
        return self.node("ShaderNodeCombineXYZ", {"X": x, "Y": y, "Z": z}).outputs[0]

    def moved(self, geometry, translation) -> bpy.types.NodeSocket:
        return self.node("GeometryNodeTransform", {"Geometry": geometry, "Translation": translation}).outputs[0]

    def joined(self, *geometries) -> bpy.types.NodeSocket:
        n = self.node("GeometryNodeJoinGeometry")
        for g in geometries:
            self.ng.links.new(g, n.inputs[0])
        self.order.remove(n)
        self.order.append(n)
        return n.outputs[0]


#: The node-wiring helper, for the other Geometry Nodes groups of the add-on (instanced.py).
Tree = _Tree


# --------------------------------------------------------------------------------------------
# shared datablocks (one per build, through ctx.shared)


def _emission_material(ctx: BuildContext, key: str, name: str, colour, strength: float) -> bpy.types.Material:
    if key in ctx.shared:
        return ctx.shared[key]
    mat = ctx.tag(bpy.data.materials.new(name))
    tree = compat.ensure_node_tree(mat)
    tree.nodes.clear()
    em = tree.nodes.new("ShaderNodeEmission")
    em.inputs["Color"].default_value = (*colour, 1.0)
    em.inputs["Strength"].default_value = strength
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    out.location = (250, 0)
    tree.links.new(em.outputs[0], out.inputs["Surface"])
    mat.diffuse_color = (*colour, 1.0)
    ctx.shared[key] = mat
    return mat


def text_material(ctx: BuildContext) -> bpy.types.Material:
    return _emission_material(ctx, "labels.text_material", "NNA Text", TEXT_COLOUR, TEXT_GLOW)


def loss_material(ctx: BuildContext) -> bpy.types.Material:
    return _emission_material(ctx, "labels.loss_material", "NNA Loss Curve", LOSS_COLOUR, LOSS_GLOW)


def axis_material(ctx: BuildContext) -> bpy.types.Material:
    return _emission_material(ctx, "labels.axis_material", "NNA Axes", AXIS_COLOUR, AXIS_GLOW)


def marker_material(ctx: BuildContext) -> bpy.types.Material:
    return _emission_material(ctx, "labels.marker_material", "NNA Current Point", MARKER_COLOUR, MARKER_GLOW)


def _shared_group(ctx: BuildContext, key: str, name: str, build) -> bpy.types.NodeTree:
    if key not in ctx.shared:
        ng = ctx.tag(bpy.data.node_groups.new(name, "GeometryNodeTree"))
        ng.is_modifier = True
        build(ctx, _Tree(ng))
        ctx.shared[key] = ng
    return ctx.shared[key]


def _build_number_group(ctx: BuildContext, t: _Tree) -> None:
    """Value -> "0.73" as filled glyphs."""
    value = t.input("Value", "NodeSocketFloat", 0.0)
    decimals = t.input("Decimals", "NodeSocketInt", 2, min_value=0)
    size = t.input("Size", "NodeSocketFloat", 0.3, min_value=0.0)
    t.output(t.text_mesh(t.to_string(value, decimals), size, text_material(ctx)))


def _text_group(align: str):
    def build(ctx: BuildContext, t: _Tree) -> None:
        """A fixed string, baseline at y = 0, aligned at x = 0 (``align``: LEFT, CENTER, RIGHT)."""
        text = t.input("Text", "NodeSocketString", "")
        size = t.input("Size", "NodeSocketFloat", 0.3, min_value=0.0)
        t.output(t.text_mesh(text, size, text_material(ctx), align_x=align))

    return build


def _build_hud_group(ctx: BuildContext, t: _Tree, classes: list[str] | None = None, accuracy: bool = False) -> None:
    """Three lines of text from the plan's text track, chosen by phase (a missing line stays blank):

    - before:   ``before training``
    - training: ``cycle 2,500 of 60,000 · example 3 of 7`` / ``inputs 1 0 1   target 1   output 0.73`` /
      ``error 0.27   mean error 9.29%``
    - after:    ``after training (60,000 cycles)`` / (empty) / ``mean error 0.47%``
    - query:    ``new situation`` / ``inputs 1 1 0   output 0.01``

    A classifier (``classes``: the output classes' names) shows ``target 7   answer 7 (0.98)``
    instead of the target and output numbers; with ``accuracy`` (softmax plans) the mean error is
    followed by ``accuracy 97.50%``. An input image's values are not listed (Input Count 0).
    """
    # keyed inputs
    phase = t.input("Phase", "NodeSocketFloat", 0.0)
    cycle = t.input("Cycle", "NodeSocketFloat", 0.0)
    example = t.input("Example", "NodeSocketFloat", 0.0)
    error = t.input("Error", "NodeSocketFloat", 0.0)
    mean_error = t.input("Mean Error", "NodeSocketFloat", 0.0)
    inputs = [t.input(f"Input {i + 1}", "NodeSocketFloat", 0.0) for i in range(HUD_MAX_INPUTS)]
    targets = [t.input(f"Target {i + 1}", "NodeSocketFloat", 0.0) for i in range(HUD_MAX_OUTPUTS)]
    outputs = [t.input(f"Output {i + 1}", "NodeSocketFloat", 0.0) for i in range(HUD_MAX_OUTPUTS)]
    # static inputs
    cycles = t.input("Cycles", "NodeSocketFloat", 0.0)
    examples = t.input("Examples", "NodeSocketFloat", 0.0)
    n_inputs = t.input("Input Count", "NodeSocketInt", 0, min_value=0)
    n_outputs = t.input("Output Count", "NodeSocketInt", 0, min_value=0)
    size = t.input("Size", "NodeSocketFloat", 0.3, min_value=0.0)

    total = t.thousands(cycles)
    title = t.index_switch(
        phase,
        [
            "before training",
            t.join(
                "cycle ",
                t.thousands(cycle),
                " of ",
                total,
                " \u00b7 example ",
                t.whole_number(t.math("ADD", example, 1.0)),
                " of ",
                t.whole_number(examples),
            ),
            t.join("after training (", total, " cycles)"),
            "new situation",
        ],
    )

    # "inputs 1 0 1   " (nothing when Input Count is 0: an input image shows them itself)
    shown_inputs = t.switch(
        t.compare("GREATER_THAN", n_inputs, 0.0),
        "",
        t.join("inputs", t.number_list(inputs, n_inputs, t.compact_number), "   "),
    )
    shown_targets = t.join("target", t.number_list(targets, n_outputs, t.compact_number))
    outputs_list = t.number_list(outputs, n_outputs, lambda v: t.to_string(v, 2))
    example_line = t.index_switch(
        phase,
        [
            "",
            t.join(shown_inputs, shown_targets, "   output", outputs_list),
            "",
            t.join(shown_inputs, "output", outputs_list),
        ],
    )

    if classes is not None:  # a classifier: the target class and the answer, by name
        target_class = t.input("Target Class", "NodeSocketFloat", 0.0)
        answer = t.input("Answer", "NodeSocketFloat", 0.0)
        confidence = t.input("Confidence", "NodeSocketFloat", 0.0)

        def name(index):
            if len(classes) <= MAX_NAMED_CLASSES:
                return t.index_switch(index, list(classes))
            return t.whole_number(index)

        answered = t.join("answer ", name(answer), " (", t.to_string(confidence, 2), ")")
        example_line = t.index_switch(
            phase,
            [
                "",
                t.join(shown_inputs, "target ", name(target_class), "   ", answered),
                "",
                t.join(shown_inputs, answered),
            ],
        )

    mean_line = t.join("mean error ", t.percent(mean_error))
    if accuracy:
        mean_line = t.join(mean_line, "   accuracy ", t.percent(t.input("Accuracy", "NodeSocketFloat", 0.0)))
    error_line = t.index_switch(phase, ["", t.join("error ", t.to_string(error, 2), "   ", mean_line), mean_line, ""])

    text = t.join(title, example_line, error_line, delimiter=t.line_break())
    t.output(t.text_mesh(text, size, text_material(ctx)))


def _hud_builder(classes: list[str] | None, accuracy: bool):
    def build(ctx: BuildContext, t: _Tree) -> None:
        _build_hud_group(ctx, t, classes, accuracy)

    return build


def _build_loss_group(ctx: BuildContext, t: _Tree) -> None:
    """The polyline up to the current frame as an orange tube, its newest point marked by a disc
    (re-made on every frame: Scene Time). Nothing is drawn before the first point is reached."""
    polyline = t.input("Geometry", "NodeSocketGeometry")
    radius = t.input("Radius", "NodeSocketFloat", 0.03, min_value=0.0)

    reveal = t.node("GeometryNodeInputNamedAttribute", {"Name": REVEAL_ATTR}, data_type="FLOAT").outputs["Attribute"]
    now = t.node("GeometryNodeInputSceneTime").outputs["Frame"]
    shown = t.node(
        "GeometryNodeDeleteGeometry",
        {"Geometry": polyline, "Selection": t.compare("GREATER_THAN", reveal, now)},
        domain="POINT",
    ).outputs[0]
    curve = t.node("GeometryNodeMeshToCurve", {"Mesh": shown}).outputs[0]
    # the current point: the last one shown (points are in cycle order)
    count = t.node("GeometryNodeAttributeDomainSize", {"Geometry": shown}, component="MESH").outputs["Point Count"]
    last = t.node(
        "GeometryNodeSampleIndex",
        {
            "Geometry": shown,
            "Value": t.node("GeometryNodeInputPosition").outputs[0],
            "Index": t.math("SUBTRACT", count, 1.0),
        },
        data_type="FLOAT_VECTOR",
        domain="POINT",
    ).outputs[0]
    disc = t.node(
        "GeometryNodeMeshCircle",
        {"Vertices": 20, "Radius": t.math("MULTIPLY", radius, MARKER_RADIUS)},
        fill_type="NGON",
    ).outputs["Mesh"]
    marker = t.node("GeometryNodeSetMaterial", {"Geometry": t.moved(disc, last), "Material": marker_material(ctx)})
    marked = t.switch(t.compare("GREATER_THAN", count, 0.5), None, marker.outputs[0], kind="GEOMETRY")
    t.output(t.joined(t.tube(curve, radius, loss_material(ctx)), marked))


#: The loss curve's x-axis ticks: decades of cycles, labelled like this (up to nncore's 10,000,000).
DECADES = ("1", "10", "100", "1k", "10k", "100k", "1M", "10M")
#: The current point's disc, in tube radii.
MARKER_RADIUS = 3.2


def _build_loss_axes_group(ctx: BuildContext, t: _Tree) -> None:
    """The loss curve's axes, ticks and labels: static, so made once, not on every frame.

    x: cycles on a log scale, a tick and a label at every decade up to ``Span`` (log10 of the last
    cycle), "cycles (log scale)" under them; y: the mean error in percent, "0" at the origin and
    ``Top`` (the curve's highest value, e.g. "52%") at the top, "mean error (%)" above. Positions
    are in units of ``Label Size`` (compose.CURVE_* keep room for them).
    """
    width = t.input("Width", "NodeSocketFloat", 4.0, min_value=0.0)
    height = t.input("Height", "NodeSocketFloat", 2.0, min_value=0.0)
    radius = t.input("Radius", "NodeSocketFloat", 0.03, min_value=0.0)
    label = t.input("Label Size", "NodeSocketFloat", 0.25, min_value=0.0)
    span = t.input("Span", "NodeSocketFloat", 1.0, min_value=1e-6)
    top_text = t.input("Top", "NodeSocketString", "")

    def at(x, y):
        return t.vector(x=x, y=y)

    def lsz(k):
        return t.math("MULTIPLY", label, k)

    x_axis = t.node("GeometryNodeCurvePrimitiveLine", {"Start": (0.0, 0.0, 0.0), "End": at(width, 0.0)}).outputs[0]
    y_axis = t.node("GeometryNodeCurvePrimitiveLine", {"Start": (0.0, 0.0, 0.0), "End": at(0.0, height)}).outputs[0]
    parts = [x_axis, y_axis]
    texts = []  # glyph outlines, moved into place, filled together at the end
    tick = lsz(-0.35)
    for i, name in enumerate(DECADES):
        x = t.math("MULTIPLY", t.math("DIVIDE", float(i), span), width)
        shown = t.compare("LESS_EQUAL", float(i), t.math("ADD", span, 1e-4))
        mark = t.node("GeometryNodeCurvePrimitiveLine", {"Start": at(x, 0.0), "End": at(x, tick)}).outputs[0]
        parts.append(t.switch(shown, None, mark, kind="GEOMETRY"))
        texts.append(t.switch(shown, None, t.moved(t.glyphs(name, label, "CENTER"), at(x, lsz(-1.3))), kind="GEOMETRY"))
    axes = t.tube(t.joined(*parts), t.math("MULTIPLY", radius, 0.5), axis_material(ctx))
    texts.append(t.moved(t.glyphs("cycles (log scale)", label, "RIGHT"), at(width, lsz(-2.5))))
    texts.append(t.moved(t.glyphs("mean error (%)", label), at(lsz(-0.2), t.math("ADD", height, lsz(0.6)))))
    texts.append(t.moved(t.glyphs("0", label, "RIGHT"), at(lsz(-0.45), lsz(-0.35))))
    texts.append(t.moved(t.glyphs(top_text, label, "RIGHT"), at(lsz(-0.45), t.math("SUBTRACT", height, lsz(0.35)))))
    t.output(t.joined(axes, t.filled(t.joined(*texts), text_material(ctx))))


# --------------------------------------------------------------------------------------------
# objects


def _gn_object(
    ctx: BuildContext, name: str, group, modifier: str, location, role: str, mesh=None, rotation=FACING_CAMERA
):
    """An object (empty mesh unless given) facing the camera, with a Nodes modifier on ``group``.

    ``rotation`` (Euler XYZ) turns the local XY plane, where the text is built, to face the camera:
    FACING_CAMERA for the front view; for another view, the camera's own rotation."""
    me = mesh if mesh is not None else ctx.tag(bpy.data.meshes.new(name))
    ob = bpy.data.objects.new(name, me)
    ob.location = location
    ob.rotation_euler = rotation
    ob[ROLE] = role
    ctx.link(ob)
    mod = ob.modifiers.new(modifier, "NODES")
    mod.node_group = group
    return ob, mod


def socket_id(group: bpy.types.NodeTree, name: str) -> str:
    """The identifier of a node group's input socket (the key of a Nodes modifier's value for it)."""
    return _socket_id(group, name)


def _socket_id(group: bpy.types.NodeTree, name: str) -> str:
    return next(
        item.identifier
        for item in group.interface.items_tree
        if item.item_type == "SOCKET" and item.in_out == "INPUT" and item.name == name
    )


def input_path(mod: bpy.types.Modifier, socket_name: str) -> str:
    """The data path, on the object, of a Nodes modifier input: ``modifiers["M"]["Socket_2"]``."""
    ident = _socket_id(mod.node_group, socket_name)
    return f'modifiers["{bpy.utils.escape_identifier(mod.name)}"]["{ident}"]'


def _set_inputs(mod: bpy.types.Modifier, values: dict) -> None:
    for name, value in values.items():
        mod[_socket_id(mod.node_group, name)] = value


def _key_inputs(ctx: BuildContext, ob: bpy.types.Object, mod, frames, columns: dict) -> None:
    """Key modifier inputs (by socket name -> K values) at ``frames``, CONSTANT, in bulk."""
    frames = np.asarray(frames, dtype=np.float64)
    names = list(columns)
    fcs = compat.new_action_fcurves(ob, f"{ob.name} Action", [(input_path(mod, n), 0) for n in names])
    ctx.tag(ob.animation_data.action)
    constant = np.full(len(frames), keys.INTERPOLATION["CONSTANT"], dtype=np.int32)
    for fc, n in zip(fcs, names):
        values = np.asarray(columns[n], dtype=np.float64)
        keys.write(fc, frames, values, constant)
        mod[_socket_id(mod.node_group, n)] = float(values[0])


def number_label(
    ctx: BuildContext, name: str, location, frames, values, decimals: int = 2, size: float = 0.3, rotation=FACING_CAMERA
) -> bpy.types.Object:
    """A number that changes over time (CONSTANT keys), left-aligned at ``location`` in the X-Z plane."""
    group = _shared_group(ctx, "labels.number_group", "NNA Number Label", _build_number_group)
    ob, mod = _gn_object(ctx, name, group, NUMBER_MODIFIER, location, LABEL, rotation=rotation)
    _set_inputs(mod, {"Decimals": int(decimals), "Size": float(size)})
    _key_inputs(ctx, ob, mod, frames, {"Value": values})
    return ob


def text_label(
    ctx: BuildContext, name: str, text: str, location, size: float = 0.3, rotation=FACING_CAMERA, align="CENTER"
) -> bpy.types.Object:
    """Fixed text (e.g. an output class's name) at ``location``: centred on it, or starting (LEFT)
    or ending (RIGHT) there."""
    group = _shared_group(ctx, f"labels.text_group.{align}", f"NNA Text {align.title()}", _text_group(align))
    ob, mod = _gn_object(ctx, name, group, TEXT_MODIFIER, location, LABEL, rotation=rotation)
    _set_inputs(mod, {"Text": str(text), "Size": float(size)})
    return ob


def hud(
    ctx: BuildContext, plan: dict, location, size: float, rotation=FACING_CAMERA, classes: list[str] | None = None
) -> bpy.types.Object:
    """Three lines of text about what is happening (phase, cycle, example, error), top-left at ``location``.

    ``classes`` (the output classes' names, for a network of 2 or more outputs) shows the target
    class and the answer by name."""
    text = plan["tracks"]["text"]
    accuracy = "accuracy" in text
    if classes:
        key = "labels.hud_group.classes"
        build = _hud_builder(list(classes), accuracy)
    else:
        key, build = (
            ("labels.hud_group.accuracy", _hud_builder(None, True))
            if accuracy
            else ("labels.hud_group", _build_hud_group)
        )
    group = _shared_group(ctx, key, "NNA HUD", build)
    ob, mod = _gn_object(ctx, "NNA HUD", group, HUD_MODIFIER, location, HUD, rotation=rotation)
    ob[OVERLAY] = True
    n0 = len(text["inputs"][0])
    n_in = 0 if look.is_image(0, n0) else min(n0, HUD_MAX_INPUTS)  # an input image shows the inputs
    n_out = min(len(text["output"][0]), HUD_MAX_OUTPUTS)
    _set_inputs(
        mod,
        {
            "Cycles": float(plan["training"]["cycles"]),
            "Examples": float(plan["training"]["examples"]),
            "Input Count": n_in,
            "Output Count": n_out,
            "Size": float(size),
        },
    )
    inputs = np.asarray(text["inputs"], dtype=np.float64)
    targets = np.asarray(text["target"], dtype=np.float64)
    outputs = np.asarray(text["output"], dtype=np.float64)
    columns = {
        "Phase": text["phase"],
        "Cycle": text["cycle"],
        "Example": text["example"],
        "Error": text["error"],
        "Mean Error": text["mean_error"],
    }
    columns.update({f"Input {i + 1}": inputs[:, i] for i in range(n_in)})
    columns.update({f"Target {i + 1}": targets[:, i] for i in range(n_out)})
    columns.update({f"Output {i + 1}": outputs[:, i] for i in range(n_out)})
    if classes:
        columns["Target Class"] = targets.argmax(axis=1).astype(np.float64)
        columns["Answer"] = outputs.argmax(axis=1).astype(np.float64)
        columns["Confidence"] = outputs.max(axis=1)
    if accuracy:
        columns["Accuracy"] = text["accuracy"]
    _key_inputs(ctx, ob, mod, text["frames"], columns)
    return ob


def loss_curve(
    ctx: BuildContext,
    plan: dict,
    location,
    width: float,
    height: float,
    label_size: float | None = None,
    rotation=FACING_CAMERA,
) -> bpy.types.Object:
    """The mean error against log10(cycle), growing as the timeline plays; axes' corner at ``location``.

    ``label_size`` is the height of the axis labels' letters (default: a tenth of the larger side).
    The curve's points keep their place in the unit square (attribute UNIT_ATTR), so
    :func:`set_loss_size` (compose.py) can resize the curve for the frame's shape.
    """
    loss = plan["loss"]
    cycles = np.asarray(loss["cycles"], dtype=np.float64)
    error = np.asarray(loss["mean_error"], dtype=np.float64)
    reveal = np.asarray(loss["frames"], dtype=np.float32)
    n = len(cycles)

    span = math.log10(cycles.max()) if n and cycles.max() > 1 else 1.0
    top = error.max() if n and error.max() > 0 else 1.0
    unit = np.zeros((n, 3), dtype=np.float32)
    unit[:, 0] = np.log10(np.maximum(cycles, 1.0)) / span
    unit[:, 1] = error / top

    me = ctx.tag(bpy.data.meshes.new("NNA Loss Curve"))
    me.vertices.add(n)
    if n > 1:
        me.edges.add(n - 1)
        me.edges.foreach_set("vertices", np.stack([np.arange(n - 1), np.arange(1, n)], axis=1).astype(np.int32).ravel())
    me.attributes.new(REVEAL_ATTR, "FLOAT", "POINT").data.foreach_set("value", reveal)
    me.attributes.new(UNIT_ATTR, "FLOAT_VECTOR", "POINT").data.foreach_set("vector", unit.ravel())

    group = _shared_group(ctx, "labels.loss_group", "NNA Loss Curve", _build_loss_group)
    ob, mod = _gn_object(ctx, "NNA Loss Curve", group, LOSS_MODIFIER, location, LOSS_CURVE, mesh=me, rotation=rotation)
    ob[OVERLAY] = True
    group = _shared_group(ctx, "labels.loss_axes_group", "NNA Loss Axes", _build_loss_axes_group)
    axes, mod = _gn_object(ctx, "NNA Loss Axes", group, LOSS_AXES_MODIFIER, location, LABEL, rotation=rotation)
    axes[OVERLAY] = True
    _set_inputs(mod, {"Span": float(span), "Top": f"{top * 100:.0f}%" if top >= 0.1 else f"{top * 100:.2g}%"})
    label = float(label_size) if label_size else 0.1 * max(width, height)
    set_loss_size(ob, width, height, label)
    set_axes_size(axes, width, height, label)
    return ob


def _curve_radius(width: float, height: float, label: float) -> float:
    return min(0.012 * max(width, height), 0.16 * label)


def set_loss_size(ob: bpy.types.Object, width: float, height: float, label: float) -> None:
    """Scale the loss curve's plot to ``width`` x ``height`` (its points from UNIT_ATTR)."""
    me = ob.data
    n = len(me.vertices)
    unit = np.empty(3 * n, dtype=np.float32)
    me.attributes[UNIT_ATTR].data.foreach_get("vector", unit)
    unit = unit.reshape(-1, 3) * np.array([width, height, 0.0], dtype=np.float32)
    me.vertices.foreach_set("co", unit.ravel())
    me.update()
    mod = ob.modifiers[LOSS_MODIFIER]
    _set_inputs(mod, {"Radius": _curve_radius(width, height, label)})
    ob.update_tag()


def set_axes_size(ob: bpy.types.Object, width: float, height: float, label: float) -> None:
    """The axes for a ``width`` x ``height`` plot with labels of size ``label``."""
    mod = ob.modifiers[LOSS_AXES_MODIFIER]
    values = {"Width": float(width), "Height": float(height), "Radius": _curve_radius(width, height, label)}
    values["Label Size"] = float(label)
    _set_inputs(mod, values)
    ob.update_tag()


def set_text_size(ob: bpy.types.Object, size: float) -> None:
    """The text size of a HUD (or any text object of this module)."""
    mod = next(m for m in ob.modifiers if m.type == "NODES")
    _set_inputs(mod, {"Size": float(size)})
    ob.update_tag()
