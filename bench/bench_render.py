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
short render-once range; beside it the final preset before issue 11 (16 samples, glibc's default
allocator, every frame), timed the same way. Last, the PSNR of a final still at 4, 6, 8 and 16
samples against 32: what the final preset's 8 samples are chosen from. NNA_BENCH_QUICK=1 replaces
the demo's whole video by the same extrapolation (a few seconds instead of minutes).
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
OLD_FINAL_SAMPLES = 16  # the final preset before issue 11


def _scene(plan: dict, quality: str, samples: int | None = None):
    import bpy
    from nn_animator.addon import register, render, scene

    register()  # the add-on's scene properties (python -m style, no Blender preferences)
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    scene.build_network(plan, sc)
    render.configure(sc, quality, samples=samples)
    return sc, render


def _demo_plan(tmp: str) -> dict:
    path = os.path.join(tmp, "demo.plan.json")
    subprocess.run(
        [sys.executable, "-m", "nncore", "train", *DEMO_TRAIN, "--out", path], cwd=ROOT, check=True, capture_output=True
    )
    from nn_animator.nncore import plan as plan_io

    return plan_io.load(path)


def _sample(sc, render, plan: dict, tmp: str, with_encoding: bool = True) -> dict:
    """Seconds per frame (every frame rendered) and (``with_encoding``) the encoding pass's seconds
    per video frame."""
    step = plan["steps"][len(plan["steps"]) // 2]
    first = int(step["forward_frames"][0])
    render.render_video(sc, os.path.join(tmp, "warm.mp4"), frames=(first, first), render_once=False)
    t = time.perf_counter()
    render.render_video(sc, os.path.join(tmp, "b.mp4"), frames=(first, first + FRAMES - 1), render_once=False)
    per_frame = (time.perf_counter() - t) / FRAMES
    if not with_encoding:
        return {"per_frame": per_frame}
    # a render-once range with repeats: what it costs beyond its distinct frames is the encoding
    runs, _ = render.frame_runs(sc)
    i = next(i for i, (s, n) in enumerate(runs) if n > 1 and i > 2)
    lo, hi = runs[i - 2][0], runs[i][0] + runs[i][1] - 1
    stats: dict = {}
    t = time.perf_counter()
    render.render_video(sc, os.path.join(tmp, "o.mp4"), frames=(lo, hi), render_once=True, stats=stats)
    encode = max(time.perf_counter() - t - stats["rendered"] * per_frame, 0.0) / stats["frames"]
    return {"per_frame": per_frame, "encode_per_frame": encode}


QUALITY_SAMPLES = (4, 6, 8, 16)  # the final preset's candidates, against REFERENCE_SAMPLES
REFERENCE_SAMPLES = 32


def _quality(sc, plan: dict, tmp: str) -> dict:
    """PSNR (dB, 16-bit PNG, all channels in 0..1) of a final still of a forward pass at each of
    QUALITY_SAMPLES against REFERENCE_SAMPLES, with the seconds each still took."""
    import bpy
    import numpy as np

    sc.frame_set(int(plan["steps"][len(plan["steps"]) // 2]["forward_frames"][0]) + 2)
    ims = sc.render.image_settings
    ims.file_format, ims.color_depth = "PNG", "16"

    def still(samples: int):
        sc.eevee.taa_render_samples = samples
        sc.render.filepath = os.path.join(tmp, f"q{samples}.png")
        t = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        dt = time.perf_counter() - t
        img = bpy.data.images.load(sc.render.filepath)
        a = np.empty(len(img.pixels), np.float32)
        img.pixels.foreach_get(a)
        bpy.data.images.remove(img)
        return a, dt

    ref, _ = still(REFERENCE_SAMPLES)
    out = {}
    for n in QUALITY_SAMPLES:
        a, dt = still(n)
        mse = float(np.mean((a - ref) ** 2))
        out[str(n)] = {"psnr": 10 * np.log10(1.0 / mse) if mse > 0 else float("inf"), "seconds": dt}
    return out


def _child(job: str, quality: str, once: str, samples: str = "") -> dict:
    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    with tempfile.TemporaryDirectory() as tmp:
        plan = _demo_plan(tmp)
        sc, render = _scene(plan, quality, int(samples) if samples else None)
        n = sc.frame_end - sc.frame_start + 1
        runs, note = render.frame_runs(sc)
        res = {"frames": n, "distinct": len(runs), "note": note, "size": list(render.QUALITY[quality]["resolution"])}
        if job == "quality":
            res.update(quality=_quality(sc, plan, tmp))
        elif job == "demo":
            stats: dict = {}
            t = time.perf_counter()
            render.render_video(sc, os.path.join(tmp, "demo.mp4"), render_once=once == "1", stats=stats)
            res.update(seconds=time.perf_counter() - t, rendered=stats["rendered"])
        else:
            res.update(_sample(sc, render, plan, tmp, with_encoding=not samples))  # samples: the old path
        return res


def _run(job: str, quality: str, keep: str, once: str = "0", samples: int | None = None) -> dict:
    env = {**os.environ, "NNA_KEEP_FREED_MEMORY": keep, "PYTHONPATH": os.path.join(ROOT, ".venv", "nna-path")}
    args = [job, quality, once, str(samples or "")]
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT, env=env
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
    # the final-quality article video: the demo's timeline at the final preset, beside the path before
    # issue 11 (16 samples, glibc's default allocator, every frame)
    before = _run("sample", "final", "0", samples=OLD_FINAL_SAMPLES)
    finals = {keep: _run("sample", "final", keep) for keep in ("0", "1")}
    w, h = finals["1"]["size"]
    m, d = finals["1"]["frames"], finals["1"]["distinct"]
    figures[f"final {w}x{h} s/frame: {OLD_FINAL_SAMPLES} samples; 8 samples, glibc default -> freed memory kept"] = (
        f"{before['per_frame']:.2f}; {finals['0']['per_frame']:.2f} -> {finals['1']['per_frame']:.2f}"
    )
    old_f = _model(before, m, d, once=False)
    mid_f = _model(finals["0"], m, d, once=False)
    new_f = _model(finals["1"], m, d, once=True)
    figures[f"final-quality article video ({m:,} frames, {d:,} distinct; extrapolated)"] = (
        f"before issue 11 ({OLD_FINAL_SAMPLES} samples, every frame) {old_f / 60:.1f} min; "
        f"8 samples {mid_f / 60:.1f} min; today {new_f / 60:.1f} min ({old_f / new_f:.2f}x); "
        f"target < 20 min: {'PASS' if new_f < 1200 else 'MISS'}"
    )
    # the final preset's samples: what fewer or more would give
    q = _run("quality", "final", "1")["quality"]
    figures[f"final still, PSNR against {REFERENCE_SAMPLES} samples (seconds a still)"] = ", ".join(
        f"{n}: {q[str(n)]['psnr']:.1f} dB ({q[str(n)]['seconds']:.1f} s)" for n in QUALITY_SAMPLES
    )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(*sys.argv[2:6])))
    else:
        for label, value in main().items():
            print(f"{label}: {value}")
