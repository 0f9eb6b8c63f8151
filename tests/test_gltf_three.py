"""The exported .glb in three.js 0.187 + @needle-tools/three-animation-pointer 1.0.7, in real headless
Chromium: every glow track binds (names without dots) and the glow changes between an idle and a
lit time, as README's viewer table says. The harness (tests/web/gltf_three.js) is bundled by
esbuild from node_modules (make setup runs npm ci)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import cdp
import pytest
from conftest import blender_binary, cli_command
from test_disk import _env

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()),
        reason="runs in make test (the bpy module): the real Blender's chroot has no Chromium",
    ),
]


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("three") / "harness.js"
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    assert esbuild.exists(), "run make setup (npm ci) for esbuild and three.js"
    proc = subprocess.run(
        [str(esbuild), str(ROOT / "tests" / "web" / "gltf_three.js"), "--bundle", "--format=iife",
         "--log-level=warning", f"--outfile={out}"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from nncore import plan as plan_io
    from nncore.presets import make_plan, settings_for

    d = tmp_path_factory.mktemp("glb")
    plan = make_plan(settings_for("xor", cycles=400, show=2, timing=_timing()))
    plan_io.save(plan, str(d / "xor.json"))
    proc = subprocess.run(
        cli_command("export", "--plan", str(d / "xor.json"), "--gltf", str(d / "xor.glb"), "--quiet"),
        capture_output=True, text=True, env=_env(), timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return plan, d / "xor.glb"


def glow_times(plan: dict) -> tuple[float, float]:
    """Seconds into the file's clip (frame 1 at 0 s) when the output neuron is idle (the end of
    'before training') and lit (the new situation's forward pass has reached it)."""
    fps = plan["timing"]["fps"]
    return (plan["states"]["before"]["frame_end"] - 1) / fps, plan["states"]["query"]["forward_frames"][-1] / fps


def _timing():
    from nncore.timeline import Timing

    return Timing(12, 0.5, 0.5, 0.25, 1.0)


def test_three_binds_every_glow_track_and_the_glow_plays(harness, exported, tmp_path):
    plan, glb = exported
    page = tmp_path / "index.html"
    data = base64.b64encode(glb.read_bytes()).decode()
    (tmp_path / "glb.js").write_text(f"window.GLB = {json.dumps(data)};\n")
    page.write_text(
        f'<!doctype html><meta charset="utf-8"><script src="{harness.as_uri()}"></script>'
        '<script src="glb.js"></script><script>nnaGltf.load(window.GLB)</script>'
    )
    if not cdp.available():
        pytest.fail(f"no Chromium at {cdp.CHROMIUM}: run make setup")
    with cdp.Browser(400, 300, timeout=120) as browser:
        p = browser.open(page.as_uri())
        p.wait_for("window.nnaGltf && (nnaGltf.ready || nnaGltf.error)", timeout=60)
        assert p.evaluate("nnaGltf.error") is None
        warnings = p.evaluate("nnaGltf.warnings")
        assert not [w for w in warnings if "No target node found" in w], warnings[:3]
        tracks = p.evaluate("nnaGltf.tracks")
        assert sum(".emissive" in t for t in tracks) >= 7 + 12  # every neuron's and synapse's glow
        names = p.evaluate("Object.keys(nnaGltf.materials)")
        neuron = next(n for n in names if n.startswith("NNA Neuron 2_000"))  # the output neuron
        idle_t, lit_t = glow_times(plan)
        idle = p.evaluate(f"nnaGltf.glowAt({idle_t}, {json.dumps(neuron)})")
        lit = p.evaluate(f"nnaGltf.glowAt({lit_t}, {json.dumps(neuron)})")
        assert sum(lit) > sum(idle) + 0.2, (idle, lit)
