"""The panel's Render video, Render stills and Export glTF operators (background mode)."""

from __future__ import annotations

import json
import struct

import pytest


@pytest.fixture
def built(bpy_env):
    assert bpy_env.ops.nna.build_network() == {"FINISHED"}
    return bpy_env


def test_operators_need_a_network(bpy_env):
    assert not bpy_env.ops.nna.render_video.poll()
    assert not bpy_env.ops.nna.render_stills.poll()
    assert not bpy_env.ops.nna.export_gltf.poll()


def test_render_video_operator(built, tmp_path):
    sc = built.context.scene
    sc.frame_start, sc.frame_end = 40, 42  # three frames of the timeline
    out = tmp_path / "v.mp4"
    assert built.ops.nna.render_video(filepath=str(out), quality="preview") == {"FINISHED"}
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and b"avc1" in data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_render_stills_operator(built, tmp_path):
    assert built.ops.nna.render_stills(directory=str(tmp_path), quality="preview") == {"FINISHED"}
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["article_after.png", "article_before.png", "article_new_situation.png"]


def test_export_gltf_operator(built, tmp_path):
    out = tmp_path / "n.glb"
    assert built.ops.nna.export_gltf(filepath=str(out)) == {"FINISHED"}
    data = out.read_bytes()
    magic, version, _ = struct.unpack_from("<4sII", data)
    length, kind = struct.unpack_from("<I4s", data, 12)
    doc = json.loads(data[20 : 20 + length])
    assert magic == b"glTF" and version == 2 and kind == b"JSON"
    assert len(doc["animations"]) == 1
    assert sum(n.get("name", "").startswith("NNA Synapse") for n in doc["nodes"]) == 16


def test_export_gltf_operator_reports_bad_path(built, tmp_path):
    with pytest.raises(RuntimeError, match="does not exist"):
        built.ops.nna.export_gltf(filepath=str(tmp_path / "missing" / "n.glb"))
    assert list(tmp_path.iterdir()) == []


def test_export_web_page_from_the_panel(bpy_env, tmp_path):
    bpy = bpy_env
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    out = tmp_path / "page"
    assert bpy.ops.nna.export_web(directory=str(out)) == {"FINISHED"}
    assert {"index.html", "network.js", "viewer.js"} <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.startswith(".nna-")]
    import pytest

    with pytest.raises(RuntimeError, match="does not exist"):
        bpy.ops.nna.export_web(directory=str(tmp_path / "no" / "such" / "page"))
