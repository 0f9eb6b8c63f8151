"""render.py: configure, the .mp4 video, the stills, and what happens when things go wrong (bpy module).

Renders are tiny (64x64 or 160x90, 1 sample, a few frames). The video is checked by parsing its MP4
boxes (no ffprobe needed): ftyp, a video track whose sample description is 'avc1' (H.264) and whose
sample-size table counts one sample per frame.
"""

from __future__ import annotations

import math
import os
import struct
from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE

TINY = {"resolution": (64, 64), "samples": 1}
#: frames in the middle of training: a forward pass runs through them
FRAMES = (1400, 1402)


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.{name}")


@pytest.fixture
def render():
    return mod("addon.render")


@pytest.fixture
def NNCoreError():
    return mod("nncore.errors").NNCoreError


@pytest.fixture
def scene(bpy_env, article_plan, render):
    """The article network, configured for tiny renders."""
    sc = bpy_env.context.scene
    mod("addon.scene").build_network(article_plan, sc)
    render.configure(sc, "preview", **TINY)
    return sc


def output_state(sc) -> dict:
    return {
        "filepath": sc.render.filepath,
        "format": sc.render.image_settings.file_format,
        "range": (sc.frame_start, sc.frame_end),
        "frame": sc.frame_current,
    }


def one_line(exc) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# --------------------------------------------------------------------------------------------
# MP4 boxes


def boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, box end) of the boxes between start and end."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[i + 8 : i + 16])[0]
            header = 16
        elif size == 0:
            size = end - i
        assert size >= header, "corrupt MP4 box"
        yield kind.decode("latin-1"), i + header, i + size
        i += size


def child(data: bytes, parent: tuple[int, int], kind: str) -> tuple[int, int] | None:
    for k, s, e in boxes(data, *parent):
        if k == kind:
            return s, e
    return None


def video_tracks(path) -> list[dict]:
    """Every video track of an MP4: its codec (first sample entry of stsd) and sample count (stsz)."""
    data = open(path, "rb").read()
    top = list(boxes(data))
    assert top and top[0][0] == "ftyp", "not an MP4 (no leading ftyp box)"
    moov = next(((s, e) for k, s, e in top if k == "moov"), None)
    assert moov is not None, "no moov box"
    tracks = []
    for k, s, e in boxes(data, *moov):
        if k != "trak":
            continue
        mdia = child(data, (s, e), "mdia")
        hdlr = child(data, mdia, "hdlr")
        if data[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":  # version/flags, pre_defined, handler_type
            continue
        stbl = child(data, child(data, mdia, "minf"), "stbl")
        stsd = child(data, stbl, "stsd")
        codec = next(boxes(data, stsd[0] + 8, stsd[1]))[0]  # version/flags, entry_count, entries
        stsz = child(data, stbl, "stsz")
        sample_size, count = struct.unpack(">II", data[stsz[0] + 4 : stsz[0] + 12])
        tracks.append({"codec": codec, "samples": count})
    return tracks


# --------------------------------------------------------------------------------------------
# configure


def test_configure_is_idempotent_and_sets_the_look(bpy_env, scene, render):
    bpy = bpy_env
    compat = mod("addon.compat")
    first = sorted(n.bl_idname for n in compat.compositor_nodes(scene))
    render.configure(scene, "preview", **TINY)
    render.configure(scene, "final", resolution=(64, 64), samples=1)
    nodes = compat.compositor_nodes(scene)
    assert sorted(n.bl_idname for n in nodes) == first
    assert len(nodes) == 3 and sum(n.bl_idname == "CompositorNodeGlare" for n in nodes) == 1
    assert len([g for g in bpy.data.node_groups if g.get(compat.COMPOSITOR_TAG)]) == (
        1 if compat.VERSION >= (5, 0, 0) else 0
    )
    glare = next(n for n in nodes if n.bl_idname == "CompositorNodeGlare")
    kind = glare.inputs["Type"].default_value if "Type" in glare.inputs else glare.glare_type
    assert kind.upper() == "BLOOM"
    assert scene.render.engine == compat.EEVEE
    assert scene.view_settings.view_transform == "Standard" and scene.view_settings.look == "None"
    assert not scene.render.film_transparent
    assert not scene.eevee.use_shadows
    assert scene.render.resolution_percentage == 100


def test_configure_presets_and_even_sizes(scene, render):
    render.configure(scene, "final")
    assert (scene.render.resolution_x, scene.render.resolution_y) == render.QUALITY["final"]["resolution"]
    assert scene.eevee.taa_render_samples == render.QUALITY["final"]["samples"]
    render.configure(scene, "preview")
    assert (scene.render.resolution_x, scene.render.resolution_y) == (640, 360)
    render.configure(scene, "preview", resolution=(641, 361), samples=3)
    assert (scene.render.resolution_x, scene.render.resolution_y) == (642, 362)
    assert scene.eevee.taa_render_samples == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quality": "ultra"},
        {"resolution": (0, 100)},
        {"resolution": (640,)},
        {"resolution": "640x360"},
        {"samples": 0},
        {"samples": 1.5},
        {"fps": 0},
        {"fps": True},
    ],
)
def test_configure_rejects_bad_input(scene, render, NNCoreError, kwargs):
    before = (scene.render.resolution_x, scene.render.resolution_y, scene.eevee.taa_render_samples)
    with pytest.raises(NNCoreError) as exc:
        render.configure(scene, **kwargs)
    one_line(exc)
    assert (scene.render.resolution_x, scene.render.resolution_y, scene.eevee.taa_render_samples) == before


