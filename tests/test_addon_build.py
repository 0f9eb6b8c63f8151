"""The Build network button and the scene it makes (bpy module)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ADDON_MODULE as ADDON

DATA = ("objects", "meshes", "materials", "node_groups", "actions", "cameras", "lights", "worlds", "collections")


def snapshot(bpy) -> dict:
    sc = bpy.context.scene
    return {
        **{attr: sorted(i.name for i in getattr(bpy.data, attr)) for attr in DATA},
        "frames": (sc.frame_start, sc.frame_end, sc.render.fps),
        "camera": sc.camera.name if sc.camera else None,
        "world": sc.world.name if sc.world else None,
        "build": sc.nna.build_id,
    }


def role(bpy, name):
    return [o for o in bpy.data.objects if o.get("nna_role") == name]


def value_at(ob, prop, frame):
    """Evaluate an object's keyed property at a frame from its F-curve."""
    from importlib import import_module

    compat = import_module(f"{ADDON}.addon.compat")
    for fc in compat.action_fcurves(ob.animation_data.action):
        if fc.data_path == prop[0] and fc.array_index == prop[1]:
            return fc.evaluate(frame)
    raise KeyError(prop)


@pytest.fixture
def built(bpy_env):
    bpy = bpy_env
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    return bpy


def test_register_unregister_cycles(bpy_env):
    import addon_utils

    bpy = bpy_env
    for _ in range(3):
        addon_utils.disable(ADDON, default_set=True)
        assert not hasattr(bpy.types.Scene, "nna")
        assert not hasattr(bpy.types, "NNA_PT_main")
        assert not hasattr(bpy.types, "NNA_OT_build_network")
        addon_utils.enable(ADDON, default_set=True)
        assert hasattr(bpy.types.Scene, "nna")
        assert hasattr(bpy.types, "NNA_PT_main")
        assert bpy.ops.nna.build_network.get_rna_type().bl_rna.identifier == "NNA_OT_build_network"


def test_default_build_is_the_article(built, article_plan):
    bpy = built
    sc = bpy.context.scene
    neurons, synapses = role(bpy, "neuron"), role(bpy, "synapse")
    assert len(neurons) == 8 and len(synapses) == 16
    assert sorted((o["nna_layer"], o["nna_index"]) for o in neurons) == [(0, 0), (0, 1), (0, 2)] + [
        (1, i) for i in range(4)
    ] + [(2, 0)]
    s = {(o["nna_layer"], o["nna_source"], o["nna_target"]) for o in synapses}
    assert len(s) == 16 and (0, 2, 3) in s and (1, 3, 0) in s
    # inputs at the bottom, output on top
    z = {o["nna_layer"]: o.location.z for o in neurons}
    assert z[0] < z[1] < z[2]
    # one shared material each
    assert {m.name for o in neurons for m in o.data.materials} == {"NNA Neuron"}
    assert {m.name for o in synapses for m in o.data.materials} == {"NNA Synapse"}
    assert (sc.frame_start, sc.frame_end, sc.render.fps) == (1, article_plan["timing"]["frame_end"], 24)
    assert sc.camera is not None and sc.world is not None
    assert "new situation [1, 1, 0] -> 0.0133" in sc.nna.summary


