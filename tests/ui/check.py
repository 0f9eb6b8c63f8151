"""Assertions on what tests/ui/driver.py saw in the real window (run by tools/test_ui.sh)."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nncore import outputs  # noqa: E402

FACTORY = ["Camera", "Cube", "Light"]


def read_png(path: Path) -> np.ndarray:
    """The driver's own screenshots (8-bit RGB, filter 0 on every row) as an (h, w, 3) array."""
    data = path.read_bytes()
    pos, idat, size = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    w, h = size
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(h, 1 + 3 * w)
    assert not raw[:, 0].any(), "unexpected PNG filter"
    return raw[:, 1:].reshape(h, w, 3)


def region(img: np.ndarray, box) -> np.ndarray:
    """Blender's region box (x, y from the bottom-left) cut out of a top-down screenshot."""
    x, y, w, h = box
    top = img.shape[0] - (y + h)
    return img[top : top + h, x : x + w].astype(int)


def main(out: str) -> int:
    out = Path(out)
    r = json.loads((out / "result.json").read_text())
    problems = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            problems.append(what)

    check(r.get("exit") == 0 and not r["errors"], f"the driver ran to the end {r['errors'][:1]}")
    check(r.get("factory_objects") == FACTORY, "Blender opened its factory startup file (Cube, Light, Camera)")
    b = r.get("built", {})
    check((b.get("neurons"), b.get("synapses")) == (8, 16), f"a click on Build network built 8 + 16 objects: {b}")
    check(b.get("window_scene") == "NN Animator", "the window shows the network's own scene")
    check(b.get("user_scene_objects") == FACTORY, "the user's scene still holds exactly Cube, Light, Camera")
    u, rd = r.get("after_undo", {}), r.get("after_redo", {})
    check(u.get("neurons") == 0 and u.get("synapses") == 0, f"Ctrl+Z removes the network: {u}")
    check(u.get("user_scene_objects") == FACTORY, "Ctrl+Z leaves the user's scene as it was")
    check((rd.get("neurons"), rd.get("synapses")) == (8, 16), f"Ctrl+Shift+Z restores it: {rd}")
    check(
        r.get("second_click", {}).get("modal_builds") == 1,
        f"a second click starts no second build: {r.get('second_click')}",
    )
    esc, before = dict(r.get("after_esc", {})), r.get("before_esc")
    same = esc.pop("same_build", False)
    check(esc == before and same, f"Esc during training leaves the scene unchanged: {esc} vs {before}")
    check(
        r.get("stills") == ["article_after.png", "article_before.png", "article_new_situation.png"],
        "Render stills wrote three PNGs",
    )
    probe = r.get("cube_probe_rgb", [1, 1, 1])
    # the dark background there, with the bloom of the glowing neurons and numbers nearby, read
    # 0.09-0.14 (composed frame, 1 December); the startup Cube (grey 0.8) in front of the network,
    # under its key light, would read well above 0.2
    check(max(probe) < 0.2 and r.get("still_max", 0) > 0.5, f"no Cube where it stood in the startup file: {probe}")
    video = out / "ui.mp4"
    try:
        outputs.verify_mp4(str(video), 4)
        check(True, "Render video wrote a 4-frame H.264 .mp4")
    except Exception as exc:  # noqa: BLE001
        check(False, f"Render video wrote a 4-frame .mp4: {exc}")
    shot = read_png(out / "1_built.png")
    side = region(shot, r["sidebar"])
    check(side.std() > 12, f"the sidebar panel is drawn (pixel spread {side.std():.1f})")
    view = region(shot, [r["viewport"][0], r["viewport"][1], r["viewport"][2] - r["sidebar"][2], r["viewport"][3]])
    red, green, blue = view[..., 0], view[..., 1], view[..., 2]
    n_green = int(((green > red + 40) & (green > blue + 40)).sum())
    n_red = int(((red > green + 40) & (red > blue + 40)).sum())
    check(n_green > 30 and n_red > 30, f"Solid shading shows green and red synapses ({n_green}, {n_red} px)")
    for key in ("article", "big"):
        if key in r:
            print(
                f"info {key}: click to built {r[key]['click_to_built_s']:.2f} s, "
                f"longest freeze {r[key]['longest_freeze_s']:.2f} s, "
                f"playback {r[key].get('playback_fps_solid', float('nan')):.1f} fps in Solid"
            )
    print(f"test-ui: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
