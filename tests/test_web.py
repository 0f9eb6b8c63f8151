"""The web page (addon/web.py, web/): the folder it writes, and the page in a real headless Chromium.

The page is opened from file:// (no server) and driven over the DevTools protocol (tests/cdp.py).
Pixels come from real screenshots of small rectangles around points the page's own camera
projects (``nna.project``). Chromium comes from ``make setup`` (tools/setup_chromium.sh); without it
these tests fail, they are not skipped. No bpy here except in the command-line test.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import types
from bisect import bisect_right
from pathlib import Path

import numpy as np
import pytest

from nncore.presets import make_plan, settings_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cdp  # noqa: E402
from conftest import ADDON_MODULE  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def load_web():
    """addon/web.py without addon/__init__.py (which imports bpy): as part of a bare package."""
    name = "nna_web_test"
    if f"{name}.addon.web" not in sys.modules:
        for pkg, path in ((name, ROOT), (f"{name}.addon", ROOT / "addon")):
            mod = types.ModuleType(pkg)
            mod.__path__ = [str(path)]
            sys.modules[pkg] = mod
    return importlib.import_module(f"{name}.addon.web")


web = load_web()
NNCoreError = importlib.import_module("nna_web_test.nncore.errors").NNCoreError


# --- plans and the reference evaluation of docs/plan-format.md ------------------------------------


@pytest.fixture(scope="module")
def plan():
    """XOR 2-4-1 with biases, 4 shown cycles: positive and negative weights, every phase."""
    return make_plan(settings_for("xor", cycles=120, show=4))


def at(track: dict, f: float):
    """A keyframe track's value(s) at frame f, as docs/plan-format.md defines them."""
    frames, interp, values = track["frames"], track["interpolation"], track["values"]
    i = bisect_right(frames, f) - 1
    if i < 0:
        return np.asarray(values[0], dtype=np.float64)
    if i == len(frames) - 1 or interp[i] == "CONSTANT":
        return np.asarray(values[i], dtype=np.float64)
    a = (f - frames[i]) / (frames[i + 1] - frames[i])
    v0, v1 = np.asarray(values[i], dtype=np.float64), np.asarray(values[i + 1], dtype=np.float64)
    return v0 + (v1 - v0) * a


def text_entry(plan: dict, f: float) -> int:
    return max(0, bisect_right(plan["tracks"]["text"]["frames"], f) - 1)


def expected_hud(plan: dict, f: float) -> str:
    """The HUD's three lines, written from the plan's text table (the format of Blender's HUD)."""
    t, e = plan["tracks"]["text"], text_entry(plan, f)
    total = f"{plan['training']['cycles']:,}"

    def nums(vals, fmt):
        return "".join(" " + fmt(v) for v in vals)

    def compact(v):
        return f"{v:.0f}" if abs(v - round(v)) <= 0.0005 else f"{v:.2f}"

    def two(v):
        return f"{v:.2f}"

    inputs = "inputs" + nums(t["inputs"][e], compact)
    output = "   output" + nums(t["output"][e], two)
    mean = f"mean error {t['mean_error'][e] * 100:.2f}%"
    phase = t["phase"][e]
    if phase == 0:
        lines = ["before training", "", ""]
    elif phase == 1:
        title = (
            f"cycle {t['cycle'][e]:,} of {total} \u00b7 example {t['example'][e] + 1} of {plan['training']['examples']}"
        )
        lines = [
            title,
            inputs + "   target" + nums(t["target"][e], compact) + output,
            f"error {t['error'][e]:.2f}   {mean}",
        ]
    elif phase == 2:
        lines = [f"after training ({total} cycles)", "", mean]
    else:
        lines = ["new situation", inputs + output, ""]
    return "\n".join(lines)


def lit_frame(plan: dict, step: int = -1) -> tuple[int, int]:
    """(frame, neuron) with the most active hidden/output neuron, at the end of a step's forward pass."""
    s = plan["steps"][step]
    f = s["backward_frames"][-1]
    act = at(plan["tracks"]["neuron_activity"], f)
    n0 = plan["network"]["layers"][0]
    g = n0 + int(np.argmax(np.abs(act[n0:])))
    return f, g


