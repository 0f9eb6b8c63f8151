"""Big networks, instanced (issue 10): values, pixels, layout, camera, leaks, Solid colours, glTF.

Small renders only (64x64, 1 sample, one frame). Plans of big networks are made from random data
with few cycles and few shown steps.
"""

from __future__ import annotations

import math
from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE

pytestmark = pytest.mark.blender


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.{name}")


def random_plan(layers, cycles=6, shown=2, examples=12, examples_shown=2, seed=0, batch=1):
    """A plan of a network trained on random 0/1 inputs and one-hot (or 0/1) targets."""
    from nncore.data import Dataset
    from nncore.network import NetworkSpec
    from nncore.timeline import build_plan
    from nncore.train import TrainConfig, spaced_cycles, train

    rs = np.random.RandomState(seed)
    X = (rs.random_sample((examples, layers[0])) > 0.5).astype(float)
    n_out = layers[-1]
    T = np.eye(n_out)[rs.randint(0, n_out, examples)] if n_out > 1 else rs.randint(0, 2, (examples, 1)).astype(float)
    cfg = TrainConfig(
        learning_rate=0.3,
        cycles=cycles,
        batch=batch,
        seed=1,
        shown=spaced_cycles(shown, cycles),
        examples_shown=examples_shown,
    )
    rec = train(NetworkSpec(tuple(layers)), Dataset("random", X, T), cfg)
    return build_plan(rec, preset="random")


@pytest.fixture(scope="module")
def small_plan():
    """The article's network, briefly trained: small enough for both representations."""
    from nncore.presets import make_plan, settings_for

    return make_plan(settings_for("article", cycles=2000, show=4))


@pytest.fixture(scope="module")
def plan_64():
    return random_plan((64, 32, 16, 10))


@pytest.fixture(scope="module")
def plan_784():
    return random_plan((784, 64, 10), cycles=4, shown=2, examples=8, examples_shown=2)


def build(bpy, plan, kind=None, labels=True):
    return mod("addon.scene").build_network(plan, bpy.context.scene, labels=labels, kind=kind)


def by_role(bpy, role):
    return sorted((o for o in bpy.context.scene.objects if o.get("nna_role") == role), key=lambda o: o.name)


# --------------------------------------------------------------------------------------------
# the plan's interpolation in numpy (docs/plan-format.md, "Keyframe tracks")


def track_at(track: dict, frame: float) -> np.ndarray:
    frames = np.asarray(track["frames"], dtype=np.float64)
    values = np.asarray(track["values"], dtype=np.float64)
    i = int(np.searchsorted(frames, frame, side="right")) - 1
    if i < 0:
        return values[0]
    if i >= len(frames) - 1 or track["interpolation"][i] == "CONSTANT":
        return values[i]
    f = (frame - frames[i]) / (frames[i + 1] - frames[i])
    return values[i] + f * (values[i + 1] - values[i])


def instance_values(bpy, ob, names) -> dict[str, np.ndarray]:
    """The instance attributes ``names`` of an instanced layer object at the current frame, ordered
    by the instances' nna_index (read through a temporary Realize Instances modifier)."""
    ng = bpy.data.node_groups.new("realize", "GeometryNodeTree")
    ng.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    ng.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    gi, go = ng.nodes.new("NodeGroupInput"), ng.nodes.new("NodeGroupOutput")
    real = ng.nodes.new("GeometryNodeRealizeInstances")
    ng.links.new(gi.outputs[0], real.inputs[0])
    ng.links.new(real.outputs[0], go.inputs[0])
    m = ob.modifiers.new("realize", "NODES")
    m.node_group = ng
    try:
        dg = bpy.context.evaluated_depsgraph_get()
        ev = ob.evaluated_get(dg)
        me = ev.to_mesh()
        nodes = ob.modifiers[0]
        shape_verts = len(nodes[mod("addon.labels").socket_id(nodes.node_group, "Shape")].data.vertices)
        out = {}
        for name in ("nna_index", *names):
            attr = me.attributes[name]
            arr = np.empty(len(attr.data), dtype=np.int32 if name == "nna_index" else np.float32)
            attr.data.foreach_get("value", arr)
            out[name] = arr[::shape_verts]
        order = np.argsort(out["nna_index"])
        materials = [m.name if m else None for m in me.materials]
        mat_index = np.empty(len(me.polygons), dtype=np.int32)
        me.polygons.foreach_get("material_index", mat_index)
        faces = len(mat_index) // max(1, len(out["nna_index"]))
        out["material"] = np.array([materials[i] for i in mat_index[::faces]]) if faces else np.array([])
        ev.to_mesh_clear()
    finally:
        ob.modifiers.remove(m)
        bpy.data.node_groups.remove(ng)
    return {k: v[order] for k, v in out.items()}


