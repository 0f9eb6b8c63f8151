"""The command line, the same in both ways in:

* ``blender -b -c nn_animator build|render|export ...`` (registered with ``bpy.utils.register_cli_command``)
* ``python -m nn_animator build|render|export ...`` (the bpy module in ``.venv``)

Exit codes: 0 success; 2 bad input (one line on stderr, no partial output files); 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback

from ..nncore import plan as plan_io
from ..nncore.cli import Progress, add_training_options, settings_from_args
from ..nncore.errors import NNCoreError
from ..nncore.presets import describe, make_plan

PROG = "nn_animator"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise NNCoreError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Build, render and export an animated neural network.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    helps = {
        "build": "train (or read a plan) and save the animated scene as a .blend",
        "render": "render the animation to an H.264 .mp4 and/or the three stills as PNG",
        "export": "export the animated scene to a .glb (glTF binary)",
    }
    for name, text in helps.items():
        s = sub.add_parser(name, help=text, description=text)
        add_training_options(s)
        s.add_argument("--plan", metavar="PATH", help="build from this keyframe plan instead of training")
        s.add_argument("--blend", metavar="PATH", help="save the scene as this .blend file")
        s.add_argument("--video", metavar="PATH", help="render the animation to this .mp4")
        s.add_argument("--stills", metavar="DIR", help="render before/after/new-situation PNGs into this folder")
        s.add_argument("--gltf", metavar="PATH", help="export the scene to this .glb")
        s.add_argument("--quality", choices=("preview", "final"), default="preview", help="render preset")
        s.add_argument("--resolution", metavar="WxH", help="render size, e.g. 1920x1080 (odd sizes are made even)")
        s.add_argument("--samples", type=int, help="Eevee samples per pixel")
        s.add_argument("--frames", metavar="A-B", help="render only frames A to B")
        s.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _check_writable(folder: str, option: str) -> None:
    """Try to create a file there: os.access says yes to root even on read-only file systems."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise NNCoreError(f"{option}: folder {folder} is not writable ({exc.strerror})") from None


def _out_file(path: str, option: str) -> str:
    path = plan_io.check_output_file(path, option)
    _check_writable(os.path.dirname(path), option)
    return path


def _out_dir(path: str, option: str) -> str:
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise NNCoreError(f"{option}: folder {path} does not exist")
    _check_writable(path, option)
    return path


def parse_resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise NNCoreError(f"resolution: {text!r} is not WIDTHxHEIGHT, e.g. 1280x720") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise NNCoreError(f"resolution: {w}x{h} is outside 16x16..8192x8192")
    return w, h


def parse_frames(text: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.split("-"))
    except ValueError:
        raise NNCoreError(f"frames: {text!r} is not a range A-B, e.g. 1-120") from None
    if a > b:
        raise NNCoreError(f"frames: {a}-{b} ends before it starts")
    return a, b


def _log(args, text: str) -> None:
    if not args.quiet:
        print(text, flush=True)


def save_blend(path: str) -> None:
    """Save a copy of the current file through a temporary name (no partial .blend on failure)."""
    import bpy

    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".nna-", suffix=".blend", dir=folder)
    os.close(fd)
    try:
        bpy.ops.wm.save_as_mainfile(filepath=tmp, copy=True, check_existing=False)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp + "1", tmp + "@"):
            if os.path.exists(leftover):
                os.unlink(leftover)


def run(args: argparse.Namespace) -> int:
    import bpy

    # 1. everything the user gave is checked before any work is done
    outs = {
        "blend": _out_file(args.blend, "--blend") if args.blend else None,
        "video": _out_file(args.video, "--video") if args.video else None,
        "stills": _out_dir(args.stills, "--stills") if args.stills else None,
        "gltf": _out_file(args.gltf, "--gltf") if args.gltf else None,
    }
    need = {"build": ("blend",), "render": ("video", "stills"), "export": ("gltf",)}[args.command]
    if not any(outs[k] for k in need):
        raise NNCoreError(f"{args.command}: give {' or '.join('--' + k for k in need)}")
    resolution = parse_resolution(args.resolution) if args.resolution else None
    frames = parse_frames(args.frames) if args.frames else None
    if args.samples is not None and not 1 <= args.samples <= 4096:
        raise NNCoreError(f"samples: must be 1..4096, got {args.samples}")
    if args.plan:
        plan = plan_io.load(args.plan)
    else:
        settings = settings_from_args(args)
        plan = make_plan(settings, progress=None if args.quiet else Progress("training"))
    from . import scene as nna_scene

    nna_scene.check_size(plan["network"]["layers"])
    retimed = args.fps is not None and args.fps != plan["timing"]["fps"]  # render.configure remaps frames
    if (
        frames
        and not retimed
        and not (plan["timing"]["frame_start"] <= frames[0] <= frames[1] <= plan["timing"]["frame_end"])
    ):
        tm = plan["timing"]
        raise NNCoreError(
            f"frames: {frames[0]}-{frames[1]} is outside the animation's {tm['frame_start']}-{tm['frame_end']}"
        )

    # 2. build in an empty file
    t0 = time.perf_counter()
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    res = nna_scene.build_network(plan, scene)
    took = time.perf_counter() - t0
    _log(args, f"built {res.n_neurons} neurons, {res.n_synapses} synapses, {res.n_keys:,} keys in {took:.1f} s")
    _log(args, describe(plan))

    if args.command == "render" or args.video or args.stills or args.resolution or args.samples:
        from . import render

        render.configure(scene, args.quality, resolution, args.fps, args.samples)
    if outs["blend"]:
        save_blend(outs["blend"])
        _log(args, f"wrote {args.blend}")
    if outs["video"] or outs["stills"]:
        from . import render

        report = None if args.quiet else _frame_progress
        if outs["stills"]:
            prefix = plan.get("preset") or "network"
            for p in render.render_stills(scene, outs["stills"], prefix=prefix, progress=report):
                _log(args, f"wrote {p}")
        if outs["video"]:
            render.render_video(scene, outs["video"], frames=frames, progress=report)
            _log(args, f"wrote {args.video}")
    if outs["gltf"]:
        from . import export_gltf

        export_gltf.export_glb(scene, outs["gltf"])
        _log(args, f"wrote {args.gltf}")
    return 0


def _frame_progress(i: int, n: int, seconds_left: float) -> None:
    eta = f", about {seconds_left:.0f} s left" if seconds_left == seconds_left and i < n else ""
    print(f"rendering: frame {i} of {n}{eta}", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        return run(args)
    except NNCoreError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        print(f"{PROG}: internal error: {exc}", file=sys.stderr, flush=True)
        return 1


def blender_command(argv: list[str]) -> int:
    """Entry point for ``blender -b -c nn_animator ...``."""
    return main(argv)
