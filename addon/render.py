"""Render the built network: settings, the H.264 video and the article's three stills.

The add-on's plain-Python rendering API; operators and the command line call only these:

- :func:`configure` sets the engine, size, samples, bloom, colour management and (optionally) the
  frame rate. It is idempotent.
- :func:`render_video` renders the scene's frame range (or part of it) to an .mp4.
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
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from fractions import Fraction

import bpy

from ..nncore import outputs
from ..nncore.errors import NNCoreError
from . import camera_moves, compat

#: progress(frames_done, n_frames, seconds_left_estimate), called after every rendered frame.
Progress = Callable[[int, int, float], None]

#: Render presets. Everything glows by emission, so shadows and ray tracing are off in both.
#: Measured (bpy 5.0.1, article network, 2 CPU cores, software OpenGL, idle machine), seconds per frame:
#: 640x360 at 1/2/4 samples 0.28/0.34/0.47; 1280x720 at 1/8/16 samples 0.59/2.1/3.9. At preview most of
#: the time is fixed per-frame work (scene update incl. the text labels' Geometry Nodes, Eevee set-up),
#: and 1 sample differs from 4 only in slightly jaggier thin synapses.
QUALITY: dict[str, dict] = {
    "preview": {"resolution": (640, 360), "samples": 1, "bloom_quality": "MEDIUM", "video_crf": "MEDIUM"},
    # 8 samples: 48.9 dB PSNR against a 32-sample reference at 0.56x the time of 16 (54.4 dB); 4 samples
    # fall to 42.8 dB, where thin synapses visibly crawl (bpy 5.0.1, article network, 1280x720)
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
) -> str:
    """Render ``frames`` (first, last; default: the scene's range) to an H.264 .mp4; return its path.

    ``path`` gets ".mp4" appended if it has no extension. The folder must exist and be writable.
    The video is written to a temporary name next to ``path`` and renamed when complete; on any
    failure, an exception from ``progress``, or Ctrl-C, it is removed and the exception re-raised.
    """
    final = video_path(path)
    first, last = _frame_range(scene, frames)
    _check_renderable(scene)
    _check_even_size(scene)

    n = last - first + 1
    saved = _save(scene)
    watch = _Watch(n, progress)
    try:
        audio = soundtrack(scene) is not None
        with outputs.atomic_file(final, "video", verify=lambda p: outputs.verify_mp4(p, n, audio=audio)) as tmp:
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
