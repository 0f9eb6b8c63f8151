"""Operators: thin shells over the Python API (train with nncore, build with scene.py)."""

from __future__ import annotations

import time

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..nncore import limits, outputs
from ..nncore import plan as plan_io
from ..nncore import presets as nn_presets
from ..nncore.errors import NNCoreError
from . import scene as nna_scene
from .operators_output import report_failure
from .properties import settings_from

#: The running build's progress, for the panel's progress bar (not saved, not undone): None when idle.
PROGRESS: dict = {"factor": None, "text": ""}
#: The plan of the latest build, by build id, for Export web page (the plan is not stored in the file:
#: after reopening a .blend, build again to export the page).
PLANS: dict = {}


def _set_progress(context, factor: float | None, text: str = "") -> None:
    PROGRESS["factor"], PROGRESS["text"] = factor, text
    context.window_manager.progress_update(int(100 * (factor or 0)))
    ws = getattr(context, "workspace", None)
    if ws is not None:
        ws.status_text_set(f"{text} (Esc to cancel)" if factor is not None and text else None)
    screen = getattr(context, "screen", None)
    for area in screen.areas if screen is not None else ():
        if area.type == "VIEW_3D":  # only the sidebar: a software-GL viewport redraw costs 0.2-0.5 s
            for region in area.regions:
                if region.type == "UI":
                    region.tag_redraw()


def building() -> bool:
    """Whether a Build network is running (training in its modal operator)."""
    return PROGRESS["factor"] is not None


def _finish_build(op, context, plan: dict) -> set[str]:
    """Build the plan in the add-on's own scene and show it; report and summarise. Shared by every operator.

    Any failure is reported in one line; the previous network (and the user's scene) stay as they were.
    """
    wm = context.window_manager
    wm.progress_begin(0, 100)
    made = None
    try:
        target = nna_scene.network_scene(context, create=False)
        if target is None:
            target = made = nna_scene.network_scene(context)
        res = nna_scene.build_network(
            plan, target, progress=lambda f, t: _set_progress(context, 0.9 + 0.1 * f, f"Building: {t}")
        )
    except Exception as exc:  # noqa: BLE001  (any failure: one line, the scene as it was)
        if made is not None:
            bpy.data.scenes.remove(made)
        return report_failure(op, "Build network", exc)
    finally:
        wm.progress_end()
        _set_progress(context, None)
    nna_scene.show_scene(context, target)
    PLANS.clear()
    PLANS[res.build_id] = plan
    audio = context.scene.nna.audio_path or target.nna.audio_path
    if audio:
        from . import render

        try:
            render.set_soundtrack(target, bpy.path.abspath(audio))
        except Exception as exc:  # noqa: BLE001  (the network is built; say why the sound is missing)
            op.report({"WARNING"}, f"Built, but without the soundtrack: {outputs.printable(exc, 200)}")
    summary = nn_presets.describe(plan)
    target.nna.summary = summary
    op.report({"INFO"}, f"Built {res.n_neurons} neurons and {res.n_synapses} synapses in scene {target.name!r}")
    return {"FINISHED"}


class NNA_OT_build_network(bpy.types.Operator):
    """Train the network set up in the panel and build its animated 3-D scene"""

    bl_idname = "nna.build_network"
    bl_label = "Build network"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _gen = None
    _cycles = 0

    def _start(self, context):
        pg = context.scene.nna
        if pg.audio_path:
            from . import render

            render.audio_seconds(bpy.path.abspath(pg.audio_path))  # a bad soundtrack: refused before training
        s = settings_from(pg)
        nn_presets.check_buildable(s)  # every limit (scene size included) before training
        self._cycles = s.cycles
        return nn_presets.iter_make_plan(s)

    def execute(self, context):
        if building():
            return self._refuse_second()
        try:
            gen = self._start(context)
            plan = nn_presets.make_plan_from(gen)
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Build network", exc)
        return _finish_build(self, context, plan)

    def _refuse_second(self) -> set[str]:
        self.report({"WARNING"}, "A build is already running: wait for it, or press Esc to cancel it")
        return {"CANCELLED"}

    def invoke(self, context, event):
        if context.window is None or bpy.app.background:
            return self.execute(context)
        if building():
            return self._refuse_second()
        try:
            self._gen = self._start(context)
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Build network", exc)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.progress_begin(0, 100)
        wm.modal_handler_add(self)
        _set_progress(context, 0.0, "Training")
        return {"RUNNING_MODAL"}

    def _stop(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        _set_progress(context, None)

    def modal(self, context, event):
        if event.type == "ESC":
            self._gen.close()
            self._stop(context)
            self.report({"WARNING"}, "Training cancelled; the scene is unchanged")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        t_end = time.perf_counter() + 0.1  # stay responsive: ~0.1 s of training per timer tick
        try:
            while time.perf_counter() < t_end:
                done = next(self._gen)
            _set_progress(context, 0.9 * done / max(self._cycles, 1), f"Training: cycle {done:,} of {self._cycles:,}")
        except StopIteration as stop:
            self._stop(context)
            return _finish_build(self, context, stop.value)
        except Exception as exc:  # noqa: BLE001
            self._stop(context)
            return report_failure(self, "Build network", exc)
        return {"RUNNING_MODAL"}


class NNA_OT_load_plan(bpy.types.Operator, ImportHelper):
    """Build the animated network from a keyframe plan file (.json) written by nncore"""

    bl_idname = "nna.load_plan"
    bl_label = "Load plan..."
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        if building():
            self.report({"WARNING"}, "A build is already running: wait for it, or press Esc to cancel it")
            return {"CANCELLED"}
        try:
            plan = plan_io.load(bpy.path.abspath(self.filepath))
            limits.check_buildable_plan(plan)
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Load plan", exc)
        return _finish_build(self, context, plan)


class NNA_OT_fit_to_audio(bpy.types.Operator):
    """Set the duration to the soundtrack's length, so the next build lasts exactly as long as the music"""

    bl_idname = "nna.fit_to_audio"
    bl_label = "Fit to audio"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from . import render

        pg = context.scene.nna
        try:
            if not pg.audio_path:
                raise NNCoreError("audio: choose an audio file first")
            seconds = render.audio_seconds(bpy.path.abspath(pg.audio_path))
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Fit to audio", exc)
        pg.duration = seconds
        self.report({"INFO"}, f"Duration {seconds:.2f} s: Build network to fit the timeline to the music")
        return {"FINISHED"}


class NNA_OT_load_preset(bpy.types.Operator):
    """Reset the panel's fields to the chosen preset's values"""

    bl_idname = "nna.load_preset"
    bl_label = "Reset to preset"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from .properties import load_preset

        load_preset(context.scene.nna, context.scene.nna.preset)
        return {"FINISHED"}


CLASSES = (NNA_OT_build_network, NNA_OT_load_plan, NNA_OT_fit_to_audio, NNA_OT_load_preset)
