"""Render the built network: settings, the H.264 video and the article's three stills.

The add-on's plain-Python rendering API; operators and the command line call only these:

- :func:`configure` sets the engine, size, samples, bloom, colour management and (optionally) the
  frame rate. It is idempotent.
- :func:`render_video` renders the scene's frame range (or part of it) to an .mp4, each distinct
  frame once (:func:`frame_runs` proves which frames repeat the one before; docs/blender.md).
- :func:`render_stills` renders the "before", "after" and "new situation" frames to PNGs.
- :class:`InteractiveVideo` runs Blender's own interactive animation render (the UI operator) into
  a temporary .mp4 that is verified before it gets its name.

Bad input raises :class:`~nncore.errors.NNCoreError` (one line, meant for the user) before anything
is rendered or written. Files are written under a temporary name in the target folder and renamed
when complete; after a failure, an exception from ``progress`` or Ctrl-C the folder is left as it
was. The scene's output settings (file path, format, frame range, current frame) are restored
afterwards; only what :func:`configure` sets stays.

Why the video is rendered with ``render(animation=True)`` and not frame by frame: a render call per
frame rebuilds the render depsgraph every time, which (measured, bpy 5.0, 640x360) almost doubles
the time per frame. Blender swallows exceptions raised in its handlers (KeyboardInterrupt
included), so an animation render cannot be stopped by raising; instead the ``render_post``
handler moves ``scene.frame_current`` past the end, which ends Blender's frame loop after the
current frame (the file is then deleted and the exception re-raised). Ctrl-C is caught by a
temporary SIGINT handler for the same purpose.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from fractions import Fraction

import bpy
import numpy as np

from ..nncore import outputs
from ..nncore.errors import NNCoreError
from . import camera_moves, compat, keys

#: progress(frames_done, n_frames, seconds_left_estimate), called after every rendered frame.
Progress = Callable[[int, int, float], None]

#: Render presets. Everything glows by emission, so shadows and ray tracing are off in both.
#: Measured (bpy 5.0.1, article network, 2 CPU cores, software OpenGL, idle machine), seconds per frame:
#: 640x360 at 1/2/4 samples 0.28/0.34/0.47; 1280x720 at 1/8/16 samples 0.59/2.1/3.9. At preview most of
#: the time is fixed per-frame work (scene update incl. the text labels' Geometry Nodes, Eevee set-up),
#: and 1 sample differs from 4 only in slightly jaggier thin synapses.
QUALITY: dict[str, dict] = {
    "preview": {"resolution": (640, 360), "samples": 1, "bloom_quality": "MEDIUM", "video_crf": "MEDIUM"},
    # 8 samples, from bench_render's PSNR of a final still (the composed frame, its text included)
    # against 32 samples: 4: 38.8 dB, 6: 40.9, 8: 45.5, 16: 50.7; 8 costs 0.56x the time of 16 (3.9 vs
    # 6.9 s a still here); below 8 the thin synapses and the text's edges visibly crawl (bpy 5.0.1)
    "final": {"resolution": (1280, 720), "samples": 8, "bloom_quality": "HIGH", "video_crf": "HIGH"},
}

#: Bloom (compositor Glare node): pixels brighter than the threshold glow; size relative to the image.
BLOOM_THRESHOLD = 0.8
BLOOM_SIZE = 0.5

#: The stills of the article (their frames of the animation: scene.nna.still_<name>).
STILLS = ("before", "after", "new_situation")

#: Frame shapes (width:height) with the preset's short side: 16:9 preview is 640x360, final 1280x720.
SHAPES: dict[str, tuple[int, int]] = {"16:9": (16, 9), "1:1": (1, 1), "9:16": (9, 16), "4:3": (4, 3)}

MAX_FPS = 240
MAX_SIZE = 16384
MAX_SAMPLES = 4096


# --------------------------------------------------------------------------------------------
# configure


def configure(
    scene: bpy.types.Scene,
    quality: str = "preview",
    resolution: tuple[int, int] | None = None,
    fps: int | None = None,
    samples: int | None = None,
    shape: str | None = None,
    camera_mode: str | None = None,
    dof: bool = False,
) -> None:
    """Set the scene up for rendering at ``quality`` ("preview" or "final"); idempotent.

    ``shape`` (one of SHAPES: "16:9", "1:1", "9:16", "4:3") picks the frame's shape at the
    preset's short side; ``camera_mode`` (camera_moves.CAMERAS: front, three-quarter, orbit) with
    optional depth of field ``dof`` moves the camera (None keeps it); ``resolution`` (width, height)
    and ``samples`` override the preset; odd sizes are rounded up
    to even ones (H.264 needs even sizes). ``fps`` changes the frame rate while keeping the
    animation's duration in seconds: Blender's time remapping (``frame_map_old``/``frame_map_new``)
    plays the keyed animation at the new rate and the frame range is scaled to match; ``fps`` equal
    to the animation's own rate undoes it. ``None`` keeps the scene's current rate.
    """
    if quality not in QUALITY:
        raise NNCoreError(f"unknown render quality {quality!r}: use one of {', '.join(QUALITY)}")
    preset = QUALITY[quality]
    if resolution is None:
        resolution = shape_size(quality, shape or "16:9")
    width, height = _resolution(resolution)
    n_samples = _int(preset["samples"] if samples is None else samples, "samples", 1, MAX_SAMPLES)
    if fps is not None:
        fps = _int(fps, "fps", 1, MAX_FPS)
        _retime_map(scene, fps)  # raises before anything changes
    if camera_mode is not None and camera_mode not in camera_moves.CAMERAS:
        raise NNCoreError(f"camera: {camera_mode!r} is not one of {', '.join(camera_moves.CAMERAS)}")

    r = scene.render
    compat.render_engine_settings(scene, n_samples)
    r.resolution_x, r.resolution_y = width, height
    r.resolution_percentage = 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    r.use_border = False
    r.film_transparent = False
    _colour_management(scene)
    if not compat.has_foreign_compositor(scene):  # never touch a compositor the add-on did not make
        compat.bloom_compositor(scene, threshold=BLOOM_THRESHOLD, size=BLOOM_SIZE, quality=preset["bloom_quality"])
    _retime(scene, fps)
    scene.nna.render_quality = quality
    if camera_mode is not None and (camera_mode != camera_moves.mode(scene) or dof != _dof(scene)):
        camera_moves.set_camera(scene, camera_mode, dof)
    camera_moves.reframe(scene)  # the framing follows the frame's shape


def _dof(scene: bpy.types.Scene) -> bool:
    return scene.camera is not None and scene.camera.type == "CAMERA" and scene.camera.data.dof.use_dof


def shape_size(quality: str, shape: str) -> tuple[int, int]:
    """(width, height) of frame ``shape`` at ``quality``: the short side is the preset's height."""
    if shape not in SHAPES:
        raise NNCoreError(f"unknown frame shape {shape!r}: use one of {', '.join(SHAPES)}")
    short = QUALITY[quality]["resolution"][1]
    w, h = SHAPES[shape]
    scale = short / min(w, h)
    return _round(w * scale / 2) * 2, _round(h * scale / 2) * 2


