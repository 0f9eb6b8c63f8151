"""Labels, HUD and loss curve show the plan's numbers, with nothing of the add-on at render time."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE


def labels_mod():
    return import_module(f"{ADDON_MODULE}.addon.labels")


def evaluated_verts(bpy, ob) -> np.ndarray:
    dg = bpy.context.evaluated_depsgraph_get()
    ev = ob.evaluated_get(dg)
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3, dtype=np.float32)
    me.vertices.foreach_get("co", co)
    ev.to_mesh_clear()
    return co.reshape(-1, 3)


@pytest.fixture
def built(bpy_env, article_plan):
    import_module(f"{ADDON_MODULE}.addon.scene").build_network(article_plan, bpy_env.context.scene)
    return bpy_env


def test_neuron_labels_show_the_activity_with_two_decimals(built, article_plan):
    bpy = built
    lab = labels_mod()
    sc = bpy.context.scene
    label = bpy.data.objects["NNA Label 2.000"]  # the output neuron's number
    mod = label.modifiers[lab.NUMBER_MODIFIER]
    value_id = lab.input_path(mod, "Value").split('"]["')[1].rstrip('"]')
    # a twin with the same node group and a fixed value: same glyphs means the same text
    twin = bpy.data.objects.new("twin", label.data.copy())
    sc.collection.objects.link(twin)
    tmod = twin.modifiers.new("twin", "NODES")
    tmod.node_group = mod.node_group
    for key in mod.keys():
        if key != value_id and not key.startswith("_"):
            tmod[key] = mod[key]
    seen = set()
    for step in (article_plan["steps"][0], article_plan["steps"][40], article_plan["steps"][-1]):
        f = step["frame_end"]
        sc.frame_set(f)
        out = step["activations"][-1][0]
        assert mod[value_id] == pytest.approx(out, abs=1e-6)
        tmod[value_id] = round(out, 2)
        twin.update_tag()
        mine = evaluated_verts(bpy, label)
        ref = evaluated_verts(bpy, twin)
        assert mine.shape == ref.shape and np.allclose(mine, ref, atol=1e-5), (f, out)
        seen.add(f"{out:.2f}")
    assert len(seen) > 1  # the number really changed over time


def test_hud_inputs_follow_the_text_track(built, article_plan):
    bpy = built
    lab = labels_mod()
    sc = bpy.context.scene
    hud = next(o for o in bpy.data.objects if o.get("nna_role") == "hud")
    mod = hud.modifiers[lab.HUD_MODIFIER]

    def inp(name):
        return mod[lab.input_path(mod, name).split('"]["')[1].rstrip('"]')]

    text = article_plan["tracks"]["text"]
    for i in (0, 5, 50, len(text["frames"]) - 1):
        sc.frame_set(text["frames"][i])
        assert inp("Phase") == text["phase"][i]
        assert inp("Cycle") == text["cycle"][i]
        assert inp("Example") == text["example"][i]
        assert inp("Output 1") == pytest.approx(text["output"][i][0], abs=1e-6)
        assert inp("Mean Error") == pytest.approx(text["mean_error"][i], abs=1e-6)
    # the HUD's text differs between two training steps
    a, b = article_plan["steps"][0]["frame_start"], article_plan["steps"][-1]["frame_start"]
    sc.frame_set(a)
    va = evaluated_verts(bpy, hud)
    sc.frame_set(b)
    vb = evaluated_verts(bpy, hud)
    assert va.shape != vb.shape or not np.allclose(va, vb)


def test_loss_curve_grows(built, article_plan):
    bpy = built
    sc = bpy.context.scene
    curve = next(o for o in bpy.data.objects if o.get("nna_role") == "loss_curve")
    counts = []
    for f in (1, article_plan["steps"][10]["frame_start"], article_plan["timing"]["frame_end"]):
        sc.frame_set(f)
        counts.append(len(evaluated_verts(bpy, curve)))
    assert counts[0] < counts[1] < counts[2], counts


def test_nothing_runs_at_render_time(built):
    bpy = built
    for handlers in (bpy.app.handlers.frame_change_pre, bpy.app.handlers.frame_change_post):
        assert not [h for h in handlers if "nn_animator" in getattr(h, "__module__", "")]
    # no drivers with Python expressions anywhere in the build
    for ob in bpy.data.objects:
        ad = ob.animation_data
        assert ad is None or len(ad.drivers) == 0
