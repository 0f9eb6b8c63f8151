"""glTF export (addon/export_gltf.py): the article network's .glb, read back with struct/json,
checked against the scene's keyed values and by the Khronos glTF-Validator (node + npm package).

The article export runs once per module (well under a second: Blender's exporter writes only the
static scene, the animation is sampled from the F-curves in numpy); the old path, where Blender's
exporter baked every frame itself (``_baked=True``), is compared with it on a short clip.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
from conftest import ADDON_MODULE

pytestmark = pytest.mark.blender

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = ROOT / "tools" / "gltf_validate.js"
NODE = shutil.which("node")
#: bpy.data collections compared before and after an export.
DATA = ("objects", "meshes", "materials", "node_groups", "actions", "cameras", "lights", "collections", "images")
NEURON = "NNA Neuron 1.002"
SYNAPSE = "NNA Synapse 1.000.002"


def gl(name: str) -> str:
    """An object's name as the .glb spells it: no dots (three.js cuts track names at a dot)."""
    return name.replace(".", "_")


def addon(name: str):
    return import_module(f"{ADDON_MODULE}.addon.{name}")


def fresh_file(bpy) -> None:
    """An empty file with the add-on enabled (what the bpy_env fixture gives, for module fixtures)."""
    import addon_utils

    bpy.ops.wm.read_homefile(use_empty=True)
    if not addon_utils.check(ADDON_MODULE)[1]:
        addon_utils.enable(ADDON_MODULE, default_set=True)


def snapshot(bpy) -> dict:
    """What an export must leave exactly as it was."""
    sc = bpy.context.scene
    obs = {}
    for ob in bpy.data.objects:
        obs[ob.name] = (
            tuple((s.link, s.material.name if s.material else None) for s in ob.material_slots),
            tuple((m.name, m.show_viewport) for m in ob.modifiers),
            tuple(sorted(c.name for c in ob.users_collection)),
            ob.select_get(),
            ob.animation_data.action.name if ob.animation_data and ob.animation_data.action else None,
        )
    return {
        "counts": {attr: len(getattr(bpy.data, attr)) for attr in DATA},
        "names": {attr: sorted(i.name for i in getattr(bpy.data, attr)) for attr in DATA},
        "objects": obs,
        "frame": (sc.frame_current, sc.frame_start, sc.frame_end),
        "scene_props": sorted(sc.keys()),
        "active": bpy.context.view_layer.objects.active.name if bpy.context.view_layer.objects.active else None,
        "window_scene": bpy.context.window.scene.name if bpy.context.window else None,
        "handlers": len(bpy.app.handlers.frame_change_post),
        "camera": tuple(round(v, 6) for row in sc.camera.matrix_basis for v in row) if sc.camera else None,
    }


def read_glb(path) -> tuple[dict, bytes]:
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    assert magic == 0x46546C67 and version == 2 and length == len(data)
    jlen, jtype = struct.unpack_from("<II", data, 12)
    assert jtype == 0x4E4F534A  # JSON
    doc = json.loads(data[20 : 20 + jlen])
    blen, btype = struct.unpack_from("<II", data, 20 + jlen)
    assert btype == 0x004E4942  # BIN
    return doc, data[28 + jlen : 28 + jlen + blen]


def accessor(doc, binary, i) -> np.ndarray:
    a = doc["accessors"][i]
    view = doc["bufferViews"][a["bufferView"]]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[a["type"]]
    assert a["componentType"] == 5126
    start = view.get("byteOffset", 0) + a.get("byteOffset", 0)
    return np.frombuffer(binary, "<f4", a["count"] * width, start).reshape(a["count"], width).astype(np.float64)


def sampled(doc, binary, channel, times) -> np.ndarray:
    """A channel's value at ``times`` (LINEAR interpolation)."""
    smp = doc["animations"][0]["samplers"][channel["sampler"]]
    assert smp.get("interpolation", "LINEAR") == "LINEAR"
    t = accessor(doc, binary, smp["input"])[:, 0]
    v = accessor(doc, binary, smp["output"])
    return np.stack([np.interp(times, t, v[:, c]) for c in range(v.shape[1])], axis=1)


def pointer(channel) -> str | None:
    return channel["target"].get("extensions", {}).get("KHR_animation_pointer", {}).get("pointer")