def _colour_management(scene: bpy.types.Scene) -> None:
    """Standard view, no look: AgX/Filmic would desaturate the green and red synapses towards white."""
    try:
        scene.display_settings.display_device = "sRGB"
    except TypeError:  # a custom OCIO configuration without it
        pass
    vs = scene.view_settings
    vs.view_transform = "Standard"
    vs.look = "None"
    vs.exposure = 0.0
    vs.gamma = 1.0
    vs.use_curve_mapping = False


def _retime_base(scene: bpy.types.Scene) -> tuple[dict, str]:
    """The animation's own timing (fps, fps_base, frame_start, frame_end) and the state of the record
    of an earlier retiming: "valid", "none", "rebuilt" (the network was rebuilt since) or "changed"
    (someone changed the time remapping by hand). Changes nothing."""
    r = scene.render
    rec = scene.nna.retime
    current = {"fps": r.fps, "fps_base": r.fps_base, "frame_start": scene.frame_start, "frame_end": scene.frame_end}
    if not rec.active:
        return current, "none"
    if rec.build_id != scene.nna.build_id:
        return current, "rebuilt"
    if [rec.map_old, rec.map_new] != [r.frame_map_old, r.frame_map_new]:
        return current, "changed"
    return {k: getattr(rec, k) for k in ("fps", "fps_base", "frame_start", "frame_end")}, "valid"


def _retime_map(scene: bpy.types.Scene, fps: int) -> tuple[int, int]:
    """(frame_map_old, frame_map_new) that play the animation at ``fps``; NNCoreError if impossible."""
    base, _ = _retime_base(scene)
    rate = Fraction(base["fps"]) / Fraction(base["fps_base"]).limit_denominator(1001)
    ratio = (Fraction(fps) / rate).limit_denominator(900)
    if ratio.numerator > 900:
        raise NNCoreError(f"cannot play a {float(rate):g} fps animation at {fps} fps")
    return ratio.denominator, ratio.numerator


def _retime(scene: bpy.types.Scene, fps: int | None) -> None:
    """Play the animation at ``fps`` with the same duration (see :func:`configure`).

    The animation's own timing (rate, frame range) is remembered in scene.nna.retime with the
    build it belongs to, so that calling this again never stretches twice; after a rebuild (which
    sets its own rate and range but knows nothing of the time remapping) the remapping is reset.
    """
    r = scene.render
    base, state = _retime_base(scene)
    if state != "valid":
        scene.nna.retime.active = False
    if state == "rebuilt":
        r.frame_map_old = r.frame_map_new = 100
    if fps is None:
        return
    old, new = _retime_map(scene, fps)
    anim_frame = scene.frame_current * r.frame_map_old / r.frame_map_new
    if old == new:
        r.frame_map_old = r.frame_map_new = 100
        r.fps, r.fps_base = base["fps"], base["fps_base"]
        _set_range(scene, base["frame_start"], base["frame_end"])
        scene.nna.retime.active = False
    else:
        r.frame_map_old, r.frame_map_new = old, new
        r.fps, r.fps_base = fps, 1.0
        _set_range(scene, _round(base["frame_start"] * new / old), math.ceil(base["frame_end"] * new / old))
        rec = scene.nna.retime
        for key, value in base.items():
            setattr(rec, key, value)
        rec.build_id, rec.map_old, rec.map_new, rec.active = scene.nna.build_id, old, new, True
    scene.frame_current = min(max(_round(anim_frame * new / old), scene.frame_start), scene.frame_end)


# --------------------------------------------------------------------------------------------
# memory: keep what Eevee frees, so the next frame does not pay the kernel to zero it again

#: glibc's mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_MAX.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
#: Freed memory up to this much stays in the process (glibc's default returns anything above 128 KiB).
TRIM_THRESHOLD = 1 << 30
_KEEP_STATE: dict = {}


def keep_freed_memory() -> bool:
    """Tell glibc's allocator to keep freed memory in the process (no mmap for big blocks, a 1 GiB
    trim threshold), once per process; returns whether it is in effect.

    Why: every Eevee frame (through Mesa's software OpenGL) allocates and frees about 180 MB (its
    sphere-probe atlas); with glibc's defaults those pages go back to the kernel and come back
    zeroed at the next frame, which was about half a preview frame's time (measured: the demo's
    video in 132 s instead of 260 s, identical decoded frames, about 0.6 GB more peak memory).
    The rendered pixels do not change (tests/test_render_speed.py). A no-op without glibc (musl,
    macOS, Windows) and when the environment says ``NNA_KEEP_FREED_MEMORY=0``.
    """
    if "on" in _KEEP_STATE:
        return _KEEP_STATE["on"]
    on = False
    if os.environ.get("NNA_KEEP_FREED_MEMORY", "1") != "0":
        try:
            import ctypes

            libc = ctypes.CDLL(None)
            mallopt = libc.mallopt  # AttributeError without glibc
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            on = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        except (OSError, AttributeError):
            on = False
    _KEEP_STATE["on"] = on
    return on


# --------------------------------------------------------------------------------------------
# video


