"""The user's own Blender (issue 8): Blender's default startup scene (Cube, Light, Camera), their render
settings and compositor, a failure in the middle of a build, any frame shape, Solid shading, the
panel while a build runs. Every test here starts from the factory startup file."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE
from test_panel import Recorder

SHAPES = {"16:9": (640, 360), "1:1": (360, 360), "9:16": (360, 640), "4:3": (480, 360)}


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.addon.{name}")


@pytest.fixture
def factory(bpy_session):
    """Blender's factory startup file (what ``read_factory_settings()`` loads: Cube, Light, Camera),
    keeping the preferences that hold the test's extension repository."""
    import addon_utils

    bpy = bpy_session
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    if not addon_utils.check(ADDON_MODULE)[1]:
        addon_utils.enable(ADDON_MODULE, default_set=True)
    sc = bpy.context.scene
    assert {o.name for o in sc.objects} == {"Cube", "Light", "Camera"}
    sc.nna.cycles, sc.nna.show = 2000, 4  # a quick article network
    return bpy


def user_state(sc) -> dict:
    r = sc.render
    return {
        "objects": sorted((o.name, tuple(round(v, 6) for v in o.location)) for o in sc.objects),
        "engine": r.engine,
        "size": (r.resolution_x, r.resolution_y, r.resolution_percentage),
        "view": sc.view_settings.view_transform,
        "camera": sc.camera.name if sc.camera else None,
        "world": sc.world.name if sc.world else None,
        "frames": (sc.frame_start, sc.frame_end, sc.frame_current, r.fps),
        "filepath": r.filepath,
        "format": r.image_settings.file_format,
    }


def net_state(bpy, sc) -> dict:
    return {
        **user_state(sc),
        "build": sc.nna.build_id,
        "stills": (sc.nna.still_before, sc.nna.still_after, sc.nna.still_new_situation),
        "data": {
            a: sorted(i.name for i in getattr(bpy.data, a)) for a in ("objects", "materials", "cameras", "worlds")
        },
    }


def test_build_from_the_startup_file_uses_its_own_scene(factory):
    bpy = factory
    user = bpy.context.scene
    before = user_state(user)
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    assert net != user and net.nna.is_network_scene and net.name == "NN Animator"
    assert user_state(user) == before  # the Cube, Light and Camera, the user's settings: untouched
    tag = import_module(f"{ADDON_MODULE}.addon.buildctx").TAG
    assert all(o.get(tag) == net.nna.build_id for o in net.objects), [o.name for o in net.objects]
    assert not ({"Cube", "Light", "Camera"} & {o.name for o in net.objects})
    # a rebuild goes to the same scene, from the user's scene too
    bpy.context.window.scene = user
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    assert bpy.context.scene == net and sum(s.nna.is_network_scene for s in bpy.data.scenes) == 1
    assert user_state(user) == before


def test_render_stills_from_the_startup_file_show_only_the_network(factory, tmp_path):
    bpy = factory
    user = bpy.context.scene
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    bpy.context.window.scene = user  # the user went back to their scene: the buttons still find the network
    before = user_state(user)
    assert bpy.ops.nna.render_stills(directory=str(tmp_path), quality="preview", shape="1:1") == {"FINISHED"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "article_after.png",
        "article_before.png",
        "article_new_situation.png",
    ]
    img = bpy.data.images.load(str(tmp_path / "article_after.png"))
    assert tuple(img.size) == SHAPES["1:1"]
    px = np.array(img.pixels[:]).reshape(img.size[1], img.size[0], 4)
    # the Cube sat where the middle input neuron is: that neuron renders (green/red synapses, a sphere)
    assert px[..., :3].max() > 0.3
    assert user_state(user) == before
    assert net.render.engine.startswith("BLENDER_EEVEE")


def test_a_refused_render_changes_nothing(factory, tmp_path):
    bpy = factory
    user = bpy.context.scene
    user.render.engine = "CYCLES"
    user.render.resolution_x, user.render.resolution_y = 1111, 777
    user.view_settings.view_transform = "AgX"
    compat = mod("compat")
    if compat.VERSION >= (5, 0, 0):
        mine = bpy.data.node_groups.new("My compositor", "CompositorNodeTree")
        user.compositing_node_group = mine
    else:
        user.use_nodes = True
        mine = user.node_tree
    mine.nodes.new("CompositorNodeRLayers")
    theirs = sorted(n.bl_idname for n in mine.nodes)  # (4.x makes a default tree with use_nodes)
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    before_user, before_net = user_state(user), net_state(bpy, net)
    for op, kwargs in (
        (bpy.ops.nna.render_video, {"filepath": "/nonexistent/x.mp4"}),
        (bpy.ops.nna.render_stills, {"directory": "/nonexistent/"}),
        (bpy.ops.nna.export_gltf, {"filepath": "/nonexistent/x.glb"}),
    ):
        with pytest.raises(RuntimeError) as exc:
            op(**kwargs)
        assert "does not exist" in str(exc.value) and "\n" not in str(exc.value).strip()
        assert net_state(bpy, net) == before_net, op
    assert user_state(user) == before_user
    # the API on the user's own scene: bloom is never set up in a compositor the add-on did not make
    mod("render").configure(user, "preview", resolution=(64, 64), samples=1)
    if compat.VERSION >= (5, 0, 0):
        assert user.compositing_node_group == mine and mine.users >= 1
    assert sorted(n.bl_idname for n in mine.nodes) == theirs


