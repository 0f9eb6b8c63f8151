"""Render benchmark (issue 4): seconds per frame at the preview and final presets for the article
network, and what that means for `make demo` (the whole article timeline at preview)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 5  # timed frames, after one warm-up frame (shader compilation)
DEMO_TIMING = dict(fps=12, forward_seconds=0.5, backward_seconds=0.5, hold_seconds=0.25, state_seconds=1.5)


def _child(quality: str) -> dict:
    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    from nn_animator.addon import render, scene
    from nn_animator.nncore.presets import make_plan, settings_for
    from nn_animator.nncore.timeline import Timing

    plan = make_plan(settings_for("article", timing=Timing(**DEMO_TIMING)))
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    scene.build_network(plan, sc)
    render.configure(sc, quality)
    step = plan["steps"][45]
    first = step["forward_frames"][0]
    with tempfile.TemporaryDirectory() as tmp:
        render.render_video(sc, os.path.join(tmp, "warm.mp4"), frames=(first, first))
        t = time.perf_counter()
        render.render_video(sc, os.path.join(tmp, "b.mp4"), frames=(first, first + FRAMES - 1))
        per_frame = (time.perf_counter() - t) / FRAMES
    return {
        "per_frame": per_frame,
        "demo_frames": plan["timing"]["frame_end"],
        "size": list(render.QUALITY[quality]["resolution"]),
    }


def main() -> None:
    print("== render (issue 4) ==")
    res = {}
    for q in ("preview", "final"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", q], capture_output=True, text=True, cwd=ROOT, check=True
        )
        res[q] = json.loads(out.stdout.strip().splitlines()[-1])
        w, h = res[q]["size"]
        print(f"{q} {w}x{h}: {res[q]['per_frame']:.2f} s per frame")
    n = res["preview"]["demo_frames"]
    est = n * res["preview"]["per_frame"]
    print(
        f"make demo video: {n:,} frames at preview ~ {est / 60:.1f} min of rendering "
        f"(plus ~1 min for training, build, stills and glTF); target < 15 min: {'PASS' if est + 60 < 900 else 'MISS'}"
    )
    print(f"final / preview time per frame: {res['final']['per_frame'] / res['preview']['per_frame']:.1f}x")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2])))
    else:
        main()
