"""The exported .glb in Babylon.js 9.28 (pinned in package.json), in real headless Chromium: it loads
without errors with the file's camera, its animation targets the glow, and between an idle and a lit
time the output neuron's glow and the rendered picture get brighter, as README's viewer table
says. The harness is tests/web/gltf_babylon.js over Babylon's UMD builds from node_modules (make
setup runs npm ci); the page is opened from file://."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cdp
import pytest
from conftest import blender_binary
from test_gltf_three import exported, glow_times  # noqa: F401  (exported: the module fixture, an xor .glb)

ROOT = Path(__file__).resolve().parents[1]
BABYLON = ROOT / "node_modules" / "babylonjs" / "babylon.js"
LOADERS = ROOT / "node_modules" / "babylonjs-loaders" / "babylonjs.loaders.js"

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()),
        reason="runs in make test (the bpy module): the real Blender's chroot has no Chromium",
    ),
]


def test_babylon_plays_the_glow(exported, tmp_path):  # noqa: F811
    plan, glb = exported
    assert BABYLON.exists() and LOADERS.exists(), "run make setup (npm ci) for Babylon.js"
    (tmp_path / "glb.js").write_text(f"window.GLB = {json.dumps(base64.b64encode(glb.read_bytes()).decode())};\n")
    page = tmp_path / "index.html"
    page.write_text(
        '<!doctype html><meta charset="utf-8"><body style="margin:0">'
        '<canvas id="c" width="480" height="270"></canvas>'
        f'<script src="{BABYLON.as_uri()}"></script><script src="{LOADERS.as_uri()}"></script>'
        f'<script src="{(ROOT / "tests" / "web" / "gltf_babylon.js").as_uri()}"></script>'
        '<script src="glb.js"></script><script>nnaBabylon.load(window.GLB)</script>'
    )
    if not cdp.available():
        pytest.fail(f"no Chromium at {cdp.CHROMIUM}: run make setup")
    with cdp.Browser(480, 270, timeout=180) as browser:
        p = browser.open(page.as_uri())
        p.wait_for("window.nnaBabylon && (nnaBabylon.ready || nnaBabylon.error)", timeout=150)
        assert p.evaluate("nnaBabylon.error") is None
        animated = p.evaluate("nnaBabylon.animated")
        assert any("emissive" in a for a in animated), sorted(set(animated))[:10]
        names = p.evaluate("Object.keys(nnaBabylon.materials)")
        neuron = next(n for n in names if n.startswith("NNA Neuron 2_000"))  # the output neuron
        idle_t, lit_t = glow_times(plan)
        idle = p.evaluate(f"nnaBabylon.glowAt({idle_t}, {json.dumps(neuron)})")
        lit = p.evaluate(f"nnaBabylon.glowAt({lit_t}, {json.dumps(neuron)})")
        assert sum(lit) > sum(idle) + 0.2, (idle, lit)
        dark = p.evaluate(f"nnaBabylon.brightnessAt({idle_t})")
        bright = p.evaluate(f"nnaBabylon.brightnessAt({lit_t})")
        assert bright > dark * 1.02 + 0.05, (dark, bright)
