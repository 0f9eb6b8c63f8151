"""Render benchmark: the video of `make demo` timed whole, side by side, in today's path and the old
ones, and the final-quality article video extrapolated from timed frames.

Paths, each in its own process:

- old: glibc's default allocator (NNA_KEEP_FREED_MEMORY=0) and every frame rendered
  (``render_once=False``): the path before issue 11;
- freed memory kept (render.keep_freed_memory), every frame rendered;
- today: freed memory kept and each distinct frame rendered once (render.frame_runs), the repeats
  encoded by the sequencer.

The demo's video (the article at preview, ``--fps 12 --duration 91`` as `make demo` trains it) is
rendered and timed whole in all three (several minutes). The final-quality article video (the same
timeline at 1280x720, 8 samples) would take about an hour, so it is extrapolated: seconds per
frame timed on 12 frames of a forward pass (after a warm-up frame), times the distinct frames
frame_runs finds in the whole timeline, plus the sequencer's encoding per video frame timed on a
short render-once range. NNA_BENCH_QUICK=1 replaces the demo's whole video by the same
extrapolation (a few seconds instead of minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = 12  # timed frames, after one warm-up frame (shader compilation)
DEMO_TRAIN = ["--preset", "article", "--fps", "12", "--duration", "91"]  # as `make demo`


def _scene(plan: dict, quality: str):
    import bpy
    from nn_animator.addon import register, render, scene

    register()  # the add-on's scene properties (python -m style, no Blender preferences)
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    scene.build_network(plan, sc)
    render.configure(sc, quality)
    return sc, render


def _demo_plan(tmp: str) -> dict:
    path = os.path.join(tmp, "demo.plan.json")
    subprocess.run(
        [sys.executable, "-m", "nncore", "train", *DEMO_TRAIN, "--out", path], cwd=ROOT, check=True, capture_output=True
    )
    from nn_animator.nncore import plan as plan_io

    return plan_io.load(path)


def _sample(sc, render, plan: dict, tmp: str) -> dict:
    """Seconds per frame (every frame rendered) and the encoding pass's seconds per video frame."""
    step = plan["steps"][len(plan["steps"]) // 2]
    first = int(step["forward_frames"][0])
    render.render_video(sc, os.path.join(tmp, "warm.mp4"), frames=(first, first), render_once=False)
    t = time.perf_counter()
    render.render_video(sc, os.path.join(tmp, "b.mp4"), frames=(first, first + FRAMES - 1), render_once=False)
    per_frame = (time.perf_counter() - t) / FRAMES
    # a render-once range with repeats: what it costs beyond its distinct frames is the encoding
    runs, _ = render.frame_runs(sc)
    i = next(i for i, (s, n) in enumerate(runs) if n > 1 and i > 2)
    lo, hi = runs[i - 2][0], runs[i][0] + runs[i][1] - 1
    stats: dict = {}
    t = time.perf_counter()
    render.render_video(sc, os.path.join(tmp, "o.mp4"), frames=(lo, hi), render_once=True, stats=stats)
    encode = max(time.perf_counter() - t - stats["rendered"] * per_frame, 0.0) / stats["frames"]
    return {"per_frame": per_frame, "encode_per_frame": encode}


def _child(job: str, quality: str, once: str) -> dict:
    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    with tempfile.TemporaryDirectory() as tmp:
        plan = _demo_plan(tmp)
        sc, render = _scene(plan, quality)
        n = sc.frame_end - sc.frame_start + 1
        runs, note = render.frame_runs(sc)
        res = {"frames": n, "distinct": len(runs), "note": note, "size": list(render.QUALITY[quality]["resolution"])}
        if job == "demo":
            stats: dict = {}
            t = time.perf_counter()
            render.render_video(sc, os.path.join(tmp, "demo.mp4"), render_once=once == "1", stats=stats)
            res.update(seconds=time.perf_counter() - t, rendered=stats["rendered"])
        else:
            res.update(_sample(sc, render, plan, tmp))
        return res


def _run(job: str, quality: str, keep: str, once: str = "0") -> dict:
    env = {**os.environ, "NNA_KEEP_FREED_MEMORY": keep, "PYTHONPATH": os.path.join(ROOT, ".venv", "nna-path")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", job, quality, once], capture_output=True, text=True, cwd=ROOT, env=env
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench child {job} {quality} once={once} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _model(s: dict, frames: int, distinct: int, once: bool) -> float:
    """Extrapolated seconds for a video: rendered frames x s/frame (+ the encoding pass)."""
    if not once:
        return frames * s["per_frame"]
    return distinct * s["per_frame"] + frames * s["encode_per_frame"]


def main() -> dict:
    quick = os.environ.get("NNA_BENCH_QUICK") == "1"
    figures = {}
    paths = (("old (glibc default, every frame)", "0", "0"), ("freed memory kept, every frame", "1", "0"))
    paths += (("today (freed memory kept, each distinct frame once)", "1", "1"),)
    # the demo's video
    demo = {}
    if quick:
        samples = {keep: _run("sample", "preview", keep) for keep in ("0", "1")}
        for label, keep, once in paths:
            s = samples[keep]
            demo[label] = _model(s, s["frames"], s["distinct"], once == "1")
        n, k = samples["1"]["frames"], samples["1"]["distinct"]
        how = "extrapolated from 12 timed frames"
    else:
        for label, keep, once in paths:  # side by side in one run
            r = _run("demo", "preview", keep, once)
            demo[label] = r["seconds"]
            n, k = r["frames"], r["distinct"]
        how = "timed whole"
    figures["make demo video: frames rendered / in the video"] = f"{k:,} / {n:,} ({n - k:,} repeat the one before)"
    old = demo[paths[0][0]]
    for label, _, _ in paths:
        figures[f"make demo video ({how}), {label}"] = f"{demo[label] / 60:.1f} min ({old / demo[label]:.2f}x)"
    # the final-quality article video: the demo's timeline at the final preset
    finals = {keep: _run("sample", "final", keep) for keep in ("0", "1")}
    w, h = finals["1"]["size"]
    m, d = finals["1"]["frames"], finals["1"]["distinct"]
    figures[f"final {w}x{h} s/frame (glibc default -> freed memory kept)"] = (
        f"{finals['0']['per_frame']:.2f} -> {finals['1']['per_frame']:.2f}"
    )
    old_f = _model(finals["0"], m, d, once=False)
    new_f = _model(finals["1"], m, d, once=True)
    figures[f"final-quality article video ({m:,} frames, {d:,} distinct; extrapolated)"] = (
        f"{old_f / 60:.1f} min -> {new_f / 60:.1f} min; target < 20 min: {'PASS' if new_f < 1200 else 'MISS'}"
    )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(*sys.argv[2:5])))
    else:
        for label, value in main().items():
            print(f"{label}: {value}")