def render_video(
    scene: bpy.types.Scene,
    path: str | os.PathLike,
    frames: tuple[int, int] | None = None,
    progress: Progress | None = None,
    render_once: bool | None = None,
    stats: dict | None = None,
) -> str:
    """Render ``frames`` (first, last; default: the scene's range) to an H.264 .mp4; return its path.

    ``path`` gets ".mp4" appended if it has no extension. The folder must exist and be writable.
    The video is written to a temporary name next to ``path`` and renamed when complete; on any
    failure, an exception from ``progress``, or Ctrl-C, it is removed and the exception re-raised.

    ``render_once`` (default: on, unless the environment says ``NNA_RENDER_ONCE=0``): a frame that
    provably looks exactly like the one before it (:func:`frame_runs`: holds, states, the end) is
    not rendered again. The distinct frames are rendered to PNGs in a private temporary folder
    beside the video, then Blender's sequencer encodes them, each lasting as long as it repeats,
    with the scene's own sound: the same video as rendering every frame (tests/test_render_once.py).
    ``progress`` then counts the distinct frames. ``False`` renders every frame (the old path).
    ``stats``, if given, receives ``frames`` (in the video), ``rendered`` (3-D frames rendered) and
    ``note`` (why every frame was rendered, if it was).
    """
    final = video_path(path)
    first, last = _frame_range(scene, frames)
    _check_renderable(scene)
    _check_even_size(scene)
    if render_once is None:
        render_once = os.environ.get("NNA_RENDER_ONCE", "1") != "0"

    n = last - first + 1
    runs, note = frame_runs(scene, (first, last)) if render_once else ([], "render_once is off")
    if render_once and len(runs) == n and not note:
        note = "no frame repeats the one before it"
    once = render_once and len(runs) < n
    if stats is not None:
        stats.update(frames=n, rendered=len(runs) if once else n, note="" if once else note)
    saved = _save(scene)
    try:
        audio = soundtrack(scene) is not None
        with outputs.atomic_file(final, "video", verify=lambda p: outputs.verify_mp4(p, n, audio=audio)) as tmp:
            if once:
                _render_once(scene, final, tmp, first, last, runs, progress)
            else:
                watch = _Watch(n, progress)
                _video_settings(scene, tmp)
                _set_range(scene, first, last)
                with watch.installed():
                    _render(scene, os.path.dirname(final), animation=True)
                watch.reraise()
    finally:
        _restore(scene, saved)
    return final


def _video_settings(scene: bpy.types.Scene, tmp: str) -> None:
    compat.set_video_output(scene)
    crf = QUALITY.get(scene.nna.render_quality, QUALITY["preview"])["video_crf"]
    compat.set_video_quality(scene, crf, audio=soundtrack(scene) is not None)
    scene.render.image_settings.color_mode = "RGB"
    scene.render.filepath = tmp
    scene.render.use_file_extension = True
    scene.frame_step = 1


class InteractiveVideo:
    """Blender's own (interactive) animation render into a temporary .mp4, for the UI operator.

    ``start()`` checks everything, points the output at a temporary name and starts
    ``render.render('INVOKE_DEFAULT', animation=True)``: Blender's progress, its Esc, the UI stays
    alive. Blender then calls the render_complete / render_cancel handlers; the operator polls
    :attr:`state` and calls :meth:`finish`, which restores the output settings and verifies the
    file (frame count) before it gets its final name, or removes it after a cancel or a failure.
    """

    def __init__(self, scene: bpy.types.Scene, path: str | os.PathLike) -> None:
        self.scene = scene
        self.final = video_path(path)
        _check_renderable(scene)
        _check_even_size(scene)
        self.n = scene.frame_end - scene.frame_start + 1
        self.state = "new"  # -> running -> complete | cancelled
        self._stack: ExitStack | None = None
        self._saved: dict | None = None

    def _on_complete(self, sc, *_args) -> None:
        if sc == self.scene:
            self.state = "complete"

    def _on_cancel(self, sc, *_args) -> None:
        if sc == self.scene:
            self.state = "cancelled"

    def start(self) -> None:
        self._saved = _save(self.scene)
        self._stack = ExitStack()
        n, audio = self.n, soundtrack(self.scene) is not None
        tmp = self._stack.enter_context(
            outputs.atomic_file(self.final, "video", lambda p: outputs.verify_mp4(p, n, audio=audio))
        )
        bpy.app.handlers.render_complete.append(self._on_complete)
        bpy.app.handlers.render_cancel.append(self._on_cancel)
        self.state = "running"
        try:
            _video_settings(self.scene, tmp)
            keep_freed_memory()
            result = bpy.ops.render.render("INVOKE_DEFAULT", animation=True)
            if "RUNNING_MODAL" not in result and "FINISHED" not in result:
                raise NNCoreError("Blender did not start the render (is another render running?)")
        except BaseException as exc:
            self.finish(exc)
            raise

    def finish(self, error: BaseException | None = None) -> str:
        """Restore the settings; verify and rename (after a complete render) or clean up. Returns the path."""
        for handlers, fn in (
            (bpy.app.handlers.render_complete, self._on_complete),
            (bpy.app.handlers.render_cancel, self._on_cancel),
        ):
            while fn in handlers:
                handlers.remove(fn)
        if self._saved is not None:
            _restore(self.scene, self._saved)
            self._saved = None
        stack, self._stack = self._stack, None
        if stack is None:
            return self.final
        if error is None and self.state != "complete":
            error = KeyboardInterrupt()
        if error is None:
            stack.close()  # verifies, then renames; NNCoreError if the file is broken
        else:
            stack.__exit__(type(error), error, error.__traceback__)
        return self.final


def video_path(path) -> str:
    """The absolute .mp4 path (".mp4" added if there is no extension), checked before any work."""
    return outputs.check_file(_blender_path(path), "video", ext=".mp4", add_ext=True)


