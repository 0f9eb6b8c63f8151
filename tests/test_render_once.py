"""Render each distinct frame once (render.frame_runs, render_video(render_once=True)): the video is
the same as rendering every frame, fewer 3-D frames are rendered, nothing is left behind (bpy module).

The videos are compared decoded: each .mp4 goes through a movie strip of Blender's sequencer into
PNGs (the bpy module's own FFmpeg; no ffmpeg executable needed). Renders are tiny (64x64, 1 sample).
"""

from __future__ import annotations

import os
from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE
from test_audio import sine_wav
from test_render import output_state

pytestmark = pytest.mark.blender

TINY = {"resolution": (64, 64), "samples": 1}


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.{name}")


@pytest.fixture
def render():
    return mod("addon.render")


@pytest.fixture(scope="module")
def small_plan():
    from nncore.presets import make_plan, settings_for

    return make_plan(settings_for("article", cycles=2000, show=4))


def build(bpy, plan, **kwargs):
    sc = bpy.context.scene
    mod("addon.scene").build_network(plan, sc, **kwargs)
    return sc


def hold_range(render, sc, before=6, after=30) -> tuple[int, int]:
    """A range around the first run of repeated frames after the start."""
    runs, note = render.frame_runs(sc)
    assert not note, note
    start = next(s for s, n in runs if n > 1 and s > sc.frame_start + before)
    return start - before, min(start + after, sc.frame_end)


def decode(bpy, path: str) -> np.ndarray:
    """The .mp4's frames as (n, height, width, 3) floats, through a movie strip and PNGs."""
    compat = mod("addon.compat")
    dec = bpy.data.scenes.new("NNA test decode")
    try:
        strips = compat.sequencer_strips(dec, create=True)
        movie = strips.new_movie("movie", path, 1, 1)
        w, h = movie.elements[0].orig_width, movie.elements[0].orig_height
        dec.render.resolution_x, dec.render.resolution_y, dec.render.resolution_percentage = w, h, 100
        dec.view_settings.view_transform = "Standard"
        dec.frame_start, dec.frame_end = 1, movie.frame_final_duration
        compat.set_image_output(dec, "PNG")
        dec.render.image_settings.color_mode = "RGB"
        dec.render.filepath = path + ".decoded/f_"
        bpy.ops.render.render(animation=True, scene=dec.name)
        frames = []
        for f in range(1, movie.frame_final_duration + 1):
            img = bpy.data.images.load(dec.render.frame_path(frame=f))
            px = np.empty(w * h * img.channels, dtype=np.float32)
            img.pixels.foreach_get(px)
            frames.append(px.reshape(h, w, img.channels)[..., :3])
            bpy.data.images.remove(img)
        return np.array(frames)
    finally:
        bpy.data.scenes.remove(dec)


def strip_names(sc) -> list[str]:
    strips = mod("addon.compat").sequencer_strips(sc)
    return [] if strips is None else sorted(s.name for s in strips)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def both_ways(bpy, render, sc, tmp_path, frames) -> dict:
    """Render ``frames`` every frame and render-once; 3-D frames counted by a render_post handler."""
    rendered = []

    strips = mod("addon.compat").sequencer_strips

    def count(s, *_):  # the sequencer's encoding pass shows the strip of rendered frames: not 3-D
        if strips(s) is None or not any(x.type == "IMAGE" for x in strips(s)):
            rendered.append(s.frame_current)

    out = {}
    bpy.app.handlers.render_post.append(count)
    try:
        for once in (False, True):
            rendered.clear()
            folder = tmp_path / f"once{int(once)}"
            folder.mkdir()
            stats = {}
            before = output_state(sc)
            path = render.render_video(sc, folder / "v.mp4", frames=frames, render_once=once, stats=stats)
            assert output_state(sc) == before
            assert os.listdir(folder) == ["v.mp4"]  # no PNGs, no temporary folder left
            out[once] = {"path": path, "stats": stats, "rendered": len(rendered)}
    finally:
        bpy.app.handlers.render_post.remove(count)
    a, b = decode(bpy, out[False]["path"]), decode(bpy, out[True]["path"])
    n = frames[1] - frames[0] + 1
    assert a.shape == b.shape and len(a) == n
    out["psnr"] = min(psnr(x, y) for x, y in zip(a, b))
    return out


# --------------------------------------------------------------------------------------------
# which frames repeat


def test_runs_cover_the_range_and_holds_repeat(bpy_env, render, article_plan):
    sc = build(bpy_env, article_plan)
    render.configure(sc, "preview", **TINY)
    runs, note = render.frame_runs(sc)
    assert note == ""
    n = sc.frame_end - sc.frame_start + 1
    assert runs[0][0] == sc.frame_start and sum(k for _, k in runs) == n
    assert all(a + k == b for (a, k), (b, _) in zip(runs, runs[1:]))
    assert 0.5 * n < len(runs) < 0.95 * n  # holds, states and the end repeat; passes do not
    # a part of the range: the same runs, cut
    i = next(i for i, (_, k) in enumerate(runs) if k > 2 and i > 0)
    sub, _ = render.frame_runs(sc, (runs[i][0] + 1, runs[i + 5][0]))
    assert sub[0] == (runs[i][0] + 1, runs[i][1] - 1) and sub[1:-1] == runs[i + 1 : i + 5]
    assert sub[-1] == (runs[i + 5][0], 1)
    # the orbit camera moves during the video: more distinct frames, the rest at the end still repeats
    render.configure(sc, "preview", camera_mode="orbit", **TINY)
    orbit, note = render.frame_runs(sc)
    assert note == "" and len(runs) < len(orbit) < n