def validate(path) -> dict:
    run = subprocess.run([NODE, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode in (0, 1), f"validator failed to run: {run.stderr.strip()}"
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def exported(bpy_session, article_plan, tmp_path_factory):
    """The article network built and exported once; what the tests need, read while it exists."""
    bpy = bpy_session
    fresh_file(bpy)
    scene_mod, eg, compat = addon("scene"), addon("export_gltf"), addon("compat")
    scene_mod.build_network(article_plan, bpy.context.scene)
    sc = bpy.context.scene
    sc.frame_set(100)
    before = snapshot(bpy)
    out = tmp_path_factory.mktemp("gltf") / "article.glb"
    steps = []
    path = eg.export_glb(sc, out, progress=lambda f, text: steps.append((f, text)))
    after = snapshot(bpy)

    frames = np.arange(sc.frame_start, sc.frame_end + 1, dtype=np.float64)
    curves, evaluated = {}, {}
    for ob in bpy.data.objects:
        if ob.get("nna_role") in ("neuron", "synapse"):
            for fc in compat.action_fcurves(ob.animation_data.action):
                key = (ob.name, fc.data_path, fc.array_index)
                curves[key] = eg.sample_fcurve(fc, frames)
                if ob.name in (NEURON, SYNAPSE):
                    evaluated[key] = np.array([fc.evaluate(f) for f in frames])
    synapse_mats = {ob.material_slots[0].material.name for ob in bpy.data.objects if ob.get("nna_role") == "synapse"}
    return {
        "eg": eg,
        "path": Path(path),
        "out": out,
        "steps": steps,
        "before": before,
        "after": after,
        "frames": frames,
        "fps": sc.render.fps,
        "after_frame": sc.nna.still_after,
        "after_index": int(sc.nna.still_after - frames[0]),
        "curves": curves,
        "evaluated": evaluated,
        "synapse_materials": synapse_mats,
        "neurons": sorted(o.name for o in bpy.data.objects if o.get("nna_role") == "neuron"),
        "synapses": sorted(o.name for o in bpy.data.objects if o.get("nna_role") == "synapse"),
        "labels": sorted(o.name for o in bpy.data.objects if o.name.startswith(("NNA Label", "NNA HUD", "NNA Loss"))),
    }


@pytest.fixture(scope="module")
def glb(exported):
    return read_glb(exported["path"])


# --- the file ------------------------------------------------------------------------------------


def test_file_written_where_asked(exported):
    path = exported["path"]
    assert path == exported["out"].resolve() and path.is_file()
    assert os.listdir(path.parent) == [path.name]  # no temporary file left
    steps = exported["steps"]
    assert steps[-1] == (1.0, "done")
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and 0.0 <= fractions[0]
    assert sum("animation of" in text for _, text in steps) >= 20  # progress while the channels are written
    assert 50_000 < path.stat().st_size < 2_000_000


def test_nodes_and_one_clip(exported, glb):
    doc, _ = glb
    names = [n["name"] for n in doc["nodes"]]
    assert {gl(n) for n in exported["neurons"] + exported["synapses"]} <= set(names)
    assert len(exported["neurons"]) == 8 and len(exported["synapses"]) == 16
    assert "NNA Camera" in names and doc["cameras"]
    assert exported["labels"] and not {gl(n) for n in exported["labels"]} & set(names)  # GN text is not exported
    assert len(doc["animations"]) == 1
    anim = doc["animations"][0]
    scaled = {doc["nodes"][c["target"]["node"]]["name"] for c in anim["channels"] if c["target"]["path"] == "scale"}
    assert scaled == {gl(n) for n in exported["synapses"]}
    assert {"KHR_animation_pointer", "KHR_materials_emissive_strength"} <= set(doc["extensionsUsed"])


def test_emission_pointer_channels(exported, glb):
    doc, _ = glb
    by_name = {m["name"]: i for i, m in enumerate(doc["materials"])}
    pointers = {pointer(c) for c in doc["animations"][0]["channels"]} - {None}
    for name in exported["neurons"] + exported["synapses"]:
        node = next(n for n in doc["nodes"] if n["name"] == gl(name))
        (prim,) = doc["meshes"][node["mesh"]]["primitives"]
        mat = prim["material"]
        assert mat == by_name[gl(f"{name} glow")]  # its own material
        assert f"/materials/{mat}/emissiveFactor" in pointers
        if name in exported["neurons"]:
            assert f"/materials/{mat}/extensions/KHR_materials_emissive_strength/emissiveStrength" in pointers


def test_names_bind_in_three_and_the_static_pose_is_the_trained_network(exported, glb):
    doc, binary = glb
    for kind in ("nodes", "meshes", "materials"):
        assert not [i["name"] for i in doc[kind] if "." in i.get("name", "")], kind
    anim = doc["animations"][0]
    after = (exported["after_frame"] - exported["frames"][0]) / exported["fps"]
    by_node = {c["target"].get("node"): c for c in anim["channels"] if c["target"].get("path") == "scale"}
    signs = set()
    for name in exported["synapses"]:
        i = next(k for k, n in enumerate(doc["nodes"]) if n["name"] == gl(name))
        expected = sampled(doc, binary, by_node[i], np.array([after]))[0]
        np.testing.assert_allclose(doc["nodes"][i]["scale"], expected, rtol=1e-5)
        mat = doc["materials"][doc["meshes"][doc["nodes"][i]["mesh"]]["primitives"][0]["material"]]
        r, g, _ = mat["emissiveFactor"]
        trained = exported["curves"][name, '["nna_weight"]', 0][exported["after_index"]]
        assert (g > r) == (trained > 0), name  # green for a positive trained weight, red for negative
        signs.add(bool(trained > 0))
    assert signs == {True, False}


def test_the_camera_frames_the_network_alone(exported, glb):
    """The file has no HUD and no loss curve (Blender's picture puts them beside the network): its
    camera frames the network alone, centred; the scene's camera is left as it was."""
    doc, _ = glb
    cam_node = next(n for n in doc["nodes"] if n["name"] == "NNA Camera")
    cam = doc["cameras"][cam_node["camera"]]["perspective"]
    x, y, z, w = cam_node.get("rotation", [0, 0, 0, 1])
    rot = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    eye = np.array(cam_node["translation"])
    tan_y = np.tan(cam["yfov"] / 2)
    tan_x = tan_y * cam.get("aspectRatio", 16 / 9)
    pts = []
    for n in doc["nodes"]:
        if n["name"].startswith("NNA Neuron"):
            local = rot.T @ (np.array(n.get("translation", [0, 0, 0])) - eye)  # glTF cameras look down -z
            pts.append((local[0] / (-local[2] * tan_x), local[1] / (-local[2] * tan_y)))
    pts = np.array(pts)
    assert len(pts) == 8 and (np.abs(pts) < 1).all()  # every neuron in the picture
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    assert np.abs(centre).max() < 0.1, centre  # centred (the Blender frame puts the curve to its right)
    assert exported["before"]["camera"] == exported["after"]["camera"]  # the scene's camera put back


def test_emission_in_web_range(exported, glb):
    doc, binary = glb
    eg = exported["eg"]
    for ch in doc["animations"][0]["channels"]:
        p = pointer(ch)
        if p is None:
            continue
        v = accessor(doc, binary, doc["animations"][0]["samplers"][ch["sampler"]]["output"])
        if p.endswith("emissiveFactor"):
            assert v.shape[1] == 3 and v.min() >= 0.0 and v.max() <= 1.0 + 1e-6
        else:
            assert p.endswith("emissiveStrength") and v.shape[1] == 1
            assert v.min() >= 1.0 - 1e-6 and v.max() <= eg.WEB_MAX_GLOW + 1e-5


def test_animation_matches_scene(exported, glb):
    """Glow and radius in the file = look.py applied to the scene's keyed values, at every frame."""
    doc, binary = glb
    eg = exported["eg"]
    look = addon("look")
    frames, curves = exported["frames"], exported["curves"]
    times = ((frames - frames[0]) / exported["fps"]).astype(np.float32).astype(np.float64)  # the stored key times
    anim = doc["animations"][0]
    nodes = {n["name"]: i for i, n in enumerate(doc["nodes"])}

    def emission(name):
        mat = doc["meshes"][doc["nodes"][nodes[gl(name)]]["mesh"]]["primitives"][0]["material"]
        chans = {pointer(c): c for c in anim["channels"] if pointer(c)}
        factor = sampled(doc, binary, chans[f"/materials/{mat}/emissiveFactor"], times)
        key = f"/materials/{mat}/extensions/KHR_materials_emissive_strength/emissiveStrength"
        strength = sampled(doc, binary, chans[key], times) if key in chans else 1.0
        return factor * strength

    for name in exported["neurons"]:
        expected = look.neuron_glow(curves[name, '["nna_activity"]', 0])[:, None] * np.asarray(look.NEURON_GLOW)
        np.testing.assert_allclose(emission(name), expected, rtol=2e-4, atol=2e-4, err_msg=name)
    assert look.neuron_glow(curves[NEURON, '["nna_activity"]', 0]).max() > 1.0  # it does glow

    signs = set()
    for name in exported["synapses"]:
        scale = next(c for c in anim["channels"] if c["target"] == {"node": nodes[gl(name)], "path": "scale"})
        radius = curves[name, "scale", 0]
        np.testing.assert_allclose(sampled(doc, binary, scale, times)[:, 0], radius, rtol=1e-4)  # Y-up: x is x

        weight = curves[name, '["nna_weight"]', 0]
        fwd, back = curves[name, '["nna_fwd"]', 0], curves[name, '["nna_back"]', 0]
        fwd = curves[name, '["nna_signal"]', 0] * ((fwd > 0) & (fwd < 1))
        back = curves[name, '["nna_err"]', 0] * ((back > 0) & (back < 1))
        colour = emission(name)
        idle = (fwd == 0) & (back == 0)
        assert idle.sum() > len(frames) / 2 and (fwd > 0.2).any()
        np.testing.assert_allclose(
            colour[idle], look.synapse_color(weight[idle]) * look.SYNAPSE_GLOW, rtol=2e-4, atol=2e-4
        )
        signs |= set(np.sign(weight[idle]).astype(int).tolist())
        # a travelling pulse tints the whole synapse (glTF has no band moving along it)
        tint = look.PULSE_GLOW * eg.PULSE_TINT
        expected = look.synapse_color(weight) * look.SYNAPSE_GLOW
        expected += tint * (fwd[:, None] * np.asarray(look.SIGNAL) + back[:, None] * np.asarray(look.ERROR))
        expected *= np.minimum(1.0, eg.WEB_MAX_GLOW / expected.max(axis=1, keepdims=True))
        np.testing.assert_allclose(colour, expected, rtol=2e-4, atol=2e-4, err_msg=name)
    assert signs == {-1, 1}  # green and red synapses


def test_sample_fcurve_matches_blender(exported):
    assert len(exported["evaluated"]) == 8
    for (name, path, index), blender in exported["evaluated"].items():
        ours = exported["curves"][name, path, index]
        np.testing.assert_allclose(ours, blender, atol=1e-6, err_msg=f"{name} {path}[{index}]")


@pytest.mark.skipif(NODE is None, reason="node (Node.js) not found: the Khronos glTF-Validator runs on node")
def test_khronos_validator(exported):
    if not (ROOT / "node_modules" / "gltf-validator").is_dir():
        pytest.fail("npm package gltf-validator missing: run `npm ci` in the repository root (make setup does)")
    report = validate(exported["path"])
    assert report["numErrors"] == 0, report["messages"]
    assert report["numWarnings"] == 0, report["messages"]


# --- the scene is left as it was -----------------------------------------------------------------


def test_scene_unchanged(exported):
    before, after = exported["before"], exported["after"]
    assert after["counts"] == before["counts"]
    assert after == before
    assert exported["synapse_materials"] == {"NNA Synapse", "NNA Synapse inhibit"}  # the build's own, restored
    # slots as the build set them: the mesh's material, or the inhibit copy linked to the object (Solid colours)
    links = {(link, mat) for name, ob in after["objects"].items() for link, mat in ob[0] if "NNA" in name}
    assert links <= {("DATA", "NNA Neuron"), ("DATA", "NNA Synapse"), ("OBJECT", "NNA Synapse inhibit")}, links


# --- bad input -----------------------------------------------------------------------------------


def test_no_network(bpy_env, tmp_path):
    eg = addon("export_gltf")
    with pytest.raises(eg.NNCoreError, match="no network") as err:
        eg.export_glb(bpy_env.context.scene, tmp_path / "x.glb")
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing/x.glb", "does not exist"), ("x.gltf", "must end in .glb"), ("", "no file name")],
)
def test_bad_path(bpy_env, tmp_path, name, message):
    eg = addon("export_gltf")
    with pytest.raises(eg.NNCoreError, match=message) as err:
        eg.export_glb(bpy_env.context.scene, str(tmp_path / name) if name else name)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def small_network(bpy) -> None:
    from nncore.presets import make_plan, settings_for

    addon("scene").build_network(make_plan(settings_for("xor", cycles=200, show=2)), bpy.context.scene)


def test_too_big_to_bake(bpy_env, tmp_path, monkeypatch):
    small_network(bpy_env)
    eg = addon("export_gltf")
    monkeypatch.setattr(eg, "MAX_OBJECT_FRAMES", 1000)
    with pytest.raises(eg.NNCoreError, match="too much to bake"):
        eg.export_glb(bpy_env.context.scene, tmp_path / "x.glb")
    assert list(tmp_path.iterdir()) == []


def test_gltf_addon_disabled(bpy_env, tmp_path):
    import addon_utils

    small_network(bpy_env)
    eg = addon("export_gltf")
    addon_utils.disable("io_scene_gltf2")
    try:
        with pytest.raises(eg.NNCoreError, match="io_scene_gltf2"):
            eg.export_glb(bpy_env.context.scene, tmp_path / "x.glb")
    finally:
        addon_utils.enable("io_scene_gltf2")
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_nothing(bpy_env, tmp_path, monkeypatch):
    """An error after the exporter ran: no file (not even the temporary one), the scene restored."""
    bpy = bpy_env
    small_network(bpy)
    bpy.context.scene.frame_end = 40  # a short clip: this test is about the cleanup
    eg = addon("export_gltf")
    before = snapshot(bpy)

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(eg, "static_pose", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        eg.export_glb(bpy.context.scene, tmp_path / "x.glb")
    assert list(tmp_path.iterdir()) == []
    assert snapshot(bpy) == before


def channel_values(path, times) -> dict:
    """Every animation channel of a .glb sampled at ``times``, keyed by what it animates (node or
    material name, path or pointer tail), and the file's nodes and materials by name."""
    doc, binary = read_glb(path)
    out = {}
    for ch in doc["animations"][0]["channels"]:
        p = pointer(ch)
        if p:
            parts = p.strip("/").split("/")
            key = (doc["materials"][int(parts[1])]["name"], "/".join(parts[2:]))
        else:
            key = (doc["nodes"][ch["target"]["node"]]["name"], ch["target"]["path"])
        out[key] = sampled(doc, binary, ch, times)
    return out, {n["name"]: n for n in doc["nodes"]}, {m["name"]: m for m in doc["materials"]}


@pytest.mark.parametrize(("camera", "frame_end"), [("front", 300), ("orbit", 300), ("front", 90)])
def test_same_animation_as_blenders_baking(bpy_env, tmp_path, camera, frame_end):
    """The channels written from the F-curves = those Blender's exporter baked (the old path), at
    every frame: synapse radii, glow, and the orbit camera's translation and rotation; on a short
    clip, values that never change are in the static scene only, as Blender's exporter wrote them."""
    bpy = bpy_env
    small_network(bpy)
    sc = bpy.context.scene
    sc.frame_end = frame_end  # 300: the orbit turns between the 'before' still and the training's end
    if camera == "orbit":
        addon("camera_moves").set_camera(sc, "orbit", False)
    sc.frame_set(120)
    eg = addon("export_gltf")
    new = eg.export_glb(sc, tmp_path / "new.glb")
    old = eg.export_glb(sc, tmp_path / "old.glb", _baked=True)
    times = (np.arange(sc.frame_start, sc.frame_end + 1) - sc.frame_start) / sc.render.fps
    (a, nodes_a, mats_a), (b, nodes_b, mats_b) = channel_values(old, times), channel_values(new, times)
    assert set(a) == set(b)
    assert {k[1] for k in a} >= {
        "scale",
        "emissiveFactor",
        "extensions/KHR_materials_emissive_strength/emissiveStrength",
    }
    assert ({("NNA Camera", "translation"), ("NNA Camera", "rotation")} <= set(a)) == (camera == "orbit")
    if frame_end == 90:  # some values never change on a short clip: no channel
        assert len(a) < 2 * len(mats_a) + len([n for n in nodes_a if "Synapse" in n])
    for key, va in a.items():
        vb = b[key]
        if key[1] == "rotation":  # q and -q are the same rotation
            flip = np.sign(np.sum(va * vb, axis=1, keepdims=True))
            vb = vb * flip
        np.testing.assert_allclose(vb, va, atol=2e-5 * max(1.0, np.abs(va).max()), err_msg=str(key))
    assert set(nodes_a) == set(nodes_b) and set(mats_a) == set(mats_b)
    for name, node in nodes_a.items():
        for field in ("translation", "scale"):
            np.testing.assert_allclose(nodes_b[name].get(field, [0, 0, 0]), node.get(field, [0, 0, 0]), atol=1e-4)
    strength = "KHR_materials_emissive_strength"
    for name, mat in mats_a.items():
        black = [0.0, 0.0, 0.0]
        np.testing.assert_allclose(
            mats_b[name].get("emissiveFactor", black), mat.get("emissiveFactor", black), atol=1e-5
        )
        expected = mat.get("extensions", {}).get(strength, {}).get("emissiveStrength", 1.0)
        assert mats_b[name]["extensions"][strength]["emissiveStrength"] == pytest.approx(expected, rel=1e-5)
    if NODE and (ROOT / "node_modules" / "gltf-validator").is_dir():
        report = validate(new)
        assert (report["numErrors"], report["numWarnings"]) == (0, 0), report["messages"]


# --- dropping redundant keys ---------------------------------------------------------------------


def synthetic_glb(eg, times, values) -> bytes:
    """One node, one LINEAR scale channel: the smallest file compact_animation works on."""
    t = np.asarray(times, "<f4")
    v = np.asarray(values, "<f4")
    binary = t.tobytes() + v.tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "n"}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": t.nbytes},
            {"buffer": 0, "byteOffset": t.nbytes, "byteLength": v.nbytes},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(t), "type": "SCALAR", "min": [0.0], "max": [1.0]},
            {"bufferView": 1, "componentType": 5126, "count": len(t), "type": "VEC3"},
        ],
        "animations": [
            {
                "channels": [{"sampler": 0, "target": {"node": 0, "path": "scale"}}],
                "samplers": [{"input": 0, "output": 1}],
            }
        ],
    }
    doc["accessors"][0]["max"] = [float(t[-1])]
    return eg.write_glb(doc, binary)


