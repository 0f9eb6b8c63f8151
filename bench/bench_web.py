"""Web page benchmark (issue 12): data sizes, load time and frames per second in headless Chromium.

Software WebGL (SwiftShader) on this CPU-only machine, so the figures are indications: any GPU is far
faster. For the article preset and for a 784-64-10 network (50,816 synapses, the digits' shape) at
1280x720, played from a forward pass: frames drawn per second with everything drawn at full
resolution (level 0) and with the page's adaptive detail (what a viewer gets; the level it settled
at is reported). Targets: the article >= 30 fps, 784-64-10 >= 10 fps, the article interactive
(nna.ready) within 2 s of navigation.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import cdp  # noqa: E402
from test_web import load_web  # noqa: E402  (addon/web.py without bpy)

from nncore.presets import make_plan, settings_for  # noqa: E402

SIZE = (1280, 720)
SECONDS = 5


def digits_like_plan(tmp: str) -> dict:
    """784-64-10 on 20 random binary 'images' (2 shown cycles x 6 examples: within the plan size limit)."""
    rng = np.random.default_rng(0)
    x = (rng.uniform(0, 1, (20, 784)) > 0.7).astype(float)
    t = np.eye(10)[rng.integers(0, 10, 20)]
    path = os.path.join(tmp, "digits.csv")
    with open(path, "w") as fh:
        for row in np.hstack([x, t]):
            fh.write(",".join(f"{v:g}" for v in row) + "\n")
    return make_plan(
        settings_for("csv", csv=path, layers=(784, 64, 10), cycles=20, show=2, examples_shown=6, learning_rate=0.1)
    )


def measure(name: str, plan: dict, tmp: str, target_fps: float) -> dict:
    web = load_web()
    folder = os.path.join(tmp, name)
    t = time.perf_counter()
    web.write_web(plan, folder)
    write_s = time.perf_counter() - t
    sizes = {f: os.path.getsize(os.path.join(folder, f)) for f in web.FILES}
    start = plan["steps"][0]["frame_start"]
    with cdp.Browser(*SIZE, timeout=300) as b:
        t = time.perf_counter()
        page = b.open("file://" + os.path.join(folder, "index.html"))
        page.wait_for("window.nna && (nna.ready || nna.error)", timeout=300)
        wall = time.perf_counter() - t
        if page.evaluate("nna.error"):
            raise RuntimeError(page.evaluate("nna.error"))
        load_ms = page.evaluate("nna.loadMs")
        page.evaluate(f"nna.seek({start})", timeout=300)  # and wait for the first complete picture
        full = page.evaluate(f"nna.measureFps({SECONDS}, {start}, 1, 0)", timeout=300)
        adaptive = page.evaluate(f"nna.measureFps({SECONDS}, {start}, 1)", timeout=300)
        errors = [m for m in page.messages() if m["level"] in ("error", "exception")]
    ok = "PASS" if adaptive["fps"] >= target_fps else "MISS"
    return {
        f"{name}: write_web": f"{write_s:.2f} s; network.js {sizes['network.js'] / 1e6:.2f} MB, "
        f"viewer.js {sizes['viewer.js'] / 1e3:.0f} kB",
        f"{name}: ready after navigation": f"{load_ms / 1000:.2f} s ({wall:.2f} s with opening the tab)",
        f"{name}: fps, full resolution": f"{full['fps']:.1f}",
        f"{name}: fps, adaptive": f"{adaptive['fps']:.1f} (level {adaptive['level']}, pixel ratio "
        f"{adaptive['ratio']:.2f}); target >= {target_fps:g}: {ok}",
        **({f"{name}: console errors": str(errors)} if errors else {}),
    }


def main() -> dict:
    if not cdp.available():
        raise RuntimeError(f"no Chromium at {cdp.CHROMIUM}: run make setup")
    figures = {"load average (1 min) at start": f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"}
    with tempfile.TemporaryDirectory() as tmp:
        figures.update(measure("article", make_plan(settings_for("article")), tmp, 30))
        figures.update(measure("784-64-10", digits_like_plan(tmp), tmp, 10))
    return figures


if __name__ == "__main__":
    for k, v in main().items():
        print(f"  {k}: {v}")