# --- the folder -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("web") / "page"
    paths = web.write_web(plan, str(out))
    assert [os.path.basename(p) for p in paths] == list(web.FILES)
    return out


def test_folder_holds_the_page_the_viewer_its_licence_and_the_data(folder):
    names = sorted(os.listdir(folder))
    assert names == sorted(web.FILES)  # nothing else: no temporary files left
    page = (folder / "index.html").read_text()
    # classic scripts only (file:// blocks module scripts and fetch())
    assert '<script src="network.js"></script>' in page and '<script src="viewer.js"></script>' in page
    assert 'type="module"' not in page and "fetch(" not in page
    assert "{{title}}" not in page and "xor 2-4-1" in page
    assert (folder / "viewer.js").read_bytes() == (ROOT / "web/vendor/viewer.js").read_bytes()
    assert "MIT License" in (folder / "LICENSE-three.txt").read_text()
    data = (folder / "network.js").read_text()
    assert data.isascii() and "\nwindow.NNA_DATA={" in data


def test_the_vendored_bundle_is_built_from_web_src(tmp_path):
    """web/vendor/viewer.js is what `make web-bundle` makes of web/src (esbuild is deterministic)."""
    if not (ROOT / "node_modules/.bin/esbuild").exists() or not shutil.which("node"):
        pytest.fail("esbuild is missing: run make setup (npm ci)")
    out = tmp_path / "viewer.js"
    subprocess.run(["bash", str(ROOT / "tools/web_bundle.sh"), str(out)], check=True, cwd=ROOT)
    assert out.read_bytes() == (ROOT / "web/vendor/viewer.js").read_bytes(), "run: make web-bundle"
    head = out.read_text()[:300]
    assert head.startswith("/* Neural Network Animator web viewer") and "three.js 0.187.0 (MIT" in head
    assert "import " not in head and "export " not in out.read_text()[-200:]  # one classic script


def decoded(track: dict, blobs: list[str]) -> np.ndarray:
    """A packed K x N track of NNA_DATA back as K x N numbers."""
    dtype = {"f4": "<f4", "f2": "<f2"}[track["dtype"]]
    rows = np.frombuffer(base64.b64decode(blobs[track["rows"]]), dtype=dtype).reshape(-1, track["width"])
    rows = rows.astype(np.float64)[track["index"]]
    return rows