class _Watch:
    """Counts frames for ``progress`` and stops Blender's frame loop on an error or Ctrl-C."""

    def __init__(self, n_frames: int, progress: Progress | None) -> None:
        self.n = n_frames
        self.progress = progress
        self.done = 0
        self.start = time.monotonic()
        self.first_done: float | None = None
        self.error: BaseException | None = None
        self.interrupted = False

    def seconds_left(self, now: float) -> float:
        if self.done >= 2 and self.first_done is not None:  # the first frame also compiles shaders
            per_frame = (now - self.first_done) / (self.done - 1)
        else:
            per_frame = (now - self.start) / max(self.done, 1)
        return per_frame * (self.n - self.done)

    def on_frame(self, scene, *_args) -> None:
        self.done += 1
        now = time.monotonic()
        if self.first_done is None:
            self.first_done = now
        if self.progress is not None and self.error is None and not self.interrupted:
            try:
                self.progress(self.done, self.n, self.seconds_left(now))
            except BaseException as exc:  # re-raised by reraise() once Blender's frame loop has stopped
                self.error = exc
        if self.error is not None or self.interrupted:
            # Blender's animation loop reads the scene's current frame: past the end it stops.
            scene.frame_current = scene.frame_end + 1

    def on_sigint(self, signum, frame) -> None:
        self.interrupted = True

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The render_post handler and a SIGINT handler, always removed afterwards."""
        handlers = bpy.app.handlers.render_post
        handlers.append(self.on_frame)
        previous = None
        # Only replace Python's own handler: a C handler (a Blender executable's, which stops the render
        # by itself) could not be put back from Python. Not possible outside the main thread either.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not None:
            previous = signal.signal(signal.SIGINT, self.on_sigint)
        try:
            yield
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            while self.on_frame in handlers:
                handlers.remove(self.on_frame)

    def reraise(self) -> None:
        """Raise what stopped the render, if anything did."""
        if self.error is not None:
            raise self.error
        if self.interrupted:
            raise KeyboardInterrupt
        if self.done != self.n:
            raise NNCoreError(f"the render stopped after {self.done} of {self.n} frames")


# --------------------------------------------------------------------------------------------
# render each distinct frame once

#: A key this close to a frame's time but not on it makes the frame count as changing: Blender's
#: F-curve evaluation treats keys within a small threshold of the time as lying on it.
KEY_SLACK = 0.01

#: Modifiers whose result depends only on their (animated, so compared) inputs, never on the frame.
STATIC_MODIFIERS = frozenset(
    {
        "ARRAY", "BEVEL", "BOOLEAN", "DECIMATE", "EDGE_SPLIT", "MASK", "MIRROR", "REMESH", "SCREW", "SKIN",
        "SMOOTH", "SOLIDIFY", "SUBSURF", "TRIANGULATE", "WELD", "WIREFRAME", "WEIGHTED_NORMAL", "CURVE",
        "LATTICE", "ARMATURE", "HOOK", "SIMPLE_DEFORM", "CAST", "SHRINKWRAP", "MULTIRES", "NORMAL_EDIT",
    }
)  # fmt: skip
#: Constraints that read something other than animated values (a cache, a tracked movie).
TIME_CONSTRAINTS = frozenset({"TRANSFORM_CACHE", "FOLLOW_TRACK", "CAMERA_SOLVER", "OBJECT_SOLVER"})
#: Geometry Nodes whose output may change with the frame by itself (Scene Time is handled apart).
TIME_NODES = frozenset({"GeometryNodeSimulationInput", "GeometryNodeSimulationOutput", "GeometryNodeBake"})
#: The instanced networks' node group that reads Scene Time (addon/instanced.py).
_KEY_SAMPLE_GROUP = "NNA Key Sample"


class _Unprovable(Exception):
    """Something in the scene may change with the frame in a way frame_runs cannot follow."""


def frame_runs(scene: bpy.types.Scene, frames: tuple[int, int] | None = None) -> tuple[list[tuple[int, int]], str]:
    """The distinct pictures of ``frames`` (first, last; default: the scene's range) as runs
    ``(first frame, number of frames)``: every frame of a run looks exactly like its first, because
    nothing that could change the picture changes between them. Returns ``(runs, note)``; when that
    cannot be proved (``note`` says why), every frame is its own run.

    What is compared, at every frame's animation time (with the scene's time remapping):

    - every F-curve of every data-block (objects, materials, node groups, cameras, the world, the
      scene...), CONSTANT and LINEAR keys in numpy, anything else with Blender's own ``evaluate``;
      a key within KEY_SLACK of a frame's time (but not on it) makes that frame count as changing;
    - Geometry Nodes that read Scene Time, in the two ways the add-on uses it: an instanced
      network's key sampling (a frame changes while a track's ``Rate`` input is not 0, i.e. while it
      is interpolating; its ``Key`` and ``Start`` inputs are F-curves) and the loss curve's reveal
      (a frame changes when a point's reveal frame lies between it and the frame before).

    Anything else that can change with the frame makes it give up: drivers, NLA strips, other
    Scene Time uses, simulation or bake nodes, particles, rigid bodies, modifiers or constraints
    outside STATIC_MODIFIERS, movie or image-sequence textures, frame-change handlers, camera
    switching markers, motion blur, the stamp burnt into the image, a compositor the add-on did not
    make, and sequencer strips other than sound.
    """
    first, last = _frame_range(scene, frames)
    every = [(f, 1) for f in range(first, last + 1)]
    try:
        changes = _changes(scene, np.arange(first, last + 1))
    except _Unprovable as exc:
        return every, str(exc)
    starts = np.flatnonzero(changes) + first
    ends = np.append(starts[1:], last + 1)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends)], ""


def _changes(scene: bpy.types.Scene, frames: np.ndarray) -> np.ndarray:
    """A bool per frame: may it look different from the frame before? (The first always does.)"""
    _refuse_time_dependence(scene)
    r = scene.render
    remapped = r.frame_map_old != r.frame_map_new
    # Blender's ctime: the frame times framelen (frame_map_old / frame_map_new), in float32
    framelen = np.float32(r.frame_map_old) / np.float32(r.frame_map_new)
    times = frames.astype(np.float32) * framelen if remapped else frames.astype(np.float32)
    times = times.astype(np.float64)
    changes = np.zeros(len(frames), dtype=bool)
    changes[0] = True
    for fc in _all_fcurves():
        changes |= _fcurve_changes(fc, times, remapped)
    changes |= _scene_time_changes(scene, times, remapped)
    return changes


def _refuse_time_dependence(scene: bpy.types.Scene) -> None:
    r = scene.render
    if r.use_motion_blur:
        raise _Unprovable("motion blur mixes neighbouring frames")
    if r.use_stamp:
        raise _Unprovable("the stamp (burnt-in metadata) can show the frame")
    if any(m.camera is not None for m in scene.timeline_markers):
        raise _Unprovable("markers switch cameras")
    if compat.has_foreign_compositor(scene):
        raise _Unprovable("the scene has its own compositor")
    if scene.rigidbody_world is not None and scene.rigidbody_world.enabled:
        raise _Unprovable("rigid body simulation")
    handlers = bpy.app.handlers
    if len(handlers.frame_change_pre) or len(handlers.frame_change_post):
        raise _Unprovable("frame-change handlers may change anything")
    strips = compat.sequencer_strips(scene)
    if strips is not None and any(s.type != "SOUND" for s in strips):
        raise _Unprovable("the sequencer holds strips other than sound")
    for coll in (bpy.data.images, bpy.data.movieclips):
        for im in coll:
            if getattr(im, "source", "FILE") in ("MOVIE", "SEQUENCE") and im.users:
                raise _Unprovable(f"{im.name!r} is a movie or an image sequence")
    for ob in scene.objects:
        if len(ob.particle_systems):
            raise _Unprovable(f"{ob.name!r} has particles")
        for m in ob.modifiers:
            if m.show_render and m.type != "NODES" and m.type not in STATIC_MODIFIERS:
                raise _Unprovable(f"{ob.name!r} has a {m.type.lower()} modifier")
        for c in ob.constraints:
            if c.enabled and c.type in TIME_CONSTRAINTS:
                raise _Unprovable(f"{ob.name!r} has a {c.type.lower()} constraint")


def _ids() -> Iterator[bpy.types.ID]:
    """Every data-block, with the node trees embedded in materials, worlds, lights, scenes..."""
    for attr in dir(bpy.data):
        coll = getattr(bpy.data, attr, None)
        if not isinstance(coll, bpy.types.bpy_prop_collection):
            continue
        for idb in coll:
            if not isinstance(idb, bpy.types.ID):
                break
            yield idb
            tree = getattr(idb, "node_tree", None)
            if isinstance(tree, bpy.types.ID):
                yield tree


def _all_fcurves() -> Iterator[bpy.types.FCurve]:
    seen: set[int] = set()
    for idb in _ids():
        ad = getattr(idb, "animation_data", None)
        if ad is None:
            continue
        if len(ad.drivers):
            raise _Unprovable(f"{idb.name!r} has drivers")
        if any(not t.mute and len(t.strips) for t in ad.nla_tracks):
            raise _Unprovable(f"{idb.name!r} has NLA strips")
        if ad.action is not None and ad.action.as_pointer() not in seen:
            seen.add(ad.action.as_pointer())
            yield from compat.action_fcurves(ad.action)


def _fcurve_changes(fc: bpy.types.FCurve, times: np.ndarray, remapped: bool) -> np.ndarray:
    """Frames (by their animation ``times``) whose value of ``fc`` may differ from the frame before."""
    kp = fc.keyframe_points
    n = len(kp)
    out = np.zeros(len(times), dtype=bool)
    if n == 0 and not len(fc.modifiers):
        return out
    co = np.empty(2 * n, dtype=np.float32)
    kp.foreach_get("co", co)
    ip = np.empty(n, dtype=np.int32)
    kp.foreach_get("interpolation", ip)
    x, y = co[0::2].astype(np.float64), co[1::2].astype(np.float64)
    simple = (
        n > 0
        and np.isin(ip, (keys.INTERPOLATION["CONSTANT"], keys.INTERPOLATION["LINEAR"])).all()
        and not len(fc.modifiers)
        and fc.extrapolation == "CONSTANT"
        and bool(np.all(np.diff(x) > 0))
    )
    if simple:
        i = np.clip(np.searchsorted(x, times, side="right") - 1, 0, n - 1)
        j = np.minimum(i + 1, n - 1)
        span = np.where(x[j] > x[i], x[j] - x[i], 1.0)
        t = np.clip((times - x[i]) / span, 0.0, 1.0)
        linear = (ip[i] == keys.INTERPOLATION["LINEAR"]) & (j > i)
        values = np.where(times < x[0], y[0], np.where(linear, y[i] + t * (y[j] - y[i]), y[i]))
    else:
        values = np.array([fc.evaluate(float(f)) for f in times])
    out[1:] = values[1:] != values[:-1]
    if n:  # a key next to a frame's time: which side of it Blender takes is not certain
        k = np.clip(np.searchsorted(x, times), 0, n - 1)
        d = np.minimum(np.abs(times - x[k]), np.abs(times - x[np.maximum(k - 1, 0)]))
        close = (d < KEY_SLACK) & ((d > 0) | remapped)
        out |= close
        out[1:] |= close[:-1]
    return out


def _tree_nodes(tree: bpy.types.NodeTree, seen=None) -> Iterator[tuple[bpy.types.NodeTree, bpy.types.Node]]:
    """(tree, node) for every node of ``tree`` and of the groups it uses."""
    seen = set() if seen is None else seen
    if tree.as_pointer() in seen:
        return
    seen.add(tree.as_pointer())
    for node in tree.nodes:
        yield tree, node
        sub = getattr(node, "node_tree", None)
        if sub is not None:
            yield from _tree_nodes(sub, seen)


def _input_values(scene: bpy.types.Scene, ob, mod, identifier: str, times: np.ndarray) -> np.ndarray:
    """A Nodes modifier input at ``times``: from its F-curve if it is keyed, else its value."""
    ad = ob.animation_data
    path = f'modifiers["{mod.name}"]["{identifier}"]'
    if ad is not None and ad.action is not None:
        for fc in compat.action_fcurves(ad.action):
            if fc.data_path == path:
                return np.array([fc.evaluate(float(t)) for t in times])
    return np.full(len(times), float(mod[identifier]))


def _scene_time_changes(scene: bpy.types.Scene, times: np.ndarray, remapped: bool) -> np.ndarray:
    out = np.zeros(len(times), dtype=bool)
    for ob in scene.objects:
        for mod in ob.modifiers:
            if mod.type != "NODES" or not mod.show_render or mod.node_group is None:
                continue
            top = mod.node_group
            users = []
            for tree, node in _tree_nodes(top):
                if node.bl_idname in TIME_NODES:
                    raise _Unprovable(f"{ob.name!r}: Geometry Nodes {node.bl_idname} depends on the frame")
                if node.bl_idname == "GeometryNodeInputSceneTime" and any(s.is_linked for s in node.outputs):
                    users.append((tree, node))
            if not users:
                continue
            if all(tree.name.startswith(_KEY_SAMPLE_GROUP) for tree, _ in users):
                out |= _interpolating(scene, ob, mod, times)
            elif all(tree == top for tree, _ in users) and ob.modifiers[0] == mod and ob.type == "MESH":
                for _, node in users:
                    out |= _reveals(ob, node, times, remapped)
            else:
                raise _Unprovable(f"{ob.name!r}: Geometry Nodes read the scene time")
    return out


def _interpolating(scene, ob, mod, times: np.ndarray) -> np.ndarray:
    """Instanced networks: frames at which, or just after which, some track interpolates (Rate != 0)."""
    out = np.zeros(len(times), dtype=bool)
    for item in mod.node_group.interface.items_tree:
        if getattr(item, "in_out", None) == "INPUT" and item.name.endswith("Rate") and item.identifier in mod.keys():
            moving = _input_values(scene, ob, mod, item.identifier, times) != 0
            out |= moving
            out[1:] |= moving[:-1]
    return out


def _reveals(ob, node, times: np.ndarray, remapped: bool) -> np.ndarray:
    """The loss curve: Scene Time compared with a point attribute (the frame a point appears at)."""
    out = np.zeros(len(times), dtype=bool)
    for sock in node.outputs:
        for link in sock.links:
            cmp = link.to_node
            if cmp.bl_idname != "FunctionNodeCompare" or cmp.data_type != "FLOAT":
                raise _Unprovable(f"{ob.name!r}: Geometry Nodes use the scene time")
            other = [s for s in cmp.inputs if s.enabled and s.is_linked and s != link.to_socket and s.type == "VALUE"]
            if len(other) != 1 or other[0].links[0].from_node.bl_idname != "GeometryNodeInputNamedAttribute":
                raise _Unprovable(f"{ob.name!r}: Geometry Nodes use the scene time")
            named = other[0].links[0].from_node
            name_in = named.inputs["Name"]
            attr = ob.data.attributes.get(name_in.default_value) if not name_in.is_linked else None
            if attr is None or attr.domain != "POINT" or attr.data_type != "FLOAT":
                raise _Unprovable(f"{ob.name!r}: Geometry Nodes compare the scene time with an unknown value")
            values = np.empty(len(attr.data), dtype=np.float32)
            attr.data.foreach_get("value", values)
            r = np.unique(values.astype(np.float64))
            exact = cmp.operation == "GREATER_THAN" and link.to_socket == cmp.inputs[cmp.inputs.find("B")]
            slack = KEY_SLACK if remapped or not exact else 0.0
            # a point appears or goes between the frame before (lo) and this frame (hi)
            lo, hi = times[:-1] - slack, times[1:] + slack
            i = np.searchsorted(r, lo, side="right" if exact and not remapped else "left")
            k = np.searchsorted(r, hi, side="right")
            out[1:] |= k > i
    return out


def _render_once(
    scene: bpy.types.Scene, final: str, tmp: str, first: int, last: int, runs: list, progress: Progress | None
) -> None:
    """The video from each distinct frame rendered once: PNGs in a private folder beside the video
    (Blender skips the frames whose file exists: the repeats get empty placeholders), then the
    scene's sequencer shows them, each for as long as it repeats, and encodes them with the scene's
    sound into ``tmp``. The folder, the strip and the settings changed are gone afterwards."""
    folder = os.path.dirname(final)
    try:
        frames_dir = tempfile.mkdtemp(prefix=".nna-", suffix=".frames", dir=folder)
    except OSError as exc:
        raise NNCoreError(
            f"video: cannot write in {outputs.printable(folder)} ({exc.strerror or exc}){outputs.no_space_hint(folder)}"
        ) from None
    strip = None
    ed_existed = scene.sequence_editor is not None
    looks = _save_look(scene)
    with _removed_on_signal(frames_dir):
        try:
            # pass 1: the distinct frames, in one animation render (one render depsgraph for all)
            compat.set_image_output(scene, "PNG")
            ims = scene.render.image_settings
            ims.color_mode = "RGB"
            ims.color_depth = "8"
            ims.compression = 15
            scene.render.filepath = os.path.join(frames_dir, "f_")
            scene.render.use_file_extension = True
            scene.render.use_overwrite = False
            scene.frame_step = 1
            _set_range(scene, first, last)
            shown = {}
            for start, length in runs:
                png = scene.render.frame_path(frame=start)
                for f in range(start, start + length):
                    shown[f] = png
                    if f != start:
                        try:
                            open(scene.render.frame_path(frame=f), "xb").close()
                        except OSError as exc:
                            raise NNCoreError(
                                f"video: cannot write in {outputs.printable(folder)} ({exc.strerror or exc})"
                                f"{outputs.no_space_hint(folder)}"
                            ) from None
            watch = _Watch(len(runs), progress)
            with (
                watch.installed(),
                _dropped_output_lines(b"skipping existing frame"),
            ):  # Blender 4.x prints one per repeat
                _render(scene, folder, animation=True)
            watch.reraise()
            for start, _ in runs:
                _check_png(shown[start], folder)

            # pass 2: the sequencer shows them, each as long as it lasts, and encodes them with the sound
            strips = compat.sequencer_strips(scene, create=True)
            channel = min(max((s.channel for s in strips), default=0) + 1, 128)
            strip = strips.new_image("NNA frames (render once)", shown[first], channel, first)
            directory = strip.directory
            for f in range(first + 1, last + 1):
                strip.elements.append(os.path.relpath(shown[f], directory))
            if strip.frame_final_duration != last - first + 1:
                raise NNCoreError(
                    f"video: the sequencer holds {strip.frame_final_duration} of {last - first + 1} frames"
                )
            _pass_through(scene, strip)
            _video_settings(scene, tmp)
            encode = _Watch(last - first + 1, None)
            with encode.installed():
                _render(scene, folder, animation=True)
            encode.reraise()
        finally:
            if strip is not None:
                try:
                    compat.sequencer_strips(scene).remove(strip)
                except (AttributeError, RuntimeError, ReferenceError):
                    pass
            if not ed_existed and scene.sequence_editor is not None:
                scene.sequence_editor_clear()
            _restore_look(scene, looks)
            shutil.rmtree(frames_dir, ignore_errors=True)


@contextmanager
def _dropped_output_lines(prefix: bytes) -> Iterator[None]:
    """Lines on file descriptor 1 that start with ``prefix`` are dropped while the block runs (the
    rest passes through as it comes): Blender's C code writes there directly. Without a usable
    descriptor 1, nothing is filtered."""
    import sys

    try:
        import ctypes

        fflush = ctypes.CDLL(None).fflush
    except (OSError, AttributeError):
        fflush = None

    def flush() -> None:
        try:
            sys.stdout.flush()
        except (AttributeError, OSError, ValueError):
            pass
        if fflush is not None:
            fflush(None)

    try:
        flush()
        target = os.dup(1)
    except OSError:
        yield
        return
    read_end, write_end = os.pipe()

    def pump() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                out = b"".join(line + b"\n" for line in lines if not line.lstrip().startswith(prefix))
                if out:
                    os.write(target, out)
            if pending and not pending.lstrip().startswith(prefix):
                os.write(target, pending)

    thread = threading.Thread(target=pump, name="nna-output-filter", daemon=True)
    thread.start()
    os.dup2(write_end, 1)
    os.close(write_end)
    try:
        yield
    finally:
        flush()
        os.dup2(target, 1)  # closes the pipe's last write end: the pump sees its end
        thread.join(timeout=10)
        os.close(target)


@contextmanager
def _removed_on_signal(folder: str) -> Iterator[None]:
    """SIGTERM / SIGHUP while the block runs remove ``folder`` first, then do what they did before
    (nncore.outputs' handler removes the temporary files and dies of the signal)."""
    sigs = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):
        shutil.rmtree(folder, ignore_errors=True)
        prev = previous.get(signum, signal.SIG_DFL)
        signal.signal(signum, prev if prev is not None else signal.SIG_DFL)
        if callable(prev):
            prev(signum, frame)
        elif prev != signal.SIG_IGN:
            os.kill(os.getpid(), signum)

    for sig in sigs:
        prev = signal.getsignal(sig)
        if prev is None or prev == signal.SIG_IGN:  # a C handler (Blender's own) or ignored: leave it
            continue
        previous[sig] = prev
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, prev in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, prev)