# --------------------------------------------------------------------------------------------
# the representation: one place, one rule


def test_the_representation_is_chosen_in_one_place(bpy_env):
    scene_mod, look = mod("addon.scene"), mod("addon.look")
    rep = scene_mod.representation
    assert rep((3, 4, 1)) == rep((2, 4, 1)) == rep((16, 16, 16, 1)) == scene_mod.OBJECTS
    assert rep((64, 32, 16, 10)) == rep((784, 64, 10)) == scene_mod.INSTANCED
    assert rep((20, 20, 1)) == scene_mod.INSTANCED  # a layer of 400 synapses: not dense
    assert look.DENSE_LAYER < 400
    assert scene_mod.MAX_SYNAPSES >= 100_000
    scene_mod.check_size((784, 128, 10))  # 101,632 synapses: built
    with pytest.raises(scene_mod.BuildError, match="too large to build interactively"):
        scene_mod.check_size((784, 200, 10))


def test_an_instanced_build_is_a_few_objects(bpy_env, plan_64):
    bpy = bpy_env
    res = build(bpy, plan_64)
    assert res.representation == "instanced" and res.n_neurons == 122 and res.n_synapses == 2720
    assert len(by_role(bpy, "neurons")) == 4 and len(by_role(bpy, "synapses")) == 3
    assert not by_role(bpy, "neuron") and not by_role(bpy, "synapse")
    others = [o for o in bpy.context.scene.objects if o.get("nna_role") not in ("neurons", "synapses", "label")]
    assert sorted(o.get("nna_role", o.type) for o in others) == ["CAMERA", "LIGHT", "hud", "loss_curve"]
    # no Python at frame changes or render time, no drivers
    for ob in bpy.data.objects:
        assert ob.animation_data is None or len(ob.animation_data.drivers) == 0
    sc = bpy.context.scene
    st = plan_64["states"]
    assert (sc.nna.still_before, sc.nna.still_after, sc.nna.still_new_situation) == (
        st["before"]["frame_end"],
        st["after"]["frame_end"],
        st["query"]["frame_end"],
    )


# --------------------------------------------------------------------------------------------
# values