def test_values_at_frames_match_the_plan(built, article_plan):
    from importlib import import_module

    look = import_module(f"{ADDON}.addon.look")
    bpy = built
    plan = article_plan
    neurons = {(o["nna_layer"], o["nna_index"]): o for o in role(bpy, "neuron")}
    synapses = {(o["nna_layer"], o["nna_index"]): o for o in role(bpy, "synapse")}
    sizes = plan["network"]["layers"]
    for st in (plan["steps"][0], plan["steps"][45], plan["steps"][-1]):
        f = st["frame_end"]  # the hold: everything lit, weights updated
        for (k, i), ob in neurons.items():
            assert value_at(ob, ('["nna_activity"]', 0), f) == pytest.approx(st["activations"][k][i], abs=1e-6)
        for k in range(len(sizes) - 1):
            tr = plan["tracks"]["synapse_layers"][k]["weight"]
            row = np.searchsorted(tr["frames"], f, side="right") - 1
            w = np.array(tr["values"][row])
            for s in range(len(w)):
                ob = synapses[(k, s)]
                assert value_at(ob, ('["nna_weight"]', 0), f) == pytest.approx(w[s], abs=1e-5)
                r = value_at(ob, ("scale", 0), f)
                assert r == pytest.approx(look.synapse_radius(w[s]), rel=1e-5)
                assert value_at(ob, ("scale", 1), f) == pytest.approx(r)
    # the mapping itself: green for positive, thicker for larger |w|, bounded; brighter for more activity
    assert tuple(look.synapse_color(0.5)) == look.GREEN and tuple(look.synapse_color(-0.5)) == look.RED
    assert look.synapse_radius(3.0) > look.synapse_radius(1.0) > look.synapse_radius(0.1)
    assert look.synapse_radius(1e6) <= look.R_MAX
    assert look.neuron_glow(0.9) > look.neuron_glow(0.1) > look.neuron_glow(0.0) == 0.0


def test_scene_frame_evaluation_matches(built, article_plan):
    """Setting the frame drives the custom properties the materials read."""
    bpy = built
    st = article_plan["steps"][10]
    sc = bpy.context.scene
    sc.frame_set(st["frame_end"])
    out = next(o for o in role(bpy, "neuron") if o["nna_layer"] == 2)
    assert out["nna_activity"] == pytest.approx(st["output"][0], abs=1e-6)
    sc.frame_set(article_plan["states"]["before"]["frame_end"])
    assert all(o["nna_activity"] == 0.0 for o in role(bpy, "neuron"))


def test_forward_and_backward_waves(built, article_plan):
    bpy = built
    st = article_plan["steps"][3]
    n_seg = len(article_plan["network"]["layers"]) - 1
    fb, gb = st["forward_frames"], st["backward_frames"]
    synapses = role(bpy, "synapse")
    for k in range(n_seg):
        mid = (fb[k] + fb[k + 1]) // 2
        for ob in synapses:
            p = value_at(ob, ('["nna_fwd"]', 0), mid)
            assert (0 < p < 1) == (ob["nna_layer"] == k), (k, ob.name, p)
            assert not 0 < value_at(ob, ('["nna_back"]', 0), mid) < 1
    for m in range(n_seg):
        k = n_seg - 1 - m
        mid = (gb[m] + gb[m + 1]) // 2
        for ob in synapses:
            p = value_at(ob, ('["nna_back"]', 0), mid)
            assert (0 < p < 1) == (ob["nna_layer"] == k), (m, ob.name, p)
    # during a layer's backward segment its weight moves from before to after
    k = n_seg - 1
    ob = next(o for o in synapses if o["nna_layer"] == k)
    w0, w1 = value_at(ob, ('["nna_weight"]', 0), gb[0]), value_at(ob, ('["nna_weight"]', 0), gb[1])
    mid = value_at(ob, ('["nna_weight"]', 0), (gb[0] + gb[1]) / 2)
    assert min(w0, w1) <= mid <= max(w0, w1)


def test_keyframe_count_matches_plan(bpy_env, article_plan):
    from importlib import import_module

    scene_mod = import_module(f"{ADDON}.addon.scene")
    bpy = bpy_env
    res = scene_mod.build_network(article_plan, bpy.context.scene, labels=False)
    plan = article_plan
    expected = len(plan["tracks"]["neuron_activity"]["frames"]) * res.n_neurons
    for g in plan["tracks"]["synapse_layers"]:
        n = len(g["source"])
        per = 3 * len(g["weight"]["frames"]) + sum(
            len(g[t]["frames"]) for t in ("signal", "forward", "backward", "error")
        )
        expected += n * per
    assert res.n_keys == expected
    total = sum(
        len(fc.keyframe_points)
        for o in bpy.data.objects
        if o.get("nna_role") in ("neuron", "synapse")
        for fc in import_module(f"{ADDON}.addon.compat").action_fcurves(o.animation_data.action)
    )
    assert total == expected


