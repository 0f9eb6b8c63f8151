"""Camera moves: front, three-quarter, orbit. Smooth, at rest for the stills, the HUD fixed on screen,
everything inside the frame at every shape (bpy module)."""

from __future__ import annotations

import math
from importlib import import_module

import numpy as np
import pytest
from conftest import ADDON_MODULE


def mod(name: str):
    return import_module(f"{ADDON_MODULE}.addon.{name}")


@pytest.fixture
def net(bpy_env):
    from nncore.presets import make_plan, settings_for

    sc = bpy_env.context.scene
    mod("scene").build_network(make_plan(settings_for("article", cycles=2000, show=4)), sc)
    return sc


def _screen(sc, ob, frame):
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    sc.frame_set(frame)
    dg = sc.view_layers[0].depsgraph
    ev = ob.evaluated_get(dg)
    return np.array([tuple(world_to_camera_view(sc, sc.camera, ev.matrix_world @ Vector(c))) for c in ev.bound_box])


def _inside(sc, frames) -> float:
    worst = 1.0
    for f in frames:
        for ob in sc.objects:
            if ob.type in ("MESH", "CURVE"):
                p = _screen(sc, ob, f)
                worst = min(worst, p[:, 0].min(), p[:, 1].min(), 1 - p[:, 0].max(), 1 - p[:, 1].max())
    return worst


@pytest.mark.parametrize("which", ["three-quarter", "orbit"])
@pytest.mark.parametrize("shape", ["16:9", "9:16"])
def test_everything_stays_in_the_frame(net, which, shape):
    mod("render").configure(net, "preview", shape=shape, camera_mode=which)
    frames = np.linspace(net.frame_start, net.frame_end, 9).astype(int).tolist()
    assert _inside(net, frames) > 0.0, (which, shape)


def test_orbit_is_smooth_and_rests_for_the_stills(net):
    render = mod("render")
    render.configure(net, "preview", camera_mode="orbit")
    rig = net.camera.parent
    assert rig is not None and rig.name.startswith("NNA Camera rig")
    pg = net.nna
    frames = range(net.frame_start, net.frame_end + 1)
    yaw = []
    for f in frames:
        net.frame_set(f)
        yaw.append(rig.matrix_world.to_euler().z % (2 * math.pi))
    yaw = np.unwrap(np.array(yaw))
    step = np.diff(yaw)
    assert step.min() >= -1e-6  # turns one way only
    assert step.max() < 4 * (2 * math.pi) / (pg.after_start - pg.still_before)  # no jump: at most 4x the mean
    assert yaw[-1] - yaw[0] == pytest.approx(2 * math.pi, abs=1e-4)  # once around
    i0, i1 = pg.still_before - net.frame_start, pg.after_start - net.frame_start
    assert step[i0] < 0.05 * step.max() and step[i1 - 1] < 0.05 * step.max()  # eased start and stop
    for still in (pg.still_before, pg.still_after, pg.still_new_situation):  # at rest, front-on
        assert math.cos(yaw[still - net.frame_start] - yaw[0]) == pytest.approx(1.0, abs=1e-6)


def test_the_hud_stays_fixed_on_screen(net):
    mod("render").configure(net, "preview", camera_mode="front")
    hud = next(o for o in net.objects if o.get("nna_role") == "hud")
    f = net.nna.still_before
    front = _screen(net, hud, f)
    mod("render").configure(net, "preview", camera_mode="orbit")
    rest = _screen(net, hud, f)  # (the orbit's framing fits every angle: further back than the front's)
    assert rest[:, :2].min() > 0.0 and rest[:, :2].max() < 1.0  # on screen
    quarter = net.nna.still_before + (net.nna.after_start - net.nna.still_before) // 4
    mid = (net.nna.still_before + net.nna.after_start) // 2
    for frame in (quarter, mid, net.nna.still_after):  # while the camera turns, the HUD does not move:
        p = _screen(net, hud, frame)  # its text changes, so compare where it starts (left, top)
        assert abs(p[:, 0].min() - rest[:, 0].min()) < 1e-3 and abs(p[:, 1].max() - rest[:, 1].max()) < 1e-3, frame
    # back to front: the camera and HUD as the build made them
    mod("render").configure(net, "preview", camera_mode="front")
    assert net.camera.parent is None and hud.parent is None
    assert np.abs(_screen(net, hud, f)[:, :2] - front[:, :2]).max() < 1e-4
    assert not [o for o in net.objects if o.name.startswith("NNA Camera rig")]


def test_bad_camera_is_one_line(net):
    errors = import_module(f"{ADDON_MODULE}.nncore.errors")
    with pytest.raises(errors.NNCoreError, match="not one of front, three-quarter, orbit"):
        mod("render").configure(net, "preview", camera_mode="sideways")