@pytest.mark.parametrize("batch", [1, 0])
def test_instanced_values_follow_the_plans_interpolation(bpy_env, batch):
    """At frames in every phase (including the middle of LINEAR stretches: pulses travelling,
    weights moving), every instance's values equal the plan's interpolation."""
    bpy = bpy_env
    look = mod("addon.look")
    plan = random_plan((5, 4, 3), cycles=5, shown=3, examples=6, examples_shown=3, batch=batch)
    build(bpy, plan, kind="instanced", labels=False)
    sc = bpy.context.scene
    tr = plan["tracks"]
    sizes = plan["network"]["layers"]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    r_scale = look.radius_scale(sizes)
    st = plan["steps"][1]
    fb, gb = st["forward_frames"], st["backward_frames"]
    frames = [1, st["frame_start"], (fb[0] + fb[1]) / 2 + 0.25, fb[1], (gb[0] + gb[1]) / 2 + 0.4, gb[-1] - 1]
    frames += [plan["states"]["query"]["frame_start"] + 2, plan["timing"]["frame_end"]]
    neurons, synapses = by_role(bpy, "neurons"), by_role(bpy, "synapses")
    for frame in frames:
        sc.frame_set(int(frame), subframe=frame - int(frame))
        act = track_at(tr["neuron_activity"], frame)
        for k, ob in enumerate(neurons):
            got = instance_values(bpy, ob, ["nna_activity"])
            np.testing.assert_allclose(got["nna_activity"], act[offsets[k] : offsets[k + 1]], atol=1e-6)
        for k, ob in enumerate(synapses):
            g = tr["synapse_layers"][k]
            got = instance_values(bpy, ob, ["nna_weight", "nna_radius", "nna_signal", "nna_err", "nna_fwd", "nna_back"])
            w = track_at(g["weight"], frame)
            np.testing.assert_allclose(got["nna_weight"], w, atol=1e-5)
            radius = {"values": look.synapse_radius_keys(g["weight"]["values"], len(w), r_scale)}
            np.testing.assert_allclose(got["nna_radius"], track_at({**g["weight"], **radius}, frame), atol=1e-6)
            np.testing.assert_allclose(got["nna_signal"], track_at(g["signal"], frame), atol=1e-6)
            np.testing.assert_allclose(got["nna_err"], track_at(g["error"], frame), atol=1e-6)
            assert got["nna_fwd"] == pytest.approx(float(track_at(g["forward"], frame)), abs=1e-6)
            assert got["nna_back"] == pytest.approx(float(track_at(g["backward"], frame)), abs=1e-6)
    # a pulse was really travelling at one of those frames
    sc.frame_set(int((fb[0] + fb[1]) / 2))
    assert 0 < instance_values(bpy, synapses[0], ["nna_fwd"])["nna_fwd"][0] < 1


def test_time_remapping_moves_instances_like_fcurves(bpy_env, small_plan):
    """render.configure's fps change remaps time; instanced values follow as F-curves do."""
    bpy = bpy_env
    build(bpy, small_plan, kind="instanced", labels=False)
    sc = bpy.context.scene
    ob = by_role(bpy, "neurons")[1]
    f = small_plan["steps"][2]["frame_end"]
    sc.frame_set(f)
    before = instance_values(bpy, ob, ["nna_activity"])["nna_activity"]
    assert before.max() > 0
    mod("addon.render").configure(sc, "preview", fps=sc.render.fps * 2, resolution=(64, 64), samples=1)
    sc.frame_set(2 * f)
    np.testing.assert_allclose(instance_values(bpy, ob, ["nna_activity"])["nna_activity"], before, atol=1e-6)


# --------------------------------------------------------------------------------------------
# pixels