def test_data_holds_the_plans_tracks(plan):
    data, _ = web.web_data(plan)
    blobs = data["blobs"]
    tr = plan["tracks"]
    act = decoded(data["activity"], blobs)
    assert np.allclose(act, np.asarray(tr["neuron_activity"]["values"]), atol=1e-6)
    assert data["activity"]["interp"] == "".join(i[0] for i in tr["neuron_activity"]["interpolation"])
    for g, G in zip(tr["synapse_layers"], data["synapses"]):
        n_src, n_dst = G["nSrc"], G["nDst"]
        for name in ("weight", "signal", "error"):
            rows = decoded(G[name], blobs)
            if G[name]["gather"] == "source":
                rows = rows[:, np.arange(n_src * n_dst) % n_src]
            elif G[name]["gather"] == "target":
                rows = rows[:, np.arange(n_src * n_dst) // n_src]
            assert np.allclose(rows, np.asarray(g[name]["values"]), rtol=1e-6, atol=1e-6), name
            assert G[name]["frames"] == g[name]["frames"]
        assert G["signal"]["width"] == min(n_src, n_dst if G["signal"]["gather"] == "target" else n_src)
        assert G["error"]["width"] == min(n_dst, n_src if G["error"]["gather"] == "source" else n_dst)
        assert G["forward"]["values"] == g["forward"]["values"]
    # positions are addon/look.py's, the first picture is the 'after' state, the HUD as documented
    look = importlib.import_module("nna_web_test.addon.look")
    pos = np.concatenate(look.layer_positions(plan["network"]["layers"]))
    assert np.allclose(np.reshape(data["positions"], (-1, 3)), pos, atol=1e-5)
    assert data["states"]["after"] == [plan["states"]["after"]["frame_start"], plan["states"]["after"]["frame_end"]]
    for e, f in enumerate(tr["text"]["frames"]):
        assert "\n".join(data["text"]["lines"][e]) == expected_hud(plan, f)


def test_the_view_comes_from_the_look(plan, monkeypatch):
    """The page's camera angles are look.py's (view_angles, else front_tilt): what Blender's camera
    gets (camera.py), not numbers of its own."""
    look = importlib.import_module("nna_web_test.addon.look")
    for layers in ([64, 16, 10], [784, 64, 10]):
        angles = look.view_angles(layers)
        assert angles is not None
        expected = [list(v) for v in look.view_basis(*angles)]
        assert np.allclose(web._view(layers), expected)
    view = web.web_data(plan)[0]["view"]
    tilt = look.front_tilt(2 * look.NEURON_RADIUS)  # a row layout: as deep as a neuron
    assert np.allclose([view["right"], view["up"], view["forward"]], look.view_basis(tilt, 0.0))
    monkeypatch.setattr(look, "FRONT_TILT", 15.0)
    view = web.web_data(plan)[0]["view"]
    assert np.allclose(view["forward"], look.view_basis(math.radians(15.0), 0.0)[2])


def test_a_big_layer_draws_what_blender_draws(tmp_path):
    """look.py's legibility rule on the page: a layer of more than look.MAX_DRAWN synapses draws only
    look.drawn_synapses, and every big layer carries look.fade_params (radius and fade relative to
    its largest |w|); a dense layer carries none of it."""
    look = importlib.import_module("nna_web_test.addon.look")
    rng = np.random.default_rng(5)
    rows = np.hstack([rng.uniform(0, 1, (6, 100)), rng.integers(0, 2, (6, 1))])
    csv = tmp_path / "wide.csv"
    csv.write_text("\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n")
    plan = make_plan(settings_for("csv", csv=str(csv), layers=(100, 30, 1), cycles=3, show=2))
    data, _ = web.web_data(plan)
    big, small = data["synapses"]
    g = plan["tracks"]["synapse_layers"][0]
    weights = np.asarray(g["weight"]["values"])
    assert big["drawn"] == look.drawn_synapses(weights, np.asarray(g["target"]), 30).tolist()
    assert len(big["drawn"]) == look.drawn_count(100, 30) < 3000
    assert (big["dim"], big["invPeak"]) == pytest.approx(look.fade_params(weights, 3000))
    assert big["invPeak"] > 0 and "drawn" not in small and "dim" not in small  # 30 synapses: dense


@pytest.mark.blender
def test_the_view_is_blenders_camera(bpy_env, plan):
    """The page looks the way the built scene's camera looks (its -z axis) with the same up (+y)."""
    import mathutils

    build = importlib.import_module(f"{ADDON_MODULE}.addon.scene")
    build.build_network(plan, bpy_env.context.scene)
    cam = bpy_env.context.scene.camera
    rot = cam.matrix_world.to_3x3()
    view = web.web_data(plan)[0]["view"]
    assert np.allclose(view["forward"], rot @ mathutils.Vector((0, 0, -1)), atol=1e-6)
    assert np.allclose(view["up"], rot @ mathutils.Vector((0, 1, 0)), atol=1e-6)


def test_bad_folders_are_one_line_and_leave_nothing(plan, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for bad, says in (
        (a_file, "is not a folder"),
        (tmp_path / "missing" / "page", "does not exist"),
        (a_file / "page", "is not a folder"),
    ):
        with pytest.raises(NNCoreError, match=says) as exc:
            web.write_web(plan, str(bad))
        assert "\n" not in str(exc.value)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "network.js").mkdir()  # a folder where a file goes
    with pytest.raises(NNCoreError, match="not a regular file"):
        web.write_web(plan, str(tmp_path / "dir"))
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"]


def test_a_failed_write_changes_nothing(plan, tmp_path, monkeypatch):
    real = shutil.copyfile

    def fail_on_licence(src, dst, *a, **k):
        if src.endswith("LICENSE-three.txt"):
            raise OSError(28, "No space left on device")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(web.shutil, "copyfile", fail_on_licence)
    new = tmp_path / "new"
    with pytest.raises(NNCoreError, match="No space left"):
        web.write_web(plan, str(new))
    assert not new.exists()  # the folder it created is gone again
    old = tmp_path / "old"
    old.mkdir()
    (old / "index.html").write_text("old page")
    (old / "notes.txt").write_text("mine")
    with pytest.raises(NNCoreError):
        web.write_web(plan, str(old))
    assert sorted(os.listdir(old)) == ["index.html", "notes.txt"]
    assert (old / "index.html").read_text() == "old page"
    monkeypatch.setattr(web.shutil, "copyfile", real)
    web.write_web(plan, str(old))  # and an existing folder is written into, its other files kept
    assert sorted(os.listdir(old)) == sorted([*web.FILES, "notes.txt"])


def test_invalid_plan_is_one_line(plan, tmp_path):
    broken = json.loads(json.dumps(plan))
    del broken["tracks"]
    with pytest.raises(NNCoreError, match="tracks"):
        web.write_web(broken, str(tmp_path / "page"))
    assert not (tmp_path / "page").exists()


# --- the page in Chromium -------------------------------------------------------------------------

WIDTH, HEIGHT = 800, 600


@pytest.fixture(scope="module")
def page(folder):
    if not cdp.available():
        pytest.fail(f"no Chromium at {cdp.CHROMIUM}: run make setup (tools/setup_chromium.sh)")
    browser = cdp.Browser(WIDTH, HEIGHT, timeout=120)
    try:
        p = browser.open((folder / "index.html").as_uri())
        p.wait_for("window.nna && (nna.ready || nna.error)", timeout=120)
        yield p
    finally:
        browser.close()


def problems(page) -> list[dict]:
    return [m for m in page.messages() if m["level"] in ("error", "exception", "warning")]


def brightness(pixels) -> float:
    return max(sum(p) / 3 for p in pixels)


def test_page_loads_from_file_without_console_errors(page, plan):
    assert page.evaluate("nna.error") is None
    assert page.evaluate("nna.ready") is True
    assert problems(page) == []
    # the first picture is the trained network, idle (the 'after' state)
    assert page.evaluate("nna.frame") == plan["states"]["after"]["frame_end"]
    assert page.evaluate("nna.hudText()") == expected_hud(plan, plan["states"]["after"]["frame_end"])
    info = page.evaluate("nna.info")
    assert info["layers"] == plan["network"]["layers"] and info["synapses"] == 12


def test_page_loads_over_a_static_web_server(page, folder, plan):
    """The same folder served over HTTP (on 127.0.0.1 only) works as well."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        served = page.browser.open(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        served.wait_for("window.nna && (nna.ready || nna.error)", timeout=120)
        assert served.evaluate("nna.error") is None
        served.evaluate(f"nna.seek({plan['steps'][0]['frame_start']})")
        assert served.evaluate("nna.hudText()") == expected_hud(plan, plan["steps"][0]["frame_start"])
        assert problems(served) == []
        served.send("Page.close")
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_evaluates_the_tracks_as_the_plan_format_says(page, plan):
    tr = plan["tracks"]
    s = plan["steps"][1]
    frames = [
        1,
        s["frame_start"],
        (s["forward_frames"][0] + s["forward_frames"][1]) / 2,  # a forward pulse under way
        s["backward_frames"][0] + 0.5,  # weights of the top layer moving (LINEAR)
        s["backward_frames"][1] + 1.25,
        s["frame_end"],
        plan["states"]["query"]["frame_start"] + 1.5,
        plan["timing"]["frame_end"],
    ]
    for f in frames:
        got = page.evaluate(f"nna.values({f})")
        assert np.allclose(got["activity"], at(tr["neuron_activity"], f), atol=1e-5), f
        for k, g in enumerate(tr["synapse_layers"]):
            assert np.allclose(got["weight"][k], at(g["weight"], f), rtol=1e-5, atol=1e-5), (f, k)
            assert got["forward"][k] == pytest.approx(float(at(g["forward"], f)), abs=1e-9)
            assert got["backward"][k] == pytest.approx(float(at(g["backward"], f)), abs=1e-9)


def test_a_neuron_is_brighter_when_the_plan_says_it_glows(page, plan):
    f_lit, g = lit_frame(plan)
    act = at(plan["tracks"]["neuron_activity"], f_lit)[g]
    assert abs(act) > 0.5
    idle = plan["states"]["after"]["frame_end"]
    assert at(plan["tracks"]["neuron_activity"], idle)[g] == 0
    shots = {}
    for name, f in (("idle", idle), ("lit", f_lit)):
        page.evaluate(f"nna.seek({f})")
        x, y = page.evaluate(f"nna.project({g})")
        assert 0 < x < WIDTH and 0 < y < HEIGHT
        shots[name] = brightness(page.pixels(x, y, 3))
    assert shots["lit"] > shots["idle"] + 80, shots
    assert shots["lit"] > 200  # glowing yellow-white, as Blender's emission 3 x activity


def _segments(page, plan) -> list[tuple]:
    """Every synapse as a screen segment: (layer, index, start, end)."""
    out = []
    layers = plan["network"]["layers"]
    for k in range(len(layers) - 1):
        for p in range(layers[k] * layers[k + 1]):
            a = page.evaluate(f"nna.projectSynapse({k}, {p}, 0)")
            b = page.evaluate(f"nna.projectSynapse({k}, {p}, 1)")
            out.append((k, p, np.array(a), np.array(b)))
    return out


def _distance(pt, a, b) -> float:
    d = b - a
    t = np.clip(np.dot(pt - a, d) / max(np.dot(d, d), 1e-9), 0, 1)
    return float(np.linalg.norm(pt - (a + t * d)))


def test_synapses_are_green_where_the_weight_is_positive_and_red_where_negative(page, plan):
    for f in (plan["states"]["after"]["frame_end"], plan["states"]["before"]["frame_end"]):
        page.evaluate(f"nna.seek({f})")
        segs = _segments(page, plan)
        neurons = [np.array(page.evaluate(f"nna.project({g})")) for g in range(plan["neurons"]["count"])]
        checked = 0
        for k, p, a, b in segs:
            w = float(at(plan["tracks"]["synapse_layers"][k]["weight"], f)[p])
            # a point on this synapse far from every other synapse and neuron
            for t in np.linspace(0.2, 0.8, 13):
                pt = a + t * (b - a)
                others = min(_distance(pt, a2, b2) for k2, p2, a2, b2 in segs if (k2, p2) != (k, p))
                if others > 14 and min(np.linalg.norm(pt - n) for n in neurons) > 30:
                    break
            else:
                continue
            px = page.pixels(*pt, 2)
            green = max(q[1] - q[0] for q in px)
            red = max(q[0] - q[1] for q in px)
            if w > 0:
                assert green > 60 and red < 20, (f, k, p, w, px)
            else:
                assert red > 60 and green < 20, (f, k, p, w, px)
            checked += 1
        assert checked >= 8, checked  # most of the 12 synapses have a clear point


def test_the_pulses_travel_along_the_synapses(page, plan):
    """Halfway through a forward segment the yellow pulse is halfway along the synapses that carry a
    signal (and not there once it has passed); the blue error pulse runs back down the same way."""
    s = plan["steps"][-1]
    groups = plan["tracks"]["synapse_layers"]

    def shot(k, p, t, f):
        page.evaluate(f"nna.seek({f})")
        return page.pixels(*page.evaluate(f"nna.projectSynapse({k}, {p}, {t})"), 1)

    f = (s["forward_frames"][0] + s["forward_frames"][1]) / 2
    signal = at(groups[0]["signal"], f)
    p = int(np.argmax(signal))
    pos = float(at(groups[0]["forward"], f))
    assert signal[p] > 0.5 and 0 < pos < 1
    lit, passed = shot(0, p, pos, f), shot(0, p, pos, s["frame_end"])
    assert brightness(lit) > brightness(passed) + 80, (lit, passed)
    # yellow-white (SIGNAL x 3 clips to white-yellow, as in Blender's Standard view): blue lowest
    best = max(lit, key=sum)
    assert best[0] > 200 and best[1] > 200 and best[2] < min(best[0], best[1]) - 10, best

    k = len(groups) - 1  # the top synapse layer, first on the way back
    f = (s["backward_frames"][0] + s["backward_frames"][1]) / 2
    err = at(groups[k]["error"], f)
    p = int(np.argmax(err))
    back = float(at(groups[k]["backward"], f))
    assert err[p] > 0.3 and 0 < back < 1
    lit, passed = shot(k, p, 1 - back, f), shot(k, p, 1 - back, s["frame_end"])
    assert max(q[2] - q[0] for q in lit) > 60, lit
    assert max(q[2] for q in lit) > max(q[2] for q in passed) + 60, (lit, passed)


def test_the_hud_shows_the_plans_text(page, plan):
    st = plan["states"]
    frames = [1, st["before"]["frame_end"], st["after"]["frame_start"], st["query"]["frame_end"]]
    frames += [s["frame_start"] for s in plan["steps"][::3]] + [plan["steps"][2]["backward_frames"][1] + 0.5]
    for f in frames:
        page.evaluate(f"nna.seek({f})")
        assert page.evaluate("nna.hudText()") == expected_hud(plan, f), f
        # what the page shows is the HUD's DOM text
        shown = page.evaluate("['hud1','hud2','hud3'].map(i => document.getElementById(i).innerText).join('\\n')")
        assert shown == expected_hud(plan, f)


def _click(page, x: float, y: float) -> None:
    for kind in ("mousePressed", "mouseReleased"):
        page.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})


def test_the_scrub_bar_moves_the_animation(page, plan):
    page.evaluate(f"nna.seek({plan['states']['after']['frame_end']})")
    r = page.evaluate("(b => [b.x, b.y, b.width, b.height])(document.getElementById('scrub').getBoundingClientRect())")
    lo, hi = plan["timing"]["frame_start"], plan["timing"]["frame_end"]
    step = plan["steps"][len(plan["steps"]) // 2]
    target = (step["forward_frames"][0] + step["backward_frames"][-1]) / 2
    x = r[0] + 8 + (r[2] - 16) * (target - lo) / (hi - lo)  # the thumb's centre travels inside 8 px margins
    _click(page, x, r[1] + r[3] / 2)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    f = page.evaluate("nna.frame")
    assert abs(f - target) <= max(3, 0.01 * (hi - lo)), (f, target)
    assert page.evaluate("nna.hudText()") == expected_hud(plan, f)
    assert page.evaluate("nna.scrubLabel()") == f"cycle {plan['tracks']['text']['cycle'][text_entry(plan, f)]:,} of 120"
    # and the picture follows: the neurons lit at that frame glow
    act = at(plan["tracks"]["neuron_activity"], f)
    g = int(np.argmax(np.abs(act)))
    if abs(act[g]) > 0.5:
        page.evaluate("new Promise(r => setTimeout(r, 300))")  # the sharp still after the motion
        assert brightness(page.pixels(*page.evaluate(f"nna.project({g})"), 3)) > 200


def test_play_pause_and_the_bookmarks(page, plan):
    st = plan["states"]
    _click_button(page, "go-before")
    assert page.evaluate("nna.frame") == st["before"]["frame_end"]
    assert page.evaluate("nna.hudText()").startswith("before training")
    _click_button(page, "play")
    page.evaluate("new Promise(r => setTimeout(r, 1200))")
    assert page.evaluate("nna.playing") is True
    f = page.evaluate("nna.frame")
    assert f > st["before"]["frame_end"] + 2
    _click_button(page, "play")  # pause
    assert page.evaluate("nna.playing") is False
    _click_button(page, "go-query")
    assert page.evaluate("nna.frame") == st["query"]["frame_end"]
    assert page.evaluate("nna.hudText()").startswith("new situation")
    _click_button(page, "go-after")
    assert page.evaluate("nna.frame") == st["after"]["frame_end"]
    assert problems(page) == []


def _click_button(page, element_id: str) -> None:
    box = f"document.getElementById('{element_id}').getBoundingClientRect()"
    x, y = page.evaluate(f"(b => [b.x + b.width / 2, b.y + b.height / 2])({box})")
    _click(page, x, y)
    page.evaluate("new Promise(r => requestAnimationFrame(r))")


def test_orbit_and_reset_camera(page, plan):
    g = 0  # an input neuron, off the axis the view turns about
    before = page.evaluate(f"nna.project({g})")
    page.send(
        "Input.dispatchMouseEvent", {"type": "mousePressed", "x": 400, "y": 300, "button": "left", "clickCount": 1}
    )
    for i in range(1, 6):
        page.send(
            "Input.dispatchMouseEvent",
            {"type": "mouseMoved", "x": 400 + 30 * i, "y": 300, "button": "left", "buttons": 1},
        )
    page.send(
        "Input.dispatchMouseEvent", {"type": "mouseReleased", "x": 550, "y": 300, "button": "left", "clickCount": 1}
    )
    moved = page.evaluate(f"nna.project({g})")
    assert np.linalg.norm(np.subtract(moved, before)) > 5  # the view turned
    _click_button(page, "reset")
    assert np.allclose(page.evaluate(f"nna.project({g})"), before, atol=0.5)


# --- the command line -----------------------------------------------------------------------------


def test_command_line_export_web(plan, tmp_path):
    from conftest import cli_command
    from test_disk import _env

    plan_path = tmp_path / "xor.plan.json"
    plan_path.write_text(json.dumps(plan))
    out = tmp_path / "site"
    res = subprocess.run(
        cli_command("export", "--plan", str(plan_path), "--web", str(out), "--quiet"),
        capture_output=True,
        text=True,
        env=_env(),  # the package importable in any bpy venv (tools/test_matrix.py)
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(out)) == sorted(web.FILES)
    res = subprocess.run(
        cli_command("export", "--plan", str(plan_path), "--web", str(tmp_path / "no" / "site")),
        capture_output=True,
        text=True,
        env=_env(),  # the package importable in any bpy venv (tools/test_matrix.py)
        timeout=600,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1].startswith("nn_animator: error: --web: folder")
    assert not (tmp_path / "no").exists()


def test_command_line_web_for_a_network_blender_instances(tmp_path):
    """The page is written from the plan alone: Blender's interactive size limit does not apply."""
    from conftest import cli_command
    from test_disk import _env

    rng = np.random.default_rng(3)
    rows = np.hstack([rng.uniform(0, 1, (6, 100)), rng.integers(0, 2, (6, 1))])
    csv = tmp_path / "wide.csv"
    csv.write_text("\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n")
    plan = make_plan(settings_for("csv", csv=str(csv), layers=(100, 130, 1), cycles=3, show=2))  # 13,130 synapses
    plan_path = tmp_path / "wide.plan.json"
    plan_path.write_text(json.dumps(plan))
    out = tmp_path / "site"
    res = subprocess.run(
        cli_command("export", "--plan", str(plan_path), "--web", str(out), "--quiet"),
        capture_output=True,
        text=True,
        env=_env(),  # the package importable in any bpy venv (tools/test_matrix.py)
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(out)) == sorted(web.FILES)
    # with a glTF too, the refusal comes before anything is written
    res = subprocess.run(
        cli_command(
            "export", "--plan", str(plan_path), "--web", str(tmp_path / "b"), "--gltf", str(tmp_path / "b.glb")
        ),
        capture_output=True,
        text=True,
        env=_env(),  # the package importable in any bpy venv (tools/test_matrix.py)
        timeout=600,
    )
    # (this network is instanced in Blender, and an instanced network has no animated glTF)
    assert res.returncode == 2 and "instanced" in res.stderr and "--web" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.glb").exists()
