"""The command line, the same in both ways in:

* ``blender -b -c nn_animator build|render|export ...`` (registered with ``bpy.utils.register_cli_command``)
* ``python -m nn_animator build|render|export ...`` (the bpy module in ``.venv``)

Exit codes: 0 success; 2 bad input (one line on stderr, no partial output files); 1 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from ..nncore import limits, outputs
from ..nncore import plan as plan_io
from ..nncore.cli import Progress, add_training_options, settings_from_args
from ..nncore.errors import NNCoreError
from ..nncore.presets import check_buildable, describe, make_plan
from . import blender_log, web

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
        s.add_argument("--web", metavar="DIR", help="write the animation as a web page into this folder (docs/web.md)")
        s.add_argument("--quality", choices=("preview", "final"), default="preview", help="render preset")
        s.add_argument("--resolution", metavar="WxH", help="render size, e.g. 1920x1080 (odd sizes are made even)")
        s.add_argument(
            "--shape",
            choices=("16:9", "1:1", "9:16", "4:3"),
            help="frame shape at the quality's size (16:9 default; 9:16 for phones); --resolution overrides",
        )
        s.add_argument("--samples", type=int, help="Eevee samples per pixel")
        s.add_argument("--frames", metavar="A-B", help="render only frames A to B")
        s.add_argument(
            "--camera",
            choices=("front", "three-quarter", "orbit"),
            help="front (the original's picture, default), three-quarter (depth reads) or orbit (turns once "
            "around the network during training)",
        )
        s.add_argument("--dof", action="store_true", help="depth of field for the three-quarter and orbit cameras")
        s.add_argument(
            "--audio",
            metavar="FILE",
            help="soundtrack (WAV, MP3, OGG, FLAC): the timeline is fitted to its length (--fit) and it goes "
            "into the video (AAC) and the .blend",
        )
        s.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


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
        print(text, file=blender_log.stdout(), flush=True)


def save_blend(path: str) -> None:
    """Save a copy of the current file through a temporary name, verified before it gets its name."""
    import bpy

    folder = os.path.dirname(path)
    with outputs.atomic_file(path, "--blend", verify=outputs.verify_blend) as tmp:
        try:
            bpy.ops.wm.save_as_mainfile(filepath=tmp, copy=True, check_existing=False)
        except RuntimeError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix("Error: ")
            raise NNCoreError(
                f"--blend: cannot save {outputs.printable(path)} ({first}){outputs.no_space_hint(folder)}"
            ) from None


def _ensure_registered() -> None:
    """``python -m nn_animator`` (the bpy module) runs without the add-on enabled: register it here."""
    import bpy

    if not hasattr(bpy.types.Scene, "nna"):
        from . import register

        register()


def run(args: argparse.Namespace) -> int:
    import bpy

    _ensure_registered()

    # 1. everything the user gave is checked before any work is done
    outs = {
        "blend": outputs.check_file(args.blend, "--blend", ext=".blend", add_ext=True) if args.blend else None,
        "video": outputs.check_file(args.video, "--video", ext=".mp4", add_ext=True) if args.video else None,
        "stills": outputs.check_folder(args.stills, "--stills") if args.stills else None,
        "gltf": outputs.check_file(args.gltf, "--gltf", ext=".glb", add_ext=True) if args.gltf else None,
        "web": web.check_folder(args.web) if args.web else None,
    }
    need = {"build": ("blend",), "render": ("video", "stills"), "export": ("gltf", "web")}[args.command]
    if not any(outs[k] for k in need):
        raise NNCoreError(f"{args.command}: give {' or '.join('--' + k for k in need)}")
    resolution = parse_resolution(args.resolution) if args.resolution is not None else None
    frames = parse_frames(args.frames) if args.frames else None
    if args.samples is not None and not 1 <= args.samples <= 4096:
        raise NNCoreError(f"samples: must be 1..4096, got {args.samples}")
    from . import render

    audio_seconds = render.audio_seconds(args.audio) if args.audio else None
    if audio_seconds is not None and args.duration is not None:
        raise NNCoreError("--audio and --duration: give one (the audio's length is the duration)")
    if args.plan is not None:
        if args.duration is not None:
            raise NNCoreError("--duration: a plan's length is fixed; train with --duration instead of --plan")
        plan = plan_io.load(args.plan)
        if any(v for k, v in outs.items() if k != "web"):
            limits.check_buildable_plan(plan)  # a web page alone has no scene size limits
        if audio_seconds is not None:
            tm = plan["timing"]
            if abs(tm["frame_end"] - audio_seconds * tm["fps"]) > 1:
                raise NNCoreError(
                    f"--audio: the plan lasts {tm['frame_end'] / tm['fps']:.2f} s, the audio {audio_seconds:.2f} s: "
                    "train with --audio (or --duration) to fit the timeline to it"
                )
    else:
        if audio_seconds is not None:
            args.duration = audio_seconds
        settings = settings_from_args(args)
        if any(v for k, v in outs.items() if k != "web"):
            check_buildable(settings)  # the scene's size limits (neurons, synapses, keyframes), before training
        plan = make_plan(settings, progress=None if args.quiet else Progress("training", blender_log.stdout()))
    if outs["gltf"]:  # before anything is written: a big (instanced) network has no animated glTF
        from . import export_gltf
        from . import scene as nna_scene

        export_gltf.refuse_instanced(nna_scene.representation(plan["network"]["layers"]))
    if outs["web"]:  # from the plan alone: no scene, no Blender size limit
        web.write_web(plan, outs["web"])
        _log(args, f"wrote {outputs.printable(outs['web'], 300)}")
        if not any(v for k, v in outs.items() if k != "web"):
            return 0
    from . import scene as nna_scene

    nna_scene.check_size(plan["network"]["layers"])
    prefix = outputs.safe_name(plan.get("preset"))  # the stills' file names
    if outs["stills"]:
        for name in ("before", "after", "new_situation"):
            outputs.check_file(os.path.join(outs["stills"], f"{prefix}_{name}.png"), "--stills", probe=False)
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
    _log(args, outputs.printable(describe(plan), 300))

    if args.dof and args.camera in (None, "front"):
        raise NNCoreError("--dof: depth of field is for --camera three-quarter or orbit")
    render_settings = (args.resolution, args.samples, args.shape, args.fps)
    if args.command == "render" or args.video or args.stills or any(v is not None for v in render_settings):
        render.configure(
            scene, args.quality, resolution, args.fps, args.samples, shape=args.shape, camera_mode=args.camera,
            dof=args.dof,
        )  # fmt: skip
    elif args.camera:
        from . import camera_moves

        camera_moves.set_camera(scene, args.camera, args.dof)
    if args.audio:
        render.set_soundtrack(scene, args.audio)
    if outs["blend"]:
        save_blend(outs["blend"])
        _log(args, f"wrote {outputs.printable(outs['blend'], 300)}")
    if outs["video"] or outs["stills"]:
        from . import render

        report = None if args.quiet else _frame_progress
        if outs["stills"]:
            for p in render.render_stills(scene, outs["stills"], prefix=prefix, progress=report):
                _log(args, f"wrote {outputs.printable(p, 300)}")
        if outs["video"]:
            stats: dict = {}
            render.render_video(scene, outs["video"], frames=frames, progress=report, stats=stats)
            if stats.get("rendered", 0) < stats.get("frames", 0):
                n, k = stats["frames"], stats["rendered"]
                _log(args, f"rendered {k:,} distinct frames for the video's {n:,} (the other {n - k:,} repeat one)")
            _log(args, f"wrote {outputs.printable(outs['video'], 300)}")
    if outs["gltf"]:
        from . import export_gltf

        export_gltf.export_glb(scene, outs["gltf"])
        _log(args, f"wrote {outputs.printable(outs['gltf'], 300)}")
    return 0


def _frame_progress(i: int, n: int, seconds_left: float) -> None:
    eta = f", about {seconds_left:.0f} s left" if seconds_left == seconds_left and i < n else ""
    print(f"rendering: frame {i} of {n}{eta}", file=blender_log.stdout(), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        with blender_log.filtered(quiet=args.quiet, reported=(NNCoreError, KeyboardInterrupt)):
            return run(args)
    except NNCoreError as exc:
        print(f"{PROG}: error: {outputs.printable(exc, 500)}", file=sys.stderr, flush=True)
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