def test_compact_animation_keeps_values(bpy_env, tmp_path):
    eg = addon("export_gltf")
    frames = np.arange(241)
    ramp = np.interp(frames, [0, 30, 90, 91, 150, 240], [0.1, 0.5, 0.5, 2.0, 1.0, 1.0])
    values = np.stack([ramp, np.full(241, 3.0), ramp], axis=1)
    raw = synthetic_glb(eg, frames / 24, values)
    small = eg.compact_animation(raw)
    assert eg.compact_animation(small) == small  # nothing more to drop
    path = tmp_path / "small.glb"
    path.write_bytes(small)
    doc, binary = read_glb(path)
    smp = doc["animations"][0]["samplers"][0]
    assert doc["accessors"][smp["input"]]["count"] == 6  # the corners of the curve
    back = sampled(doc, binary, doc["animations"][0]["channels"][0], frames / 24)
    np.testing.assert_allclose(back, values.astype(np.float32), rtol=1e-5)
    if NODE and (ROOT / "node_modules" / "gltf-validator").is_dir():
        assert validate(path)["numErrors"] == 0


def test_compact_animation_leaves_unknown_files_alone(bpy_env):
    eg = addon("export_gltf")
    raw = synthetic_glb(eg, np.arange(5) / 24, np.ones((5, 3)))
    doc, binary = eg.read_glb(raw)
    doc["extensionsUsed"] = ["EXT_meshopt_compression"]
    odd = eg.write_glb(doc, binary)
    assert eg.compact_animation(odd) == odd
