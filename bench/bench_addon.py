"""Scene-building benchmark (issues 3 and 10), side by side in one run.

* the article network: train + build;
* 64-32-16-10 from one plan (2,720 synapses, 13 shown cycles x 10 examples): built one object per
  neuron and synapse (the per-object path, forced with ``kind="objects"``) and instanced (what
  ``scene.representation`` picks for it): build time, peak memory, frame change, and the ratios;
* 784-64-10 (50,816 synapses, of which the legibility rule draws 1,664): plan load, build, peak
  memory, frame change (the network alone, and with the text: labels, HUD, loss curve);
* bulk keyframe writes against per-key ``keyframe_insert`` on the same keys.

Each measurement runs in a fresh Python process (bpy module). Peak memory is the growth of the
process's peak resident size during the build: the kernel's peak counter is reset
(``/proc/self/clear_refs``) after the plan is loaded, so the plan's own parsing is not counted.
Frame change is the mean time of ``scene.frame_set`` over 30 frames spread over the training
(each a jump: the values change), and over one step played frame by frame.
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
HUGE = (784, 64, 10)
# per-key insertion is slow: it is timed on the output synapse layer (16 x 10) and the neurons,
# and compared with the bulk writer on exactly the same objects and keys
PER_KEY_LAYERS = (2,)


def _plan(layers, path: str, cycles: int, shown: int, examples: int, examples_shown: int) -> None:
    """A plan trained on random 0/1 inputs with one-hot targets (no data set needed)."""
    import numpy as np

    from nncore.data import Dataset
    from nncore.network import NetworkSpec
    from nncore.plan import save
    from nncore.timeline import build_plan
    from nncore.train import TrainConfig, spaced_cycles, train

    rs = np.random.RandomState(0)
    X = (rs.random_sample((examples, layers[0])) > 0.5).astype(float)
    T = np.eye(layers[-1])[(X[:, :10].sum(axis=1) % layers[-1]).astype(int)]
    cfg = TrainConfig(
        learning_rate=0.1,
        cycles=cycles,
        batch=1,
        seed=1,
        shown=spaced_cycles(shown, cycles),
        examples_shown=examples_shown,
    )
    rec = train(NetworkSpec(tuple(layers)), Dataset("synthetic", X, T), cfg)
    save(build_plan(rec, preset="synthetic"), path)


def _status(key: str) -> float:
    """A /proc/self/status figure in MB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> float:
    """Reset the kernel's peak RSS counter to the current RSS (Linux 4.0+); the current RSS in MB."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _status("VmRSS")


def _frame_change(bpy, plan: dict) -> dict:
    import numpy as np

    sc = bpy.context.scene
    steps = plan["steps"]
    jumps = np.linspace(steps[0]["frame_start"], steps[-1]["frame_end"], 30).astype(int).tolist()
    step = steps[len(steps) // 2]
    play = list(range(step["frame_start"], step["frame_end"] + 1))

    def mean_ms(frames) -> float:
        best = float("inf")
        for _ in range(2):
            sc.frame_set(frames[0] - 1)
            t = time.perf_counter()
            for f in frames:
                sc.frame_set(f)
            best = min(best, (time.perf_counter() - t) / len(frames) * 1000)
        return best

    return {"jump_ms": mean_ms(jumps), "play_ms": mean_ms(play)}


def _child(kind: str, plan_path: str) -> dict:
    """Runs inside a fresh process."""
    import bpy

    sys.path.insert(0, os.path.join(ROOT, ".venv", "nna-path"))
    from nn_animator.addon import compat, keys, register, scene
    from nn_animator.nncore import plan as plan_io
    from nn_animator.nncore.presets import make_plan, settings_for

    register()  # the add-on's scene properties (python -m style, no Blender preferences)
    bpy.ops.wm.read_homefile(use_empty=True)
    if kind == "article":
        t = time.perf_counter()
        plan = make_plan(settings_for("article"))
        t_train = time.perf_counter() - t
        res = scene.build_network(plan, bpy.context.scene)
        return {"train": t_train, "total": time.perf_counter() - t, "keys": res.n_keys}
    t = time.perf_counter()
    plan = plan_io.load(plan_path)
    t_load = time.perf_counter() - t
    if kind in ("objects", "instanced", "huge", "huge_text"):
        base = _reset_peak()
        t = time.perf_counter()
        res = scene.build_network(
            plan, bpy.context.scene, labels=kind == "huge_text", kind="objects" if kind == "objects" else "instanced"
        )
        took = time.perf_counter() - t
        peak = _status("VmHWM") - base
        out = {
            "load": t_load,
            "build": took,
            "keys": res.n_keys,
            "synapses": res.n_synapses,
            "peak_mb": peak,
            "kind": res.representation,
        }
        out.update(_frame_change(bpy, plan))
        return out

    # bulk vs per-key on the same subset: keep only the chosen synapse layers' objects keyed
    scene.build_network(plan, bpy.context.scene, labels=False, kind="objects")
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


def _best(kind: str, plan_path: str, runs: int) -> dict:
    return min((_run_child(kind, plan_path) for _ in range(runs)), key=lambda r: r.get("build", r.get("total")))


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> dict:
    print("== scene build (issues 3 and 10) ==")
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        large_path = os.path.join(tmp, "large.plan.json")
        huge_path = os.path.join(tmp, "huge.plan.json")
        _plan(LARGE, large_path, cycles=300, shown=13, examples=100, examples_shown=10)
        _plan(HUGE, huge_path, cycles=20, shown=3, examples=60, examples_shown=3)

        art = _best("article", large_path, 3)
        print(
            f"article 3-4-1: train + build {art['total']:.2f} s (train {art['train']:.2f} s, "
            f"{art['keys']:,} keys)  target < 2 s: {_verdict(art['total'] < 2)}"
        )
        figures["article train + build s"] = round(art["total"], 2)

        name = "-".join(map(str, LARGE))
        obj = _best("objects", large_path, 2)
        ins = _best("instanced", large_path, 2)
        for label, r in (("per-object", obj), ("instanced ", ins)):
            print(
                f"{name} {label}: build {r['build']:.3f} s, peak memory +{r['peak_mb']:.0f} MB, frame change "
                f"{r['jump_ms']:.1f} ms (playing {r['play_ms']:.1f} ms), {r['synapses']:,} synapses, {r['keys']:,} keys"
            )
        speed = obj["build"] / max(ins["build"], 1e-9)
        memory = obj["peak_mb"] / max(ins["peak_mb"], 1.0)
        frames = obj["jump_ms"] / max(ins["jump_ms"], 1e-9)
        print(
            f"{name} instanced vs per-object: build {speed:.1f}x faster (target >= 10x: {_verdict(speed >= 10)}), "
            f"{memory:.1f}x less memory (target >= 4x: {_verdict(memory >= 4)}), frame change {frames:.1f}x faster"
        )
        figures.update(
            {
                f"{name} per-object build s": round(obj["build"], 3),
                f"{name} instanced build s": round(ins["build"], 3),
                f"{name} per-object peak MB": round(obj["peak_mb"]),
                f"{name} instanced peak MB": round(ins["peak_mb"]),
                f"{name} build ratio": round(speed, 1),
                f"{name} memory ratio": round(memory, 1),
            }
        )

        name = "-".join(map(str, HUGE))
        big = _best("huge", huge_path, 2)
        txt = _best("huge_text", huge_path, 1)
        print(
            f"{name} instanced: plan load {big['load']:.2f} s, build {big['build']:.3f} s (target < 2 s: "
            f"{_verdict(big['build'] < 2)}), peak memory +{big['peak_mb']:.0f} MB (target < 600 MB: "
            f"{_verdict(big['peak_mb'] < 600)}), frame change {big['jump_ms']:.1f} ms (playing "
            f"{big['play_ms']:.1f} ms; target < 20 ms: {_verdict(big['jump_ms'] < 20)}); "
            f"{big['synapses']:,} of 50,816 synapses drawn, {big['keys']:,} keyed values"
        )
        print(
            f"{name} with labels, HUD and loss curve: build {txt['build']:.2f} s, peak memory "
            f"+{txt['peak_mb']:.0f} MB, frame change {txt['jump_ms']:.1f} ms (playing {txt['play_ms']:.1f} ms)"
        )
        figures.update(
            {
                f"{name} plan load s": round(big["load"], 2),
                f"{name} build s": round(big["build"], 3),
                f"{name} peak MB": round(big["peak_mb"]),
                f"{name} frame change ms": round(big["jump_ms"], 1),
                f"{name} frame change with text ms": round(txt["jump_ms"], 1),
            }
        )

        cmp_ = _run_child("compare", large_path)
        ratio = cmp_["per_key"] / cmp_["bulk"]
        print(
            f"same {cmp_['keys']:,} keys on {cmp_['objects']} synapses: bulk {cmp_['bulk']:.3f} s, "
            f"per-key keyframe_insert {cmp_['per_key']:.2f} s, ratio {ratio:.0f}x  target >= 20x: "
            f"{_verdict(ratio >= 20)}"
        )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    else:
        sys.path.insert(0, ROOT)
        main()
