"""Render benchmark across sizes (issue 10): preview seconds per frame of the instanced 64-32-16-10
network beside the article's per-object network, in the same run and the same settings (640x360,
the preview preset, frames of a forward pass), each in a fresh process. Target: within 1.5x."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 12  # timed frames, after one warm-up frame (shader compilation)


def _bench_addon():
    spec = importlib.util.spec_from_file_location("bench_addon", os.path.join(ROOT, "bench", "bench_addon.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _child(which: str) -> dict:
    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    sys.path.insert(0, ROOT)
    from nn_animator.addon import register, render, scene

    register()
    from nn_animator.nncore.plan import load
    from nn_animator.nncore.presets import make_plan, settings_for

    with tempfile.TemporaryDirectory() as tmp:
        if which == "article":
            plan = make_plan(settings_for("article"))
        else:
            path = os.path.join(tmp, "large.plan.json")
            _bench_addon()._plan((64, 32, 16, 10), path, cycles=300, shown=13, examples=200, examples_shown=10)
            plan = load(path)
        bpy.ops.wm.read_homefile(use_empty=True)
        sc = bpy.context.scene
        res = scene.build_network(plan, sc)
        render.configure(sc, "preview")
        step = plan["steps"][len(plan["steps"]) // 2]
        first = step["forward_frames"][0]
        render.render_video(sc, os.path.join(tmp, "warm.mp4"), frames=(first, first))
        t = time.perf_counter()
        render.render_video(sc, os.path.join(tmp, "b.mp4"), frames=(first, first + FRAMES - 1))
        per_frame = (time.perf_counter() - t) / FRAMES
    return {"per_frame": per_frame, "representation": res.representation, "synapses": res.n_synapses}


def _run(which: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", which], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> dict:
    article, large = _run("article"), _run("large")
    ratio = large["per_frame"] / article["per_frame"]
    return {
        f"article ({article['representation']}, {article['synapses']} synapses) preview s/frame": (
            f"{article['per_frame']:.3f}"
        ),
        f"64-32-16-10 ({large['representation']}, {large['synapses']:,} synapses) preview s/frame": (
            f"{large['per_frame']:.3f}"
        ),
        "64-32-16-10 / article": f"{ratio:.2f}x; target <= 1.5x: {'PASS' if ratio <= 1.5 else 'MISS'}",
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2])))
    else:
        for k, v in main().items():
            print(f"{k}: {v}")
