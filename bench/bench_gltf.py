"""glTF export benchmark (issue 12), old and new path side by side in one run.

* new: Blender's exporter writes only the static scene; the materials and every animation channel
  are sampled from the scene's F-curves in numpy and written into the .glb (export_glb's default);
* old: Blender's exporter bakes every frame of every object itself (``export_glb(..., _baked=True)``,
  kept for this comparison and the equivalence test): it scans every material at every frame, so its
  cost per object-frame grows with the object count.

Networks, built one object per neuron and synapse (``kind="objects"``; 64-32-16-10 is instanced
by default, and an instanced network is refused for glTF): the article preset, and 16-16-16-1 and
64-32-16-10 trained on random 0/1 data (bench_addon's plans: 13 shown cycles x 10 examples). The old
path runs on the whole timeline for the article only; for the bigger networks on a short clip (the
first CLIP frames), where both paths are timed on the same frames, and the new one on the whole
timeline as well. Every file written is checked by the Khronos glTF-Validator (node).

Each export runs in a fresh Python process (bpy module); peak memory is the growth of the process's
peak resident size during the export. Targets: the article's whole timeline under 2 s, 64-32-16-10's
under 60 s, validator-clean.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
#: (name, layers, frames of the short clip both paths export, None: the whole timeline).
NETWORKS = (("article", None, None), ("16-16-16-1", (16, 16, 16, 1), 156), ("64-32-16-10", (64, 32, 16, 10), 48))
VALIDATOR = os.path.join(ROOT, "tools", "gltf_validate.js")


def _child(plan_path: str, path: str, frames: int, out: str) -> dict:
    """Runs inside a fresh process: build per object, export, figures."""
    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    sys.path.insert(0, HERE)
    from bench_addon import _reset_peak, _status
    from nn_animator.addon import export_gltf, register, scene
    from nn_animator.nncore import plan as plan_io
    from nn_animator.nncore.presets import make_plan, settings_for

    register()
    bpy.ops.wm.read_homefile(use_empty=True)
    plan = make_plan(settings_for("article")) if plan_path == "article" else plan_io.load(plan_path)
    res = scene.build_network(plan, bpy.context.scene, kind="objects")
    sc = bpy.context.scene
    if frames:
        sc.frame_end = min(sc.frame_end, sc.frame_start + frames - 1)
    base = _reset_peak()
    t = time.perf_counter()
    export_gltf.export_glb(sc, out, _baked=path == "old")
    took = time.perf_counter() - t
    return {
        "export": took,
        "peak_mb": _status("VmHWM") - base,
        "objects": res.n_neurons + res.n_synapses,
        "frames": sc.frame_end - sc.frame_start + 1,
        "size_mb": os.path.getsize(out) / 1e6,
    }


def _run(plan_path: str, path: str, frames: int, out: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", plan_path, path, str(frames or 0), out],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"export child failed: {proc.stderr.strip()[-2000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    node = shutil.which("node")
    if node and os.path.isdir(os.path.join(ROOT, "node_modules", "gltf-validator")):
        rep = json.loads(subprocess.run([node, VALIDATOR, out], capture_output=True, text=True, timeout=600).stdout)
        r["validator"] = f"{rep['numErrors']} errors, {rep['numWarnings']} warnings"
    else:
        r["validator"] = "not run (node or gltf-validator missing)"
    return r


def _line(r: dict) -> str:
    return (
        f"{r['export']:.2f} s, peak +{r['peak_mb']:.0f} MB, {r['size_mb']:.2f} MB file "
        f"({r['objects']:,} objects x {r['frames']:,} frames); validator: {r['validator']}"
    )


def main() -> dict:
    sys.path.insert(0, HERE)
    from bench_addon import _plan

    figures = {"load average (1 min) at start": f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"}
    with tempfile.TemporaryDirectory() as tmp:
        for name, layers, clip in NETWORKS:
            plan_path = "article"
            if layers:
                plan_path = os.path.join(tmp, f"{name}.plan.json")
                _plan(layers, plan_path, cycles=300, shown=13, examples=100, examples_shown=10)
            out = os.path.join(tmp, f"{name}.glb")
            full = _run(plan_path, "new", 0, out)
            target = {"article": 2.0, "64-32-16-10": 60.0}.get(name)
            verdict = f"; target < {target:g} s: {'PASS' if full['export'] < target else 'MISS'}" if target else ""
            figures[f"{name}: new, whole timeline"] = _line(full) + verdict
            if clip is None:
                old = _run(plan_path, "old", 0, out)
                figures[f"{name}: old (baked), whole timeline"] = _line(old)
                new = full
            else:
                new = _run(plan_path, "new", clip, out)
                old = _run(plan_path, "old", clip, out)
                figures[f"{name}: new, first {clip} frames"] = _line(new)
                figures[f"{name}: old (baked), first {clip} frames"] = _line(old)
            figures[f"{name}: old / new"] = f"{old['export'] / max(new['export'], 1e-9):.0f}x faster"
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])))
    else:
        sys.path.insert(0, ROOT)
        for k, v in main().items():
            print(f"  {k}: {v}")