def test_anything_it_cannot_follow_makes_every_frame_distinct(bpy_env, render, article_plan):
    bpy = bpy_env
    sc = build(bpy, article_plan)
    render.configure(sc, "preview", **TINY)
    n = sc.frame_end - sc.frame_start + 1
    sc.render.use_motion_blur = True
    runs, note = render.frame_runs(sc)
    assert len(runs) == n and "motion blur" in note
    sc.render.use_motion_blur = False
    ob = next(o for o in sc.objects if o.get("nna_role") == "neuron")
    fc = ob.driver_add("location", 2)
    fc.driver.expression = "frame / 100"
    runs, note = render.frame_runs(sc)
    assert len(runs) == n and "drivers" in note
    ob.driver_remove("location", 2)
    handler = lambda *_: None  # noqa: E731
    bpy.app.handlers.frame_change_post.append(handler)
    try:
        runs, note = render.frame_runs(sc)
        assert len(runs) == n and "handlers" in note
    finally:
        bpy.app.handlers.frame_change_post.remove(handler)
    assert len(render.frame_runs(sc)[0]) < n


# --------------------------------------------------------------------------------------------
# the same video


def test_render_once_gives_the_same_video(bpy_env, render, article_plan, tmp_path):
    sc = build(bpy_env, article_plan)
    render.configure(sc, "preview", **TINY)
    frames = hold_range(render, sc)
    res = both_ways(bpy_env, render, sc, tmp_path, frames)
    n = frames[1] - frames[0] + 1
    assert res[False]["stats"] == {"frames": n, "rendered": n, "note": "render_once is off"}
    assert res[False]["rendered"] == n
    k = res[True]["stats"]["rendered"]
    assert res[True]["rendered"] == k < n - 5
    assert res["psnr"] > 40, res["psnr"]  # measured: identical decoded frames (inf)


def test_render_once_with_time_remapping_and_sound(bpy_env, render, article_plan, tmp_path):
    if not bpy_env.app.build_options.audaspace:
        pytest.skip(f"bpy {bpy_env.app.version_string} is built without Audaspace (no sound)")
    bpy = bpy_env
    sc = build(bpy, article_plan)
    render.configure(sc, "preview", fps=30, **TINY)  # the article is keyed at 24 fps
    render.set_soundtrack(sc, sine_wav(tmp_path / "a.wav", 20))
    frames = hold_range(render, sc, after=24)
    res = both_ways(bpy, render, sc, tmp_path, frames)
    assert res[True]["stats"]["rendered"] < frames[1] - frames[0] + 1
    assert res["psnr"] > 40, res["psnr"]
    outputs = mod("nncore.outputs")
    tracks = {t["kind"]: t["seconds"] for t in outputs.mp4_tracks(res[True]["path"])}
    full = {t["kind"]: t["seconds"] for t in outputs.mp4_tracks(res[False]["path"])}
    assert tracks.keys() == full.keys() == {"vide", "soun"}
    for kind in tracks:
        assert abs(tracks[kind] - full[kind]) <= 1 / 30 + 1e-6, (kind, tracks, full)
    assert strip_names(sc) == [render.SOUND_STRIP]


def test_render_once_on_an_instanced_network(bpy_env, render, small_plan, tmp_path):
    sc = build(bpy_env, small_plan, kind="instanced")
    render.configure(sc, "preview", **TINY)
    frames = hold_range(render, sc)
    res = both_ways(bpy_env, render, sc, tmp_path, frames)
    assert res[True]["stats"]["rendered"] < frames[1] - frames[0] + 1
    assert res["psnr"] > 40, res["psnr"]


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_render_once_failure_leaves_nothing(bpy_env, render, article_plan, tmp_path, exc_type):
    sc = build(bpy_env, article_plan)
    render.configure(sc, "preview", **TINY)
    (tmp_path / "keep.txt").write_text("x")
    before = (output_state(sc), sc.render.use_sequencer, sc.render.use_overwrite, sc.view_settings.view_transform)
    calls = []

    def fail(i, n, eta):
        calls.append((i, n))
        if i == 2:
            raise exc_type("stop")

    frames = hold_range(render, sc)
    with pytest.raises(exc_type):
        render.render_video(sc, tmp_path / "v.mp4", frames=frames, progress=fail)
    assert os.listdir(tmp_path) == ["keep.txt"]
    assert (
        output_state(sc),
        sc.render.use_sequencer,
        sc.render.use_overwrite,
        sc.view_settings.view_transform,
    ) == before
    assert strip_names(sc) == []
    assert [c[0] for c in calls] == [1, 2] and calls[0][1] < frames[1] - frames[0] + 1