def test_a_failed_build_keeps_the_previous_network(factory, monkeypatch):
    bpy = factory
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    before = net_state(bpy, net)
    scene_mod = mod("scene")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("injected in the middle of a build")

    monkeypatch.setattr(scene_mod, "_labels", broken)
    with pytest.raises(RuntimeError) as exc:
        bpy.ops.nna.build_network()
    msg = str(exc.value).strip()
    assert "Build network failed: ZeroDivisionError: injected" in msg and "\n" not in msg and "Traceback" not in msg
    assert net_state(bpy, net) == before
    # the first build from a user's scene that fails leaves no scene behind
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    with pytest.raises(RuntimeError):
        bpy.ops.nna.build_network()
    assert [s.name for s in bpy.data.scenes] == ["Scene"]
    assert {o.name for o in bpy.data.objects} == {"Cube", "Light", "Camera"}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_framing_follows_the_frame_shape(factory, shape):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    bpy = factory
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    mod("render").configure(net, "preview", shape=shape)
    assert (net.render.resolution_x, net.render.resolution_y) == SHAPES[shape]
    worst = 1.0
    for frame in (net.nna.still_before, (net.frame_start + net.frame_end) // 2, net.nna.still_new_situation):
        net.frame_set(frame)
        dg = bpy.context.evaluated_depsgraph_get()
        for ob in net.objects:
            if ob.type not in ("MESH", "CURVE", "FONT"):
                continue
            ev = ob.evaluated_get(dg)
            for corner in ev.bound_box:
                p = world_to_camera_view(net, net.camera, ev.matrix_world @ Vector(corner))
                worst = min(worst, p.x, p.y, 1 - p.x, 1 - p.y)
    assert worst > 0.02, (shape, worst)  # everything inside, with a margin


def test_solid_shading_shows_the_trained_sign(factory):
    bpy = factory
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    look = import_module(f"{ADDON_MODULE}.addon.look")
    syn = [o for o in bpy.context.scene.objects if o.get("nna_role") == "synapse"]
    assert syn
    signs = set()
    for o in syn:
        fc = next(f for f in mod("compat").action_fcurves(o.animation_data.action) if f.data_path == '["nna_weight"]')
        final = fc.keyframe_points[-1].co[1]
        colour = tuple(o.material_slots[0].material.diffuse_color)[:3]
        assert colour == pytest.approx(look.GREEN if final > 0 else look.RED), o.name
        signs.add(final > 0)
    assert signs == {True, False}  # the article's trained network has both


def test_a_second_build_while_one_runs_is_refused(factory):
    bpy = factory
    ops = mod("operators")
    ops.PROGRESS["factor"], ops.PROGRESS["text"] = 0.4, "Training: cycle 400 of 1,000"
    try:
        log = []
        stand_in = type("P", (mod("panel")._Sidebar,), {"layout": _ProgressRecorder(log)})()
        mod("panel").NNA_PT_main.draw(stand_in, bpy.context)
        assert ("progress", 0.4, "Training: cycle 400 of 1,000") in log
        assert ("operator", None, "nna.build_network") not in log
        assert bpy.ops.nna.build_network() == {"CANCELLED"}  # with the warning "A build is already running"
    finally:
        ops.PROGRESS["factor"] = None
    assert [s.name for s in bpy.data.scenes] == ["Scene"]


class _ProgressRecorder(Recorder):
    def _child(self, *args, **kwargs):
        return _ProgressRecorder(self.log)

    row = column = box = _child

    def progress(self, factor=0.0, type="BAR", text=""):
        self.log.append(("progress", factor, text))


def test_summary_lines_are_wrapped(factory):
    bpy = factory
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    net.nna.summary = "final mean error 1.08%; new situation [" + ", ".join(["0"] * 64) + "] -> 0.0133"
    log = []
    stand_in = type("P", (mod("panel")._Sidebar,), {"layout": _ProgressRecorder(log)})()
    mod("panel").NNA_PT_main.draw(stand_in, bpy.context)
    lines = [t for k, _, t in log if k == "label" and ("0, 0" in t or "situation" in t or "0133" in t)]
    assert len(lines) >= 3 and max(len(t) for t in lines) <= 60, lines


def test_a_rebuild_keeps_the_names(factory):
    bpy = factory
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    first = sorted(o.name for o in bpy.context.scene.objects)
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    again = sorted(o.name for o in bpy.context.scene.objects)
    assert again == first and "NNA Camera" in again  # not "NNA Camera.001"
    assert not [n for n in bpy.data.objects.keys() if n.endswith("(replaced)")]
