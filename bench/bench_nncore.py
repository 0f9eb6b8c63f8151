"""The article preset end to end, against a straightforward per-example numpy loop.

Ours: train the 3-4-1 network for 60,000 online cycles (420,000 updates), record the 13
shown cycles, build the keyframe plan and write it to a temporary file; best of 3 runs.
Theirs: the same maths written the obvious way, one numpy forward/backward/update per
example (np.exp sigmoid), with no recording and no plan; 1 run (it takes several seconds).
Targets: ours at least 4x faster than the loop and under 1.5 s.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

TARGET_SPEEDUP = 4.0
TARGET_SECONDS = 1.5
RUNS = 3


def numpy_loop(X: np.ndarray, T: np.ndarray, cycles: int, lr: float = 1.0, seed: int = 1):
    """Online back-propagation for a 3-4-1 sigmoid net without bias, one example at a time."""
    rs = np.random.RandomState(seed)
    w0 = 2.0 * rs.random_sample((4, 3)) - 1.0  # row j: synapses into hidden neuron j
    w1 = 2.0 * rs.random_sample((1, 4)) - 1.0
    for _ in range(cycles):
        for x, t in zip(X, T):
            h = 1.0 / (1.0 + np.exp(-(w0 @ x)))
            y = 1.0 / (1.0 + np.exp(-(w1 @ h)))
            d1 = (t - y) * y * (1.0 - y)
            d0 = (w1.T @ d1) * h * (1.0 - h)  # carried back through the weights before the update
            w1 += lr * np.outer(d1, h)
            w0 += lr * np.outer(d0, x)
    return w0, w1


def ours() -> tuple[float, dict]:
    from nncore import plan as plan_io
    from nncore.presets import make_plan, settings_for

    with tempfile.TemporaryDirectory(prefix="nna-bench-") as tmp:
        t0 = time.perf_counter()
        plan = make_plan(settings_for("article"))
        plan_io.save(plan, os.path.join(tmp, "article.plan.json"))
        return time.perf_counter() - t0, plan


def main() -> dict:
    from nncore.data import ARTICLE_T, ARTICLE_X

    times = []
    plan = None
    for _ in range(RUNS):
        t, plan = ours()
        times.append(t)
    best = min(times)

    X, T = np.array(ARTICLE_X, float), np.array(ARTICLE_T, float)
    t0 = time.perf_counter()
    w0, w1 = numpy_loop(X, T, 60000)
    loop = time.perf_counter() - t0

    after = plan["weights"]["after"]
    same = max(float(np.abs(np.asarray(after[0]) - w0).max()), float(np.abs(np.asarray(after[1]) - w1).max()))
    ratio = loop / best
    ok = ratio >= TARGET_SPEEDUP and best < TARGET_SECONDS
    return {
        "article end to end (train 60,000 cycles, plan, write), best of 3": f"{best:.3f} s",
        "all 3 runs": ", ".join(f"{t:.3f}" for t in times) + " s",
        "numpy per-example loop (420,000 updates), 1 run": f"{loop:.3f} s",
        "speed-up": f"{ratio:.1f}x",
        "largest weight difference, ours vs the loop": f"{same:.1e} (plan rounds to 6 decimals)",
        "query [1,1,0]": f"{plan['query']['outputs'][0]:.4f}",
        f"target >= {TARGET_SPEEDUP:g}x and < {TARGET_SECONDS:g} s": "PASS" if ok else "MISS",
    }


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for label, value in main().items():
        print(f"{label}: {value}")