def test_fps_keeps_the_duration(scene, render):
    fps, start, end = scene.render.fps, scene.frame_start, scene.frame_end
    neuron = next(o for o in scene.objects if o.get("nna_role") == "neuron" and o["nna_layer"] == 1)
    anim_frames = [1000, 1416, 2000]
    values = []
    for f in anim_frames:
        scene.frame_set(f)
        values.append(neuron["nna_activity"])
    new_fps = fps * 5 // 4  # 24 -> 30: anim frames that are multiples of 4 land on whole frames
    render.configure(scene, "preview", fps=new_fps, **TINY)
    render.configure(scene, "preview", fps=new_fps, **TINY)  # twice: no double stretch
    assert scene.render.fps == new_fps
    assert (scene.frame_start, scene.frame_end) == (round(start * 1.25), math.ceil(end * 1.25))
    duration = (scene.frame_end - scene.frame_start + 1) / new_fps
    assert abs(duration - (end - start + 1) / fps) < 2 / fps
    for f, v in zip(anim_frames, values):
        scene.frame_set(f * 5 // 4)
        assert neuron["nna_activity"] == pytest.approx(v, abs=1e-6)
    render.configure(scene, "preview", **TINY)  # fps=None keeps the new rate
    assert scene.render.fps == new_fps
    render.configure(scene, "preview", fps=fps, **TINY)  # back to the animation's own rate
    assert (scene.render.fps, scene.frame_start, scene.frame_end) == (fps, start, end)
    assert (scene.render.frame_map_old, scene.render.frame_map_new) == (100, 100)


def test_rebuild_after_fps_change_resets_the_time_remapping(scene, render, article_plan):
    fps, start, end = scene.render.fps, scene.frame_start, scene.frame_end
    render.configure(scene, "preview", fps=fps * 2, **TINY)
    assert scene.render.frame_map_new == 2 * scene.render.frame_map_old
    mod("addon.scene").build_network(article_plan, scene)  # sets its own fps and frames, not the map
    render.configure(scene, "preview", **TINY)
    assert (scene.render.frame_map_old, scene.render.frame_map_new) == (100, 100)
    assert (scene.render.fps, scene.frame_start, scene.frame_end) == (fps, start, end)
    render.configure(scene, "preview", fps=fps * 2, **TINY)
    assert (scene.frame_start, scene.frame_end) == (2 * start, 2 * end)


# --------------------------------------------------------------------------------------------
# video


def test_video_is_h264_mp4_with_one_sample_per_frame(scene, render, tmp_path):
    before = output_state(scene)
    calls = []
    path = render.render_video(scene, tmp_path / "clip", frames=FRAMES, progress=lambda *a: calls.append(a))
    assert path == str(tmp_path / "clip.mp4")
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4"]  # no temporary files left
    tracks = video_tracks(path)
    assert tracks == [{"codec": "avc1", "samples": 3}]
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert all(c[2] >= 0 for c in calls) and calls[-1][2] == 0
    assert output_state(scene) == before


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_video_failure_leaves_nothing_and_stops_early(bpy_env, scene, render, tmp_path, exc_type):
    bpy = bpy_env
    (tmp_path / "keep.txt").write_text("x")
    before = output_state(scene)
    rendered = []

    def count(*_):
        rendered.append(1)

    def fail(i, n, eta):
        if i == 2:
            raise exc_type("stop")

    handlers = bpy.app.handlers.render_post
    n_handlers = len(handlers)
    handlers.append(count)
    try:
        with pytest.raises(exc_type):
            render.render_video(scene, tmp_path / "v.mp4", frames=(1400, 1430), progress=fail)
        assert len(handlers) == n_handlers + 1  # render.py's handler is gone
    finally:
        handlers.remove(count)
    assert os.listdir(tmp_path) == ["keep.txt"]
    assert len(rendered) == 2  # Blender's frame loop stopped after the failing frame
    assert output_state(scene) == before


def test_video_rejects_bad_output_folders(scene, render, NNCoreError, tmp_path):
    before = output_state(scene)
    with pytest.raises(NNCoreError) as exc:
        render.render_video(scene, tmp_path / "missing" / "v.mp4", frames=FRAMES)
    assert "does not exist" in one_line(exc)
    assert not (tmp_path / "missing").exists()

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        try:  # root ignores permissions: then use a folder of a read-only file system
            (locked / "probe").touch()
            (locked / "probe").unlink()
            folder = "/proc"
        except OSError:
            folder = str(locked)
        with pytest.raises(NNCoreError) as exc:
            render.render_video(scene, os.path.join(folder, "v.mp4"), frames=FRAMES)
        assert "cannot write" in one_line(exc)
        assert not os.path.exists(os.path.join(folder, "v.mp4"))
    finally:
        locked.chmod(0o700)
    assert os.listdir(locked) == []

    with pytest.raises(NNCoreError) as exc:
        render.render_video(scene, tmp_path / "v.avi", frames=FRAMES)
    one_line(exc)
    assert output_state(scene) == before


@pytest.mark.parametrize("frames", [(5, 2), (0, 3), (2970, 99999), ("a", 3), (1.0, 3.0), (1, 2, 3), 7])
def test_video_rejects_bad_frame_ranges(scene, render, NNCoreError, tmp_path, frames):
    with pytest.raises(NNCoreError) as exc:
        render.render_video(scene, tmp_path / "v.mp4", frames=frames)
    one_line(exc)
    assert os.listdir(tmp_path) == []


def test_video_rejects_odd_sizes_set_by_hand(scene, render, NNCoreError, tmp_path):
    scene.render.resolution_x = 63
    with pytest.raises(NNCoreError) as exc:
        render.render_video(scene, tmp_path / "v.mp4", frames=FRAMES)
    assert "even" in one_line(exc)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------------------------
# stills


def load_pixels(bpy, path) -> np.ndarray:
    """(height, width, 3) float RGB, display-referred (as in the PNG)."""
    img = bpy.data.images.load(str(path))
    try:
        w, h = img.size
        px = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(px)
        return px.reshape(h, w, img.channels)[..., :3]
    finally:
        bpy.data.images.remove(img)


def test_stills_show_glow_and_green_and_red(bpy_env, scene, render, tmp_path):
    bpy = bpy_env
    render.configure(scene, "preview", resolution=(192, 108), samples=1)
    before = output_state(scene)
    calls = []
    paths = render.render_stills(scene, tmp_path, prefix="t", progress=lambda *a: calls.append(a))
    assert [os.path.basename(p) for p in paths] == ["t_before.png", "t_after.png", "t_new_situation.png"]
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths)
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert output_state(scene) == before

    px = load_pixels(bpy, paths[2])
    assert px.shape == (108, 192, 3)
    lum = px.max(axis=2)
    background = float(np.median(lum))
    brightest = float(np.percentile(lum, 99.7))
    assert background < 0.15, background
    assert brightest > 0.9 and brightest > 6 * background, (brightest, background)
    r, g = px[..., 0], px[..., 1]
    assert np.count_nonzero((g > 0.35) & (g > 2.5 * r)) >= 5  # green (excitatory) synapses
    assert np.count_nonzero((r > 0.35) & (r > 2.5 * g)) >= 5  # red (inhibitory) synapses

    # the bloom: the same frame without the compositor has less light around the bright parts
    scene.render.use_compositing = False
    plain = render.render_stills(scene, tmp_path, prefix="plain")[2]
    halo = lum.sum() / load_pixels(bpy, plain).max(axis=2).sum()
    assert halo > 1.05, halo