def render_pixels(bpy, sc, path) -> np.ndarray:
    sc.render.filepath = str(path)
    sc.render.image_settings.file_format = "PNG"
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    try:
        px = np.empty(img.size[0] * img.size[1] * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    return px


def test_both_representations_render_the_same_pixels(bpy_env, small_plan, tmp_path):
    """The same small plan built one object per neuron and synapse, then instanced: one tiny frame
    each, with a forward pulse on its way and the weights moving is compared, pixel for pixel."""
    bpy = bpy_env
    sc = bpy.context.scene
    st = small_plan["steps"][-1]
    frame = (st["forward_frames"][0] + st["forward_frames"][1]) // 2
    pixels = {}
    for kind in ("objects", "instanced"):
        res = build(bpy, small_plan, kind=kind)
        assert res.representation == kind
        mod("addon.render").configure(sc, "preview", resolution=(64, 64), samples=1)
        sc.frame_set(frame)
        pixels[kind] = render_pixels(bpy, sc, tmp_path / f"{kind}.png")
    assert pixels["objects"].max() > 0.5  # something glows
    np.testing.assert_allclose(pixels["instanced"], pixels["objects"], atol=1.5 / 255)


def test_the_saved_blend_renders_the_same_without_the_addon(bpy_env, tmp_path):
    from test_blend_portable import _pixels, _render

    bpy = bpy_env
    plan = random_plan((16, 8, 10), cycles=4, shown=2, examples=6)  # an input image, planes
    res = build(bpy, plan, kind="instanced")
    assert res.representation == "instanced"
    sc = bpy.context.scene
    mod("addon.render").configure(sc, "preview", resolution=(64, 64), samples=1)
    st = plan["steps"][-1]
    f = (st["forward_frames"][0] + st["forward_frames"][1]) // 2
    blend = tmp_path / "net.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), copy=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    sc.frame_set(f)
    render_pixels(bpy, sc, mine / f"f{f:04d}.png")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    _render(blend, theirs, f, f)
    ref = _pixels(mine / f"f{f:04d}.png")
    assert ref.max() > 0.5
    np.testing.assert_allclose(_pixels(theirs / f"f{f:04d}.png"), ref, atol=2 / 255)


# --------------------------------------------------------------------------------------------
# layout and camera


def test_big_layers_are_planes_facing_the_camera_and_an_image(bpy_env):
    look = mod("addon.look")
    sizes = (784, 64, 10)
    pos = look.layer_positions(sizes)
    assert look.plane_layout(sizes) and not look.plane_layout((3, 4, 1))
    assert look.is_image(0, 784) and look.is_image(0, 64) and not look.is_image(1, 64) and not look.is_image(0, 32)
    for p in pos:
        assert np.ptp(p[:, 1]) == 0  # each layer in one x-z plane (facing -y)
        assert np.ptp(p[:, 2]) > 0 or len(p) <= look.MAX_ROW  # upright, not a horizontal grid
    # the image reads like one: pixel 0 top left, row by row
    img = pos[0].reshape(28, 28, 3)
    assert np.all(np.diff(img[:, :, 0], axis=1) > 0) and np.all(np.diff(img[:, :, 2], axis=0) < 0)
    # the planes stand one behind the other (inputs at the front) and rise
    ys = [p[0, 1] for p in pos]
    assert ys == sorted(ys) and len(set(ys)) == 3
    # the article keeps its row layout exactly
    art = look.layer_positions((3, 4, 1))
    assert art[1].tolist() == [[-3.0, 0.0, 3.0], [-1.0, 0.0, 3.0], [1.0, 0.0, 3.0], [3.0, 0.0, 3.0]]


@pytest.mark.parametrize("sizes", [(784, 64, 10), (64, 32, 16, 10), (30, 20, 2)])
def test_no_two_neurons_overlap(bpy_env, sizes):
    look = mod("addon.look")
    pos = look.layer_positions(sizes)
    allp = np.concatenate(pos)
    ext = np.concatenate([np.full(len(p), look.neuron_extent(k, len(p))) for k, p in enumerate(pos)])
    # neighbours in a layer: the grid pitch exceeds twice the extent
    for k, p in enumerate(pos):
        cols, rows, pitch = look.layer_grid(k, len(p))
        assert pitch > 2 * look.neuron_extent(k, len(p))
    # across layers: boxes (centre +- extent) of different layers never intersect
    for a in range(len(pos)):
        for b in range(a + 1, len(pos)):
            lo_a, hi_a = pos[a].min(0) - ext.max(), pos[a].max(0) + ext.max()
            lo_b, hi_b = pos[b].min(0) - ext.max(), pos[b].max(0) + ext.max()
            assert np.any(hi_a < lo_b) or np.any(hi_b < lo_a), (a, b)
    assert len(np.unique(allp.round(6), axis=0)) == len(allp)


@pytest.mark.parametrize("shape", ["16:9", "1:1", "9:16"])
def test_every_neuron_and_label_is_inside_the_frame(bpy_env, plan_784, shape):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    bpy = bpy_env
    look = mod("addon.look")
    build(bpy, plan_784)
    sc = bpy.context.scene
    mod("addon.render").configure(sc, "preview", shape=shape)
    sc.frame_set(plan_784["steps"][0]["frame_start"])  # evaluates the camera's new place, and the HUD's longest text
    cam = sc.camera
    tilt, azimuth = look.view_angles((784, 64, 10))
    assert tuple(cam.rotation_euler) == pytest.approx((math.pi / 2 - tilt, 0.0, azimuth))
    assert cam.data.type == "PERSP"
    worst = 1.0
    for p in look.layer_positions((784, 64, 10)):
        for c in p:
            v = world_to_camera_view(sc, cam, Vector(c))
            worst = min(worst, v.x, v.y, 1 - v.x, 1 - v.y)
    assert worst > 0.02, worst
    dg = bpy.context.evaluated_depsgraph_get()
    for ob in sc.objects:
        if ob.type == "MESH" and ob.get("nna_role") in ("label", "hud", "loss_curve"):
            ev = ob.evaluated_get(dg)
            for corner in ev.bound_box:
                v = world_to_camera_view(sc, cam, ev.matrix_world @ Vector(corner))
                assert 0.0 < v.x < 1.0 and 0.0 < v.y < 1.0, ob.name


def test_the_article_keeps_its_front_view(bpy_env, small_plan):
    bpy = bpy_env
    build(bpy, small_plan, kind="instanced")
    cam = bpy.context.scene.camera
    assert cam.rotation_euler[2] == 0.0 and cam.rotation_euler[0] == pytest.approx(math.radians(84))
    assert "nna_frame_azimuth" not in cam


def test_the_input_image_shows_the_example(bpy_env, plan_64):
    bpy = bpy_env
    build(bpy, plan_64)
    ob = by_role(bpy, "neurons")[0]
    mods = ob.modifiers[0]
    labels = mod("addon.labels")
    assert mods[labels.socket_id(mods.node_group, "Shape")].data.name.startswith("NNA Pixel")
    assert mods[labels.socket_id(mods.node_group, "Material")].name == "NNA Pixel"
    st = plan_64["steps"][1]
    bpy.context.scene.frame_set(st["forward_frames"][0])
    got = instance_values(bpy, ob, ["nna_activity"])["nna_activity"]
    np.testing.assert_allclose(got, st["inputs"], atol=1e-6)
    # the other layers are spheres; output classes are labelled 0..9
    assert mod("addon.scene").class_names(plan_64) == [str(i) for i in range(10)]
    assert len([o for o in bpy.data.objects if o.name.startswith("NNA Class")]) == 10


def test_class_names_come_from_the_csv_header(bpy_env):
    scene_mod = mod("addon.scene")
    plan = {"network": {"layers": [2, 3]}, "training": {"header": ["a", "b", "cat", "dog", "bird"]}}
    assert scene_mod.class_names(plan) == ["cat", "dog", "bird"]
    assert scene_mod.class_names({"network": {"layers": [3, 4, 1]}, "training": {}}) == []
    named = {"network": {"layers": [2, 2]}, "training": {"class_names": ["no", "yes"], "header": ["a", "b", "x", "y"]}}
    assert scene_mod.class_names(named) == ["no", "yes"]


# --------------------------------------------------------------------------------------------
# legibility of big layers


def test_big_layers_draw_their_strongest_synapses(bpy_env, plan_784):
    bpy = bpy_env
    look = mod("addon.look")
    res = build(bpy, plan_784, labels=False)
    g = plan_784["tracks"]["synapse_layers"][0]
    w = np.abs(np.asarray(g["weight"]["values"])).max(axis=0).reshape(64, 784)  # target-major numbering
    drawn = look.drawn_synapses(g["weight"]["values"], g["target"], 64)
    assert len(drawn) == 64 * look.STRONGEST and res.n_synapses == len(drawn) + 640
    kept = np.zeros(w.size, bool)
    kept[drawn] = True
    kept = kept.reshape(64, 784)
    for j in range(64):  # every hidden neuron keeps exactly its STRONGEST strongest inputs
        assert kept[j].sum() == look.STRONGEST
        assert w[j][kept[j]].min() >= w[j][~kept[j]].max()
    # fade and radius relative to the layer's largest weight
    dim, inv = look.fade_params(g["weight"]["values"], 784 * 64)
    assert dim == look.FADE and inv == pytest.approx(1 / np.abs(g["weight"]["values"]).max(), rel=1e-6)
    assert look.synapse_fade(1 / inv, dim, inv) == pytest.approx(1.0)
    assert look.synapse_fade(0.0, dim, inv) == pytest.approx(1 - look.FADE)
    assert look.fade_params([[0.5]], 16) == (0.0, 0.0)


# --------------------------------------------------------------------------------------------
# Solid shading, leaks, glTF


def test_solid_shading_shows_the_trained_sign(bpy_env, plan_64):
    bpy = bpy_env
    look = mod("addon.look")
    build(bpy, plan_64, labels=False)
    bpy.context.scene.frame_set(plan_64["timing"]["frame_end"])
    for k, ob in enumerate(by_role(bpy, "synapses")):
        got = instance_values(bpy, ob, ["nna_weight"])
        trained = np.asarray(plan_64["tracks"]["synapse_layers"][k]["weight"]["values"][-1])
        assert np.array_equal(got["material"] == "NNA Synapse inhibit", trained < 0)
        assert set(got["material"]) == {"NNA Synapse", "NNA Synapse inhibit"}
    green = bpy.data.materials["NNA Synapse"].diffuse_color[:3]
    red = bpy.data.materials["NNA Synapse inhibit"].diffuse_color[:3]
    assert tuple(green) == pytest.approx(look.GREEN) and tuple(red) == pytest.approx(look.RED)


def test_rebuilding_784_64_10_ten_times_leaks_nothing(bpy_env, plan_784):
    bpy = bpy_env
    data = ("objects", "meshes", "materials", "node_groups", "actions", "cameras", "lights", "worlds", "collections")
    build(bpy, plan_784)
    first = {a: len(getattr(bpy.data, a)) for a in data}
    for _ in range(9):
        build(bpy, plan_784)
    assert {a: len(getattr(bpy.data, a)) for a in data} == first
    assert sum(c.name.startswith("Neural Network") for c in bpy.data.collections) == 1


def test_gltf_export_refuses_an_instanced_network(bpy_env, plan_64, tmp_path):
    bpy = bpy_env
    build(bpy, plan_64, labels=False)
    NNCoreError = mod("nncore.errors").NNCoreError
    with pytest.raises(NNCoreError) as exc:
        mod("addon.export_gltf").export_glb(bpy.context.scene, tmp_path / "big.glb")
    msg = str(exc.value)
    assert "\n" not in msg and "instanced" in msg and "--web" in msg and "1,000" in msg
    assert list(tmp_path.iterdir()) == []


def test_a_classifiers_hud_names_the_target_and_the_answer(bpy_env, plan_64):
    bpy = bpy_env
    labels = mod("addon.labels")
    build(bpy, plan_64)
    sc = bpy.context.scene
    hud = next(o for o in bpy.data.objects if o.get("nna_role") == "hud")
    m = hud.modifiers[labels.HUD_MODIFIER]

    def inp(name):
        return m[labels.socket_id(m.node_group, name)]

    assert inp("Input Count") == 0  # the input image shows the inputs
    text = plan_64["tracks"]["text"]
    for i in (1, len(text["frames"]) // 2):
        sc.frame_set(text["frames"][i])
        assert inp("Answer") == int(np.argmax(text["output"][i]))
        assert inp("Target Class") == int(np.argmax(text["target"][i]))
        assert inp("Confidence") == pytest.approx(max(text["output"][i]), abs=1e-6)
