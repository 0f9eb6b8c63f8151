"""The composed frame (issue 11): at every frame shape the content is centred, fills the frame, its
text is readable, the HUD, the network and the loss curve do not overlap, and the loss curve has
labelled axes and a marked current point (bpy module, from Blender's factory startup file).

Measured by projecting the evaluated geometry of every object of the network's scene into the
camera (bpy_extras.object_utils.world_to_camera_view), at the three stills and a training frame.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE

pytestmark = pytest.mark.blender

#: Height of a digit per unit of text size in Blender's built-in font (measured below).
DIGIT = 0.70


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.addon.{name}")


def _built(bpy, settings) -> tuple:
    """The network of ``settings`` built from the factory startup file (Cube, Light, Camera) into the
    add-on's own scene, as Build network makes it; (scene, plan)."""
    import addon_utils

    from nncore.presets import make_plan

    bpy.ops.wm.read_homefile(use_factory_startup=True)
    if not addon_utils.check(ADDON_MODULE)[1]:
        addon_utils.enable(ADDON_MODULE, default_set=True)
    plan = make_plan(settings)
    sc = mod("scene").network_scene()
    mod("scene").build_network(plan, sc)
    assert "Cube" not in sc.objects and "Cube" in bpy.data.objects
    return sc, plan


@pytest.fixture(scope="module")
def net(bpy_session):
    """The article network (2,000 cycles) built from the factory startup file."""
    from nncore.presets import settings_for

    return _built(bpy_session, settings_for("article", cycles=2000, show=5))


