"""Scene-building benchmark (issue 3): the article network and a large 64-32-16-10 network.

Each measurement runs in a fresh Python process (bpy module) so that peak memory is that of
one build. Printed: build times, peak memory, and the bulk-write speed-up over per-key
``keyframe_insert`` measured on the same plan in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LARGE = (64, 32, 16, 10)
# per-key insertion is slow: it is timed on the output synapse layer (16 x 10) and the neurons,
# and compared with the bulk writer on exactly the same objects and keys
PER_KEY_LAYERS = (2,)


def _large_plan(path: str) -> None:
    import numpy as np

    from nncore.data import Dataset
    from nncore.network import NetworkSpec
    from nncore.plan import save
    from nncore.timeline import build_plan
    from nncore.train import TrainConfig, spaced_cycles, train

    rs = np.random.RandomState(0)
    X = (rs.random_sample((100, LARGE[0])) > 0.5).astype(float)
    T = np.eye(LARGE[-1])[(X[:, :10].sum(axis=1) % LARGE[-1]).astype(int)]
    cfg = TrainConfig(learning_rate=0.1, cycles=300, batch=1, seed=1, shown=spaced_cycles(13, 300), examples_shown=10)
    rec = train(NetworkSpec(LARGE), Dataset("synthetic", X, T), cfg)
    save(build_plan(rec, preset="synthetic"), path)


def _child(kind: str, plan_path: str) -> dict:
    """Runs inside a fresh process."""
    import resource

    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    from nn_animator.addon import compat, keys, scene
    from nn_animator.nncore import plan as plan_io
    from nn_animator.nncore.presets import make_plan, settings_for

    bpy.ops.wm.read_homefile(use_empty=True)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "article":
        t = time.perf_counter()
        plan = make_plan(settings_for("article"))
        t_train = time.perf_counter() - t
        res = scene.build_network(plan, bpy.context.scene)
        return {"train": t_train, "total": time.perf_counter() - t, "keys": res.n_keys}
    plan = plan_io.load(plan_path)
    if kind == "large":
        t = time.perf_counter()
        res = scene.build_network(plan, bpy.context.scene, labels=False)
        took = time.perf_counter() - t
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
        return {"build": took, "keys": res.n_keys, "synapses": res.n_synapses, "peak_mb": peak}

    # bulk vs per-key on the same subset: keep only the chosen synapse layers' objects keyed
    scene.build_network(plan, bpy.context.scene, labels=False)
    obs = [o for o in bpy.data.objects if o.get("nna_role") == "synapse" and o["nna_layer"] in PER_KEY_LAYERS]
    work = []  # (object, data_path, index, frames, values, interp)
    for ob in obs:
        for fc in compat.action_fcurves(ob.animation_data.action):
            n = len(fc.keyframe_points)
            co = [0.0] * (2 * n)
            fc.keyframe_points.foreach_get("co", co)
            ip = [0] * n
            fc.keyframe_points.foreach_get("interpolation", ip)
            work.append((ob, fc.data_path, fc.array_index, co[0::2], co[1::2], ip))
    for ob in obs:
        bpy.data.actions.remove(ob.animation_data.action)
    import numpy as np

    n_keys = sum(len(w[3]) for w in work)
    t = time.perf_counter()
    by_ob: dict = {}
    for ob, path, idx, f, v, ip in work:
        by_ob.setdefault(ob, []).append((path, idx, f, v, ip))
    for ob, chans in by_ob.items():
        fcs = compat.new_action_fcurves(ob, ob.name, [(p, i) for p, i, *_ in chans])
        for fc, (_, _, f, v, ip) in zip(fcs, chans):
            keys.write(fc, np.asarray(f, np.float32), np.asarray(v, np.float32), np.asarray(ip, np.int32))
    t_bulk = time.perf_counter() - t
    for ob in by_ob:
        bpy.data.actions.remove(ob.animation_data.action)
    t = time.perf_counter()
    for ob, chans in by_ob.items():
        for path, idx, f, v, _ip in chans:
            for frame, value in zip(f, v):
                if path.startswith('["'):
                    ob[path[2:-2]] = value
                else:
                    getattr(ob, path)[idx] = value
                ob.keyframe_insert(path, index=idx if not path.startswith('["') else -1, frame=frame)
    t_per_key = time.perf_counter() - t
    return {"bulk": t_bulk, "per_key": t_per_key, "keys": n_keys, "objects": len(by_ob)}


def _run_child(kind: str, plan_path: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, plan_path],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print("== scene build (issue 3) ==")
    with tempfile.TemporaryDirectory() as tmp:
        plan_path = os.path.join(tmp, "large.plan.json")
        _large_plan(plan_path)
        art = min((_run_child("article", plan_path) for _ in range(3)), key=lambda r: r["total"])
        print(
            f"article 3-4-1: train + build {art['total']:.2f} s (train {art['train']:.2f} s, "
            f"{art['keys']:,} keys)  target < 2 s: {'PASS' if art['total'] < 2 else 'MISS'}"
        )
        big = min((_run_child("large", plan_path) for _ in range(2)), key=lambda r: r["build"])
        print(
            f"large {'-'.join(map(str, LARGE))}: build {big['build']:.2f} s, {big['synapses']:,} synapses, "
            f"{big['keys']:,} keys, peak memory +{big['peak_mb']:.0f} MB  target < 3 s: "
            f"{'PASS' if big['build'] < 3 else 'MISS'}"
        )
        cmp_ = _run_child("compare", plan_path)
        ratio = cmp_["per_key"] / cmp_["bulk"]
        print(
            f"same {cmp_['keys']:,} keys on {cmp_['objects']} synapses: bulk {cmp_['bulk']:.3f} s, "
            f"per-key keyframe_insert {cmp_['per_key']:.2f} s, ratio {ratio:.0f}x  target >= 20x: "
            f"{'PASS' if ratio >= 20 else 'MISS'}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    else:
        sys.path.insert(0, ROOT)
        main()