#: What the sequencer pass changes besides the output settings (restored afterwards).
_LOOK_SETTINGS = (
    ("view_settings", "view_transform"),
    ("view_settings", "look"),
    ("view_settings", "exposure"),
    ("view_settings", "gamma"),
    ("view_settings", "use_curve_mapping"),
    ("display_settings", "display_device"),
    ("sequencer_colorspace_settings", "name"),
    ("render", "use_sequencer"),
    ("render", "use_overwrite"),
    ("render", "dither_intensity"),
)


def _save_look(scene: bpy.types.Scene) -> list:
    return [(path, attr, getattr(_owner(scene, path), attr)) for path, attr in _LOOK_SETTINGS]


def _restore_look(scene: bpy.types.Scene, saved: list) -> None:
    for path, attr, value in saved:
        try:
            setattr(_owner(scene, path), attr, value)
        except (AttributeError, TypeError, ValueError):
            pass


def _pass_through(scene: bpy.types.Scene, strip) -> None:
    """Sequencer and colour settings under which the PNGs' bytes reach the encoder unchanged: the
    pictures already went through the scene's view transform when they were rendered."""
    _colour_management(scene)
    for owner, value in ((scene.sequencer_colorspace_settings, "sRGB"), (strip.colorspace_settings, "sRGB")):
        try:
            owner.name = value
        except TypeError:  # a custom OCIO configuration without it
            pass
    scene.render.dither_intensity = 0.0  # the bytes are already dithered once
    scene.render.use_sequencer = True