def _frames(sc, plan) -> dict:
    pg = sc.nna
    mid = plan["steps"][len(plan["steps"]) // 2]
    return {
        "before": pg.still_before,
        "training": mid["forward_frames"][0],
        "after": pg.still_after,
        "new situation": pg.still_new_situation,
    }


def _project(sc, points: np.ndarray) -> np.ndarray:
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    cam = sc.camera.evaluated_get(sc.view_layers[0].depsgraph)  # the scene need not be the window's
    return np.array([tuple(world_to_camera_view(sc, cam, Vector(p)))[:2] for p in points])


def _mesh_points(sc, ob, dg) -> np.ndarray:
    ev = ob.evaluated_get(dg)
    me = ev.to_mesh()
    try:
        n = len(me.vertices)
        co = np.empty(3 * n)
        me.vertices.foreach_get("co", co)
    finally:
        ev.to_mesh_clear()
    co = co.reshape(-1, 3)[:: max(1, n // 300)]
    m = np.array(ev.matrix_world)
    return co @ m[:3, :3].T + m[:3, 3]


def _boxes(sc, frame: int) -> dict:
    """Screen boxes (x0, y0, x1, y1 in 0..1) per part: network (neurons, synapses, their labels),
    hud, curve (the loss curve and its axes)."""
    sc.frame_set(frame)
    dg = sc.view_layers[0].depsgraph
    dg.update()
    parts: dict[str, list] = {"network": [], "hud": [], "curve": []}
    for ob in sc.objects:
        if ob.type != "MESH":
            continue
        pts = _mesh_points(sc, ob, dg)
        if not len(pts):
            continue
        role = ob.get("nna_role")
        part = "hud" if role == "hud" else "curve" if ob.name.startswith("NNA Loss") else "network"
        parts[part].append(_project(sc, pts))
    out = {}
    for part, ps in parts.items():
        p = np.concatenate(ps)
        out[part] = (*p.min(axis=0), *p.max(axis=0))
    return out


def _union(boxes: dict) -> tuple:
    b = np.array(list(boxes.values()))
    return (*b[:, :2].min(axis=0), *b[:, 2:].max(axis=0))


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_placed(boxes: dict, where, apart: bool) -> tuple:
    """The union of ``boxes`` is centred within 5 % of the frame and inside it; with ``apart`` the
    HUD, the network and the curve do not overlap. Returns the union."""
    x0, y0, x1, y1 = _union(boxes)
    assert abs((x0 + x1) / 2 - 0.5) < 0.05 and abs((y0 + y1) / 2 - 0.5) < 0.05, (where, x0, y0, x1, y1)
    assert x0 > 0 and y0 > 0 and x1 < 1 and y1 < 1, (where, x0, y0, x1, y1)
    if apart:
        assert not _overlap(boxes["hud"], boxes["network"]), where
        assert not _overlap(boxes["curve"], boxes["network"]), where
        assert not _overlap(boxes["curve"], boxes["hud"]), where
    return x0, y0, x1, y1


def _text_heights(sc) -> dict:
    """Projected digit height in pixels of every text object (HUD, numbers, axis labels)."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    h = sc.render.resolution_y
    dg = sc.view_layers[0].depsgraph
    dg.update()
    cam = sc.camera.evaluated_get(dg)  # the scene need not be the window's
    out = {}
    for ob in sc.objects:
        nodes = next((m for m in ob.modifiers if m.type == "NODES"), None)
        if nodes is None or nodes.node_group is None:
            continue
        for item in nodes.node_group.interface.items_tree:
            if item.item_type == "SOCKET" and item.in_out == "INPUT" and item.name in ("Size", "Label Size"):
                size = nodes[item.identifier]
                m = ob.evaluated_get(dg).matrix_world
                a = world_to_camera_view(sc, cam, m @ Vector((0, 0, 0)))
                b = world_to_camera_view(sc, cam, m @ Vector((0, DIGIT * size, 0)))
                out[ob.name] = abs(b.y - a.y) * h
    return out


def test_digit_height_of_the_font(net):
    """DIGIT (the test's and compose.py's) is what Blender's font draws: "0" is 0.70 of the size."""
    import bpy

    sc, _ = net
    compose = mod("compose")
    assert compose.DIGIT == DIGIT
    ob = next(o for o in sc.objects if o.name.startswith("NNA Label 0.000"))
    size = mod("look").LABEL_SIZE
    dg = sc.view_layers[0].depsgraph
    sc.frame_set(sc.nna.still_before)  # "0.00"
    dg.update()
    bb = np.array([tuple(c) for c in ob.evaluated_get(dg).bound_box])
    assert (bb[:, 1].max() - bb[:, 1].min()) / size == pytest.approx(DIGIT, abs=0.02)
    assert bpy.context.scene is not None


@pytest.mark.parametrize(
    "shape, long_fill, short_fill",
    [("16:9", 0.70, 0.80), ("9:16", 0.70, 0.80), ("1:1", None, None), ("4:3", None, None)],
)
def test_the_frame_is_composed(net, shape, long_fill, short_fill):
    sc, plan = net
    mod("render").configure(sc, "preview", shape=shape, samples=1)
    w, h = sc.render.resolution_x, sc.render.resolution_y
    for name, frame in _frames(sc, plan).items():
        where = f"{shape} {name}"
        # centred, inside, and (at a training frame) HUD, network and curve apart on screen
        x0, y0, x1, y1 = _assert_placed(_boxes(sc, frame), where, apart=name == "training")
        if long_fill is not None:  # wide: 80 % of the height, 70 % of the width; tall: turned
            fill_long, fill_short = (x1 - x0, y1 - y0) if w > h else (y1 - y0, x1 - x0)
            assert fill_short >= short_fill and fill_long >= long_fill, (where, fill_short, fill_long)
    if w != h:
        assert sc.camera["nna_arrangement"] == ("wide" if w > h else "tall")


@pytest.mark.parametrize(
    "shape, size, least", [("16:9", None, 12.0), ("9:16", None, 12.0), ("16:9", (1280, 720), 20.0)]
)
def test_the_smallest_text_is_readable(net, shape, size, least):
    sc, _ = net
    mod("render").configure(sc, "preview", shape=shape, resolution=size, samples=1)
    heights = _text_heights(sc)
    assert {"NNA HUD", "NNA Loss Axes"} <= set(heights) and any(n.startswith("NNA Label") for n in heights)
    smallest = min(heights, key=heights.get)
    assert heights[smallest] >= least, (shape, size, smallest, heights[smallest])


def test_the_loss_curve_starts_empty_and_marks_its_current_point(net):
    """Nothing of the curve is drawn before training (no segment at the origin); later its newest
    point carries a disc, and the axes are dim (not a bright bar) and labelled."""
    sc, plan = net
    mod("render").configure(sc, "preview", shape="16:9", samples=1)
    curve = next(o for o in sc.objects if o.get("nna_role") == "loss_curve")
    dg = sc.view_layers[0].depsgraph
    first = int(plan["loss"]["frames"][0])

    def mesh(frame):
        sc.frame_set(frame)
        dg.update()
        ev = curve.evaluated_get(dg)
        me = ev.to_mesh()
        co = np.array([tuple(v.co) for v in me.vertices]).reshape(-1, 3)
        discs = [co[list(p.vertices)].mean(axis=0) for p in me.polygons if len(p.vertices) == 20]
        ev.to_mesh_clear()
        return co, discs

    co, _ = mesh(sc.nna.still_before)
    assert len(co) == 0  # before training: nothing at all
    co, discs = mesh(first)  # the first point alone: its disc, no line
    assert len(discs) == 1 and np.linalg.norm(discs[0] - np.array(curve.data.vertices[0].co)) < 1e-4
    assert len(co) == 20
    # after training: the curve, and one filled disc (a 20-gon) centred on the last point
    co, discs = mesh(sc.nna.still_after)
    assert len(discs) == 1
    last = np.array(curve.data.vertices[len(curve.data.vertices) - 1].co)
    assert np.linalg.norm(discs[0] - last) < 1e-4
    # mid-training: on the newest point shown, not the last one
    frame = int(plan["loss"]["frames"][len(plan["loss"]["frames"]) // 2])
    _, discs = mesh(frame)
    shown = np.flatnonzero(np.asarray(plan["loss"]["frames"]) <= frame)
    assert len(discs) == 1 and np.linalg.norm(discs[0] - np.array(curve.data.vertices[int(shown[-1])].co)) < 1e-4
    axes = next(o for o in sc.objects if o.name.startswith("NNA Loss Axes"))
    mats = {m.name.split(".")[0] for m in axes.evaluated_get(dg).data.materials if m}
    assert {"NNA Axes", "NNA Text"} <= mats
    labels = mod("labels")
    assert labels.AXIS_GLOW < labels.TEXT_GLOW  # the axes are dimmer than the text


def test_tall_frames_rearrange_for_the_orbit_camera_too(net):
    sc, plan = net
    render = mod("render")
    render.configure(sc, "preview", shape="9:16", camera_mode="orbit", samples=1)
    assert sc.camera["nna_arrangement"] == "tall"
    boxes = _boxes(sc, _frames(sc, plan)["after"])  # at rest
    x0, y0, x1, y1 = _union(boxes)
    assert x0 > 0 and y0 > 0 and x1 < 1 and y1 < 1
    assert boxes["curve"][3] < boxes["network"][1] + 1e-3  # the curve under the network
    render.configure(sc, "preview", shape="16:9", camera_mode="orbit", samples=1)
    assert sc.camera["nna_arrangement"] == "wide"
    boxes = _boxes(sc, _frames(sc, plan)["after"])
    assert boxes["curve"][0] > boxes["network"][2] - 1e-3  # the curve to the right
    render.configure(sc, "preview", shape="16:9", camera_mode="front", samples=1)
    assert sc.camera.parent is None


@pytest.fixture(scope="module")
def digits(bpy_session):
    """The digits reader (64-16-10, plane layout, three-quarter view), 30 cycles, factory startup."""
    from nncore.presets import settings_for

    return _built(bpy_session, settings_for("digits", cycles=30))


@pytest.mark.parametrize("shape", ["16:9", "9:16", "1:1", "4:3"])
def test_a_plane_layout_network_is_composed_too(digits, shape):
    """The digits reader (plane layout, three-quarter view) at every frame shape: the content is
    centred, inside the frame, and the HUD, the network and the curve do not overlap. (Its planes
    are wider than a 16:9 frame's shape, so its HUD is smaller than the article's: docs/look.md.)"""
    sc, plan = digits
    mod("render").configure(sc, "preview", shape=shape, samples=1)
    for name, frame in _frames(sc, plan).items():
        _assert_placed(_boxes(sc, frame), f"{shape} {name}", apart=name == "training")