def test_rebuild_leaks_nothing(built):
    bpy = built
    first = {attr: len(getattr(bpy.data, attr)) for attr in DATA}
    for _ in range(20):
        assert bpy.ops.nna.build_network() == {"FINISHED"}
    assert {attr: len(getattr(bpy.data, attr)) for attr in DATA} == first
    assert len([c for c in bpy.data.collections if c.name.startswith("Neural Network")]) == 1


def test_build_is_one_undo_step(bpy_env):
    op = bpy_env.types.NNA_OT_build_network
    assert "UNDO" in op.bl_options and "REGISTER" in op.bl_options


def test_load_plan_builds_from_file(bpy_env, article_plan, tmp_path):
    from nncore import plan as plan_io

    path = tmp_path / "a.plan.json"
    plan_io.save(article_plan, str(path))
    assert bpy_env.ops.nna.load_plan(filepath=str(path)) == {"FINISHED"}
    assert len(role(bpy_env, "synapse")) == 16


def _bad_plan_files(tmp_path, plan):
    cases = {}
    (tmp_path / "notjson.json").write_text("{nope")
    cases["notjson.json"] = "not valid JSON"
    p = json.loads(json.dumps(plan))
    p["schema_version"] = 99
    (tmp_path / "version.json").write_text(json.dumps(p))
    cases["version.json"] = "schema_version"
    p = json.loads(json.dumps(plan))
    del p["tracks"]["neuron_activity"]
    (tmp_path / "missing.json").write_text(json.dumps(p))
    cases["missing.json"] = "tracks.neuron_activity"
    cases[str(tmp_path / "absent.json")] = "no such file"
    return cases


@pytest.mark.parametrize("with_existing_build", [False, True])
def test_bad_plan_files_leave_scene_unchanged(bpy_env, article_plan, tmp_path, with_existing_build):
    bpy = bpy_env
    if with_existing_build:
        bpy.ops.nna.build_network()
    for name, needle in _bad_plan_files(tmp_path, article_plan).items():
        before = snapshot(bpy)
        with pytest.raises(RuntimeError) as err:
            bpy.ops.nna.load_plan(filepath=str(tmp_path / name))
        msg = str(err.value).strip()
        assert needle in msg and "\n" not in msg, msg
        assert snapshot(bpy) == before


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("layers", "3,0,1", "layer 2 has size 0"),
        ("layers", "3", "at least an input and an output layer"),
        ("layers", "3,x,1", "not a comma-separated list"),
        ("layers", "3,1,4096,1,4096,1", "is over the limit"),  # refused before training, scene untouched
        ("learning_rate", 1e9, "diverged at cycle"),
        ("query", "1,1", "query: needs 3 inputs"),
    ],
)
def test_bad_settings_cancel_and_leave_scene_unchanged(bpy_env, field, value, needle):
    bpy = bpy_env
    bpy.ops.nna.build_network()
    sc = bpy.context.scene
    setattr(sc.nna, field, value)
    before = snapshot(bpy)
    with pytest.raises(RuntimeError) as err:
        bpy.ops.nna.build_network()
    msg = str(err.value).strip()
    assert needle in msg and "\n" not in msg, msg
    assert snapshot(bpy) == before


def test_presets_build(bpy_env):
    bpy = bpy_env
    sc = bpy.context.scene
    sc.nna.preset = "xor"
    assert sc.nna.layers == "2,4,1" and sc.nna.bias
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    assert len(role(bpy, "neuron")) == 7 and len(role(bpy, "synapse")) == 12
