"""The saved .blend is self-contained: it renders the same pixels without the add-on, and a render
farm rendering parts of the frame range gets the same frames as one full render."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import ADDON_MODULE, fresh_bpy_command

pytestmark = pytest.mark.blender

ROOT = Path(__file__).resolve().parents[1]

# Render frames first..last of a .blend to PNGs, in a bpy process that has NOT got the add-on
RENDER = r"""
import sys, bpy
path, out, first, last = sys.argv[-4], sys.argv[-3], int(sys.argv[-2]), int(sys.argv[-1])
bpy.ops.wm.open_mainfile(filepath=path)
assert not hasattr(bpy.types.Scene, "nna"), "the add-on must not be loaded here"
assert not any(m.startswith("bl_ext.") and "nn_animator" in m for m in sys.modules)
sc = bpy.context.scene
sc.frame_start, sc.frame_end = first, last
sc.render.image_settings.file_format = "PNG"
sc.render.filepath = out + "/f####"
bpy.ops.render.render(animation=True)
print("rendered", first, last)
"""


def _render(blend: Path, out: Path, first: int, last: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["BLENDER_USER_RESOURCES"] = str(out) + "-user"  # a fresh, empty config: no extensions at all
    proc = subprocess.run(
        fresh_bpy_command(RENDER, str(blend), str(out), str(first), str(last)),
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def _pixels(path: Path):
    import bpy
    import numpy as np

    img = bpy.data.images.load(str(path))
    px = np.empty(img.size[0] * img.size[1] * 4, dtype=np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    return px


def test_blend_renders_without_the_addon_and_in_parts(bpy_env, article_plan, tmp_path):
    from importlib import import_module

    import numpy as np

    bpy = bpy_env
    scene_mod = import_module(f"{ADDON_MODULE}.addon.scene")
    compat = import_module(f"{ADDON_MODULE}.addon.compat")
    scene_mod.build_network(article_plan, bpy.context.scene)
    sc = bpy.context.scene
    sc.render.engine = compat.EEVEE
    sc.eevee.taa_render_samples = 1
    sc.render.resolution_x = sc.render.resolution_y = 64
    sc.render.resolution_percentage = 100
    step = article_plan["steps"][20]
    a = (step["forward_frames"][0] + step["forward_frames"][1]) // 2  # a pulse on its way
    blend = tmp_path / "net.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), copy=True)

    # with the add-on: render frames a and a + 1 here
    mine = tmp_path / "mine"
    mine.mkdir()
    e = step["frame_end"]  # the hold: every neuron lit
    for f in (a, a + 1, e):
        sc.frame_set(f)
        sc.render.filepath = str(mine / f"f{f:04d}.png")
        sc.render.image_settings.file_format = "PNG"
        bpy.ops.render.render(write_still=True)

    # without it: one process renders a..a+1, two "farm" processes render one frame each
    full, farm = tmp_path / "full", tmp_path / "farm"
    full.mkdir(), farm.mkdir()
    _render(blend, full, a, a + 1)
    _render(blend, farm, a, a)
    _render(blend, farm, a + 1, a + 1)
    for f in (a, a + 1):
        ref = _pixels(mine / f"f{f:04d}.png")
        assert ref.max() > 0.5  # something glows
        np.testing.assert_allclose(_pixels(full / f"f{f:04d}.png"), ref, atol=2 / 255)
        np.testing.assert_allclose(_pixels(farm / f"f{f:04d}.png"), ref, atol=2 / 255)
    # and the picture changes over the step: the animation really moves
    assert np.abs(_pixels(mine / f"f{a:04d}.png") - _pixels(mine / f"f{e:04d}.png")).max() > 0.2