def _check_png(path: str, folder: str) -> None:
    """A complete PNG (its last chunk is IEND): a full disk leaves empty or cut files."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(size - 12, 0))
            tail = fh.read()
    except OSError as exc:
        raise NNCoreError(f"video: a rendered frame cannot be read ({exc.strerror or exc})") from None
    if size < 60 or tail[4:8] != b"IEND":
        raise NNCoreError(f"video: a rendered frame was not completely written{outputs.no_space_hint(folder)}")


# --------------------------------------------------------------------------------------------
# the soundtrack

#: Name of the sound strip the add-on puts into the scene's sequencer (one at most).
SOUND_STRIP = "NNA Soundtrack"
#: Audio files larger than this are refused (about 3 hours of 320 kb/s MP3, 30 min of CD-quality WAV).
MAX_AUDIO_BYTES = 400 * 1024 * 1024


def audio_seconds(path: str | os.PathLike) -> float:
    """The length of an audio file Blender can read (WAV, MP3, OGG, FLAC...), in seconds; else one line."""
    import stat

    p = os.path.abspath(os.path.expanduser(_blender_path(path)))
    shown = outputs.printable(p, 200)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise NNCoreError(f"audio: {shown}: no such file") from None
    except OSError as exc:
        raise NNCoreError(f"audio: {shown}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise NNCoreError(f"audio: {shown} is not a regular file")
    if st.st_size > MAX_AUDIO_BYTES:
        raise NNCoreError(
            f"audio: {shown} is {st.st_size / 2**20:.0f} MB, more than the {MAX_AUDIO_BYTES >> 20} MB limit"
        )
    if not compat.has_audio():
        raise NNCoreError(
            f"audio: this Blender {bpy.app.version_string} was built without sound support (Audaspace), so it "
            "cannot read or play an audio file; use Blender's own build, or the bpy module 4.5 or newer"
        )
    seconds = _probe_length(p)
    if seconds is None:
        raise NNCoreError(f"audio: {shown} is not a sound file Blender can read (WAV, MP3, OGG, FLAC)")
    return seconds


def _probe_length(path: str) -> float | None:
    """The sound's length in seconds as Blender's sequencer reads it (None if it cannot): a sound
    strip in a throwaway scene at 1000 fps, removed again. Not ``aud``: Blender builds without its
    Python module exist (Debian's), and the sequencer is what the video uses."""
    probe = bpy.data.scenes.new("NNA audio probe")
    try:
        probe.render.fps, probe.render.fps_base = 1000, 1.0
        strips = compat.sequencer_strips(probe, create=True)
        try:
            strip = strips.new_sound("NNA probe", path, 1, 1)
        except (RuntimeError, ValueError):
            return None
        sound, frames = strip.sound, strip.frame_final_duration
        strips.remove(strip)
        if sound is not None and sound.users == 0:
            bpy.data.sounds.remove(sound)
        return frames / 1000.0 if frames > 1 else None  # an unreadable file gives a 1-frame strip
    finally:
        bpy.data.scenes.remove(probe)


def soundtrack(scene: bpy.types.Scene):
    """The add-on's sound strip in ``scene`` (None if there is none)."""
    strips = compat.sequencer_strips(scene)
    return strips.get(SOUND_STRIP) if strips is not None else None


def set_soundtrack(scene: bpy.types.Scene, path: str | os.PathLike | None) -> float:
    """Put the audio file ``path`` into the scene's sequencer from its first frame (replacing the
    add-on's previous one), so it plays in the viewport, is saved in the .blend and goes into the
    video as AAC; ``None`` removes it. Returns the sound's length in seconds (0 without)."""
    seconds = audio_seconds(path) if path is not None else 0.0  # checked before anything changes
    old = soundtrack(scene)
    if old is not None:
        sound = old.sound
        compat.sequencer_strips(scene).remove(old)
        if sound is not None and sound.users == 0:
            bpy.data.sounds.remove(sound)
    if path is None:
        return 0.0
    p = os.path.abspath(os.path.expanduser(_blender_path(path)))
    strips = compat.sequencer_strips(scene, create=True)
    strip = strips.new_sound(SOUND_STRIP, p, 1, scene.frame_start)
    strip.sound.pack()  # inside the .blend: it plays (and renders) wherever the file goes
    return seconds


# --------------------------------------------------------------------------------------------
# stills


def render_stills(
    scene: bpy.types.Scene,
    folder: str | os.PathLike,
    prefix: str = "article",
    progress: Progress | None = None,
) -> list[str]:
    """Render ``{prefix}_before.png``, ``{prefix}_after.png`` and ``{prefix}_new_situation.png``.

    The frames are those the build recorded in scene.nna.still_* (mapped to the scene's frame
    rate if configure() changed it). Returns the three paths. All three are written under
    temporary names and renamed only once all have rendered.
    """
    if not scene.nna.build_id:
        raise NNCoreError("the scene has no network: build one before rendering stills")
    anim_frames = [getattr(scene.nna, f"still_{name}") for name in STILLS]
    folder = outputs.check_folder(_blender_path(folder), "stills")
    prefix = outputs.safe_name(prefix)
    _check_renderable(scene)

    frames = [_output_frame(scene, f) for f in anim_frames]
    finals = [os.path.join(folder, f"{prefix}_{name}.png") for name in STILLS]
    for f in finals:
        outputs.check_file(f, "stills", probe=False)
    size = _output_size(scene)
    saved = _save(scene)
    try:
        with outputs.atomic_files(finals, "stills", verify=lambda p: outputs.verify_png(p, size, "still")) as tmps:
            compat.set_image_output(scene, "PNG")
            ims = scene.render.image_settings
            ims.color_mode = "RGB"
            ims.color_depth = "8"
            ims.compression = 15
            scene.render.use_file_extension = True
            start = time.monotonic()
            for i, (frame, tmp) in enumerate(zip(frames, tmps), 1):
                scene.frame_set(frame)
                scene.render.filepath = tmp
                _render(scene, folder, write_still=True)
                if progress is not None:
                    progress(i, len(tmps), (time.monotonic() - start) / i * (len(tmps) - i))
    finally:
        _restore(scene, saved)
    return finals


# --------------------------------------------------------------------------------------------
# helpers


def _int(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise NNCoreError(f"{name} must be a whole number, not {value!r}")
    if not lo <= value <= hi:
        raise NNCoreError(f"{name} must be between {lo} and {hi}, not {value}")
    return int(value)


def _resolution(value) -> tuple[int, int]:
    try:
        w, h = value
    except (TypeError, ValueError):
        raise NNCoreError(f"resolution must be (width, height), not {value!r}") from None
    w, h = _int(w, "width", 1, MAX_SIZE), _int(h, "height", 1, MAX_SIZE)
    return w + w % 2, h + h % 2


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _set_range(scene: bpy.types.Scene, first: int, last: int) -> None:
    """Set the frame range in an order that Blender's start <= end clamping cannot spoil."""
    if first > scene.frame_end:
        scene.frame_end = last
        scene.frame_start = first
    else:
        scene.frame_start = first
        scene.frame_end = last


def _output_frame(scene: bpy.types.Scene, anim_frame: int) -> int:
    """The scene frame showing animation frame ``anim_frame`` under the scene's time remapping."""
    r = scene.render
    frame = _round(anim_frame * r.frame_map_new / r.frame_map_old)
    return min(max(frame, scene.frame_start), scene.frame_end)


def _frame_range(scene: bpy.types.Scene, frames) -> tuple[int, int]:
    lo, hi = scene.frame_start, scene.frame_end
    if frames is None:
        return lo, hi
    try:
        first, last = frames
    except (TypeError, ValueError):
        raise NNCoreError(f"frames must be (first, last), not {frames!r}") from None
    for f in (first, last):
        if isinstance(f, bool) or not isinstance(f, numbers.Integral):
            raise NNCoreError(f"frames must be whole numbers, not {frames!r}")
    if first > last:
        raise NNCoreError(f"bad frame range {first}-{last}: the first frame is after the last")
    if first < lo or last > hi:
        raise NNCoreError(f"frame range {first}-{last} is outside the scene's frames {lo}-{hi}")
    return int(first), int(last)


def _output_size(scene: bpy.types.Scene) -> tuple[int, int]:
    r = scene.render
    return r.resolution_x * r.resolution_percentage // 100, r.resolution_y * r.resolution_percentage // 100


def _check_even_size(scene: bpy.types.Scene) -> None:
    width, height = _output_size(scene)
    if width % 2 or height % 2:
        raise NNCoreError(f"H.264 needs an even frame size, not {width}x{height}: use configure() or an even size")


def _check_renderable(scene: bpy.types.Scene) -> None:
    if scene.camera is None:
        raise NNCoreError("the scene has no camera to render from")


def _blender_path(path) -> str:
    """``path`` with Blender's ``//`` (relative to the .blend) resolved; other checks in nncore.outputs."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise NNCoreError(f"not a file path: {path!r:.60}") from None
    return bpy.path.abspath(p) if p.startswith("//") else p


def _render(scene: bpy.types.Scene, folder: str, **kwargs) -> None:
    keep_freed_memory()
    try:
        result = bpy.ops.render.render(scene=scene.name, **kwargs)
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = outputs.no_space_hint(folder)
        raise NNCoreError(f"render failed: {outputs.printable(message.removeprefix('Error: '))}{hint}") from exc
    if "FINISHED" not in result:
        raise NNCoreError("render was cancelled")


def _owner(scene: bpy.types.Scene, path: str):
    return functools.reduce(getattr, path.split("."), scene) if path else scene


def _save(scene: bpy.types.Scene) -> dict:
    values = [(path, attr, getattr(_owner(scene, path), attr)) for path, attr in compat.OUTPUT_SETTINGS]
    return {"values": values, "range": (scene.frame_start, scene.frame_end), "frame": scene.frame_current}


def _restore(scene: bpy.types.Scene, saved: dict) -> None:
    """Best effort: one setting that cannot be set back must not hide the render's own error."""
    for path, attr, value in saved["values"]:
        try:
            setattr(_owner(scene, path), attr, value)
        except (AttributeError, TypeError, ValueError):
            pass
    _set_range(scene, *saved["range"])
    if scene.frame_current != saved["frame"]:
        scene.frame_set(saved["frame"])
