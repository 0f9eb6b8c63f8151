"""Render benchmark: seconds per frame at the preview and final presets for the article network,
side by side with glibc's default allocator (NNA_KEEP_FREED_MEMORY=0, the old path) and with freed
memory kept in the process (render.keep_freed_memory, the default), and what that means for
`make demo` (the whole article timeline at preview) and the final-quality video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 12  # timed frames, after one warm-up frame (shader compilation)
DEMO_TIMING = dict(fps=12, forward_seconds=0.5, backward_seconds=0.5, hold_seconds=0.25, state_seconds=1.5)


def _child(quality: str) -> dict:
    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    from nn_animator.addon import register, render, scene

    register()  # the add-on's scene properties (python -m style, no Blender preferences)
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


def _run(quality: str, keep: str) -> dict:
    env = {**os.environ, "NNA_KEEP_FREED_MEMORY": keep}
    out = subprocess.run(
        [sys.executable, __file__, "--child", quality], capture_output=True, text=True, cwd=ROOT, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> dict:
    res = {}
    for q in ("preview", "final"):
        for keep in ("0", "1"):  # side by side in one run: the old allocator path, then the new default
            res[q, keep] = _run(q, keep)
    figures = {}
    for q in ("preview", "final"):
        w, h = res[q, "1"]["size"]
        old, new = res[q, "0"]["per_frame"], res[q, "1"]["per_frame"]
        figures[f"{q} {w}x{h} s/frame (glibc default -> freed memory kept)"] = (
            f"{old:.2f} -> {new:.2f} ({old / new:.2f}x faster)"
        )
    n = res["preview", "1"]["demo_frames"]
    old, new = n * res["preview", "0"]["per_frame"], n * res["preview", "1"]["per_frame"]
    figures["make demo video, rendering only"] = f"{n:,} frames: {old / 60:.1f} min -> {new / 60:.1f} min"
    m = 1516  # the article's full timeline at 24 fps (1,516 frames) at final quality
    old_f, new_f = m * res["final", "0"]["per_frame"], m * res["final", "1"]["per_frame"]
    figures["final-quality article video (1,516 frames, 8 samples)"] = (
        f"{old_f / 60:.1f} min -> {new_f / 60:.1f} min; target < 20 min: {'PASS' if new_f < 1200 else 'MISS'}"
    )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2])))
    else:
        main()