def test_stills_need_a_network(bpy_env, render, NNCoreError, tmp_path):
    with pytest.raises(NNCoreError) as exc:
        render.render_stills(bpy_env.context.scene, tmp_path)
    one_line(exc)
    assert os.listdir(tmp_path) == []


def test_stills_failure_leaves_nothing(scene, render, NNCoreError, tmp_path):
    before = output_state(scene)
    with pytest.raises(NNCoreError) as exc:
        render.render_stills(scene, tmp_path / "missing")
    assert "does not exist" in one_line(exc)

    def fail(i, n, eta):
        if i == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render.render_stills(scene, tmp_path, progress=fail)
    assert os.listdir(tmp_path) == []
    assert output_state(scene) == before


def test_lit_neuron_is_brighter_than_an_idle_one(bpy_env, scene, render, tmp_path):
    """New situation [1, 1, 0]: inputs 1 and 2 glow (activity 1), input 3 is idle (activity 0)."""
    from bpy_extras.object_utils import world_to_camera_view

    bpy = bpy_env
    render.configure(scene, "preview", resolution=(256, 144), samples=1)
    still = render.render_stills(scene, tmp_path, prefix="t")[2]
    px = load_pixels(bpy, still)
    h, w, _ = px.shape
    scene.frame_set(scene.nna.still_new_situation)

    def brightness(ob) -> float:
        c = world_to_camera_view(scene, scene.camera, ob.matrix_world.translation)
        x, y = int(c.x * w), int(c.y * h)  # Blender's image rows run bottom to top, like c.y
        return float(px[y - 1 : y + 2, x - 1 : x + 2].max(axis=2).mean())

    inputs = sorted(
        (o for o in scene.objects if o.get("nna_role") == "neuron" and o["nna_layer"] == 0),
        key=lambda o: o["nna_index"],
    )
    assert [round(o["nna_activity"], 3) for o in inputs] == [1.0, 1.0, 0.0]
    lit, idle = brightness(inputs[0]), brightness(inputs[2])
    assert lit > 0.8 and idle < 0.3 and lit > 3 * idle, (lit, idle)
