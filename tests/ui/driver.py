"""The real-window test, run inside a real Blender under Xvfb (tools/test_ui.sh; make test-ui).

Started as ``blender --enable-event-simulate -p 0 0 1600 900 --python tests/ui/driver.py`` with the
built zip installed in a throwaway BLENDER_USER_RESOURCES, so Blender opens its factory startup
file (Cube, Light, Camera). Everything a user does is done with simulated events: mouse moves and
clicks on the panel's buttons (found by hovering and asking Blender which button is under the
mouse), Esc, Ctrl+Z, Ctrl+Shift+Z. Between steps the driver yields to Blender's event loop (a
generator run by bpy.app.timers), so modal operators, redraws and undo pushes happen as they do
for a user. It writes NNA_UI_OUT/result.json and screenshots of the X screen (XGetImage: Blender's
own screenshot is black under Xvfb); tests/ui/check.py asserts on them. Blender quits at the end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import struct
import sys
import time
import traceback
import zlib

import bpy

OUT = os.environ.get("NNA_UI_OUT", "/tmp/nna-ui")
BIG = os.environ.get("NNA_UI_BIG") == "1"  # also time a 64-32-16-10 build (for the figures, not in CI)
os.makedirs(OUT, exist_ok=True)
RESULT: dict = {"steps": [], "errors": []}
BEAT: list[float] = []


def log(msg: str) -> None:
    print(f"ui-driver: {msg}", flush=True)
    RESULT["steps"].append(msg)


# --------------------------------------------------------------------------------------------
# screenshots of the X screen, written as PNG without any library


class XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int),
        ("format", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.c_ubyte)),
        ("byte_order", ctypes.c_int),
        ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int),
        ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
    ]


def screenshot(name: str) -> str:
    x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XGetImage.restype = ctypes.POINTER(XImage)
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_int] * 2 + [ctypes.c_uint] * 2
    x11.XGetImage.argtypes += [ctypes.c_ulong, ctypes.c_int]
    dpy = x11.XOpenDisplay(None)
    root = x11.XDefaultRootWindow(dpy)
    w, h = 1600, 900
    img = x11.XGetImage(dpy, root, 0, 0, w, h, 0xFFFFFFFF, 2).contents  # ZPixmap
    stride = img.bytes_per_line
    raw = ctypes.string_at(img.data, stride * h)
    rows = []
    for y in range(h):
        line = raw[y * stride : y * stride + 4 * w]
        rgb = bytearray(3 * w)
        rgb[0::3], rgb[1::3], rgb[2::3] = line[2::4], line[1::4], line[0::4]  # BGRX -> RGB
        rows.append(b"\0" + bytes(rgb))
    x11.XCloseDisplay(ctypes.c_void_p(dpy))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")
    path = os.path.join(OUT, f"{name}.png")
    with open(path, "wb") as fh:
        fh.write(png)
    log(f"screenshot {path}")
    return path


# --------------------------------------------------------------------------------------------
# the window, its areas, simulated input

WIN = None
MOUSE = [800, 450]


def view3d():
    area = next(a for a in WIN.screen.areas if a.type == "VIEW_3D")
    ui = next(r for r in area.regions if r.type == "UI")
    return area, ui


def ev(kind: str, value: str = "NOTHING", **kw) -> None:
    x, y = kw.pop("x", MOUSE[0]), kw.pop("y", MOUSE[1])
    WIN.event_simulate(type=kind, value=value, x=x, y=y, **kw)


def move(x: int, y: int):
    MOUSE[:] = [x, y]
    ev("MOUSEMOVE")
    yield 0.05


def click(x: int, y: int):
    yield from move(x, y)
    ev("LEFTMOUSE", "PRESS")
    ev("LEFTMOUSE", "RELEASE")
    yield 0.2


def key(kind: str, **mods):
    ev(kind, "PRESS", **mods)
    ev(kind, "RELEASE", **mods)
    yield 0.3


def hovered_command(area, region) -> str:
    """The Python command of the button under the mouse ('' if none)."""
    wm = bpy.context.window_manager
    wm.clipboard = ""
    try:
        with bpy.context.temp_override(window=WIN, area=area, region=region):
            bpy.ops.ui.copy_python_command_button()
    except RuntimeError:
        return ""
    return wm.clipboard


def find_button(command: str):
    """Hover down the sidebar until the button running ``command`` is under the mouse; its (x, y)."""
    area, ui = view3d()
    x = ui.x + ui.width // 2
    for y in range(ui.y + ui.height - 20, ui.y + 10, -8):
        yield from move(x, y)
        if command in hovered_command(area, ui):
            RESULT.setdefault("buttons", {})[command] = [x, y]
            log(f"button {command} at {x},{y}")
            return
    raise AssertionError(f"no button {command} in the sidebar")


def building() -> bool:
    return any(op.bl_idname == "NNA_OT_build_network" for op in WIN.modal_operators)


def n_modal_builds() -> int:
    return sum(op.bl_idname == "NNA_OT_build_network" for op in WIN.modal_operators)


def network_objects() -> dict:
    obs = [o for o in bpy.data.objects if o.get("nna_role") in ("neuron", "synapse")]
    return {
        "neurons": sum(o["nna_role"] == "neuron" for o in obs),
        "synapses": sum(o["nna_role"] == "synapse" for o in obs),
        "scenes": sorted(s.name for s in bpy.data.scenes),
        "window_scene": WIN.scene.name,
        "user_scene_objects": sorted(o.name for o in bpy.data.scenes["Scene"].objects)
        if "Scene" in bpy.data.scenes
        else None,
    }


def heartbeat():
    BEAT.append(time.perf_counter())
    return 0.05


def longest_freeze(t0: float, t1: float) -> float:
    beats = [t for t in BEAT if t0 <= t <= t1]
    if len(beats) < 2:
        return t1 - t0
    return max(b - a for a, b in zip(beats, beats[1:]))


def wait_until(cond, timeout: float, step: float = 0.1):
    t_end = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > t_end:
            raise AssertionError(f"timed out after {timeout} s waiting for {cond.__name__}")
        yield step


def file_browser_execute(directory: str, filename: str | None = None):
    """Fill in the file browser window an operator opened, and press its execute button."""
    yield from wait_until(lambda: len(bpy.context.window_manager.windows) > 1, 10)
    yield 0.5
    fwin = bpy.context.window_manager.windows[-1]
    area = next(a for a in fwin.screen.areas if a.type == "FILE_BROWSER")
    region = next(r for r in area.regions if r.type == "WINDOW")
    params = area.spaces.active.params
    params.directory = directory.encode() if isinstance(params.directory, bytes) else directory
    if filename is not None:
        params.filename = filename
    yield 0.3
    with bpy.context.temp_override(window=fwin, area=area, region=region):
        bpy.ops.file.execute()
    yield 0.5


# --------------------------------------------------------------------------------------------
# the user's session


def session():
    global WIN
    WIN = bpy.context.window_manager.windows[0]
    yield 2.0
    yield from key("ESC")  # the splash screen
    area, ui = view3d()
    area.spaces.active.show_region_ui = True
    yield 0.3
    area, ui = view3d()
    ui.active_panel_category = "NN Animator"
    RESULT["sidebar"] = [ui.x, ui.y, ui.width, ui.height]
    RESULT["viewport"] = [area.x, area.y, area.width, area.height]
    RESULT["factory_objects"] = sorted(o.name for o in bpy.context.scene.objects)
    yield 1.0
    screenshot("0_startup")

    # 1. Build network from the startup file (the article's network, default settings)
    yield from find_button("bpy.ops.nna.build_network")
    bx, by = RESULT["buttons"]["bpy.ops.nna.build_network"]
    t0 = time.perf_counter()
    yield from click(bx, by)
    yield from wait_until(lambda: not building() and any(s.nna.build_id for s in bpy.data.scenes), 120)
    t1 = time.perf_counter()
    yield 1.0
    RESULT["article"] = {"click_to_built_s": t1 - t0, "longest_freeze_s": longest_freeze(t0, t1 + 1.0)}
    RESULT["built"] = network_objects()
    log(f"built: {RESULT['built']} in {t1 - t0:.2f} s")
    screenshot("1_built")
    yield from playback("article")

    # 2. undo and redo the build
    yield from move(area.x + area.width // 3, area.y + area.height // 2)
    yield from key("Z", ctrl=True)
    yield 1.0
    RESULT["after_undo"] = network_objects()
    yield from key("Z", ctrl=True, shift=True)
    yield 1.0
    RESULT["after_redo"] = network_objects()
    log(f"undo {RESULT['after_undo']}, redo {RESULT['after_redo']}")

    # 3. a long training: a second click does nothing more, Esc cancels with the scene unchanged
    net = WIN.scene
    before = network_objects()
    build_id = net.nna.build_id
    net.nna.cycles = 5_000_000
    yield 0.5
    yield from click(bx, by)
    yield from wait_until(building, 10)
    yield 1.5
    screenshot("2_training")
    yield from click(bx, by)  # the button is now a progress bar
    yield 0.5
    RESULT["second_click"] = {"modal_builds": n_modal_builds()}
    yield from move(area.x + area.width // 3, area.y + area.height // 2)
    yield from key("ESC")
    yield from wait_until(lambda: not building(), 10)
    yield 0.5
    RESULT["after_esc"] = {**network_objects(), "same_build": WIN.scene.nna.build_id == build_id}
    RESULT["before_esc"] = before
    net.nna.cycles = 60_000

    # 4. Render stills and Render video (a few frames) from the panel
    net.nna.quality = "preview"
    yield 0.5
    yield from find_button("bpy.ops.nna.render_stills")
    yield from click(*RESULT["buttons"]["bpy.ops.nna.render_stills"])
    stills = os.path.join(OUT, "stills")
    os.makedirs(stills, exist_ok=True)
    yield from file_browser_execute(stills + "/")
    yield from wait_until(lambda: len([f for f in os.listdir(stills) if f.endswith(".png")]) == 3, 120)
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    # where the startup Cube stood: a point on its front face (y = -1), between the left and the
    # middle input neuron and below them, where the network draws nothing (its number labels end
    # at z = -0.35, the spheres at -0.4)
    p = world_to_camera_view(net, net.camera, Vector((-0.9, -1.0, -0.65)))
    RESULT["cube_probe"] = [p.x, p.y]
    img = bpy.data.images.load(os.path.join(stills, "article_after.png"))
    w, h = img.size
    px = img.pixels[:]
    i = 4 * (int(p.y * h) * w + int(p.x * w))
    RESULT["cube_probe_rgb"] = list(px[i : i + 3])
    RESULT["still_max"] = max(px)
    bpy.data.images.remove(img)
    RESULT["stills"] = sorted(os.listdir(stills))
    net.frame_start, net.frame_end = 1, 4  # a short video
    yield from find_button("bpy.ops.nna.render_video")
    yield from click(*RESULT["buttons"]["bpy.ops.nna.render_video"])
    yield from file_browser_execute(OUT + "/", "ui.mp4")
    video = os.path.join(OUT, "ui.mp4")
    yield from wait_until(lambda: os.path.exists(video), 180, 0.5)
    yield 2.0
    RESULT["video"] = {"bytes": os.path.getsize(video)}
    RESULT["windows_after_render"] = len(bpy.context.window_manager.windows)
    screenshot("3_rendered")

    if BIG:
        yield from big_network(bx, by)


def playback(key: str, seconds: float = 4.0):
    """Frames per second of wall time while the viewport (Solid) plays every frame."""
    scene = WIN.scene
    scene.sync_mode = "NONE"  # play every frame: the real cost, no frame dropping
    frames = []

    def count(sc, *args):
        frames.append(time.perf_counter())

    bpy.app.handlers.frame_change_post.append(count)
    area, _ = view3d()
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(window=WIN, area=area, region=region):
        bpy.ops.screen.animation_play()
    yield seconds
    with bpy.context.temp_override(window=WIN, area=area, region=region):
        bpy.ops.screen.animation_cancel(restore_frame=True)
    bpy.app.handlers.frame_change_post.remove(count)
    yield 0.5
    fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 2 else 0.0
    RESULT.setdefault(key, {})["playback_fps_solid"] = fps
    log(f"{key}: playback {fps:.1f} fps (Solid)")


def big_network(bx, by):
    """Time a 64-32-16-10 build from a click (random data from a CSV), for the issue's figures."""
    import random

    rng = random.Random(1)
    path = os.path.join(OUT, "big.csv")
    with open(path, "w") as fh:
        for _ in range(20):
            fh.write(",".join(str(rng.randint(0, 1)) for _ in range(74)) + "\n")
    for w in bpy.context.window_manager.windows[1:]:
        with bpy.context.temp_override(window=w):
            bpy.ops.wm.window_close()
    yield 1.0
    pg = WIN.scene.nna
    pg.preset = "csv"
    pg.csv_path = path
    pg.layers = "64,32,16,10"
    pg.cycles = 300
    pg.show = 3
    yield 1.0
    yield from find_button("bpy.ops.nna.build_network")
    t0 = time.perf_counter()
    yield from click(*RESULT["buttons"]["bpy.ops.nna.build_network"])
    yield from wait_until(lambda: not building() and WIN.scene.nna.built_preset == "csv", 300)
    t1 = time.perf_counter()
    yield 2.0
    RESULT["big"] = {"click_to_built_s": t1 - t0, "longest_freeze_s": longest_freeze(t0, t1 + 2.0)}
    log(f"64-32-16-10: {RESULT['big']}")
    screenshot("4_big")
    yield from playback("big")


def run(gen):
    def step():
        try:
            return next(gen)
        except StopIteration:
            finish(0)
        except Exception:  # noqa: BLE001
            RESULT["errors"].append(traceback.format_exc())
            traceback.print_exc()
            try:
                screenshot("error")
            except Exception:  # noqa: BLE001
                pass
            finish(1)
        return None

    return step


def finish(code: int) -> None:
    RESULT["exit"] = code
    with open(os.path.join(OUT, "result.json"), "w") as fh:
        json.dump(RESULT, fh, indent=1)
    log(f"done ({code}); result in {OUT}/result.json")
    sys.stdout.flush()
    os._exit(code)


bpy.app.timers.register(heartbeat, first_interval=0.05, persistent=True)
bpy.app.timers.register(run(session()), first_interval=1.0, persistent=True)
