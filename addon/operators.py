"""Operators: thin shells over the Python API (train with nncore, build with scene.py)."""

from __future__ import annotations

import time

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..nncore import plan as plan_io
from ..nncore import presets as nn_presets
from ..nncore.errors import NNCoreError
from . import scene as nna_scene
from .properties import settings_from


def _finish_build(op, context, plan: dict) -> set[str]:
    """Build the scene from a plan; report and summarise. Shared by every operator."""
    wm = context.window_manager
    wm.progress_begin(0, 100)
    try:
        res = nna_scene.build_network(plan, context.scene, progress=lambda f, t: wm.progress_update(int(100 * f)))
    except NNCoreError as exc:
        op.report({"ERROR"}, str(exc))
        return {"CANCELLED"}
    finally:
        wm.progress_end()
    summary = nn_presets.describe(plan)
    context.scene.nna.summary = summary
    op.report({"INFO"}, f"Built {res.n_neurons} neurons and {res.n_synapses} synapses; {summary}")
    return {"FINISHED"}


def _status(context, text: str | None) -> None:
    ws = getattr(context, "workspace", None)
    if ws is not None:
        ws.status_text_set(text)


class NNA_OT_build_network(bpy.types.Operator):
    """Train the network set up in the panel and build its animated 3-D scene"""

    bl_idname = "nna.build_network"
    bl_label = "Build network"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _gen = None
    _cycles = 0

    def _start(self, context):
        s = settings_from(context.scene.nna)
        nna_scene.check_size(s.layers)
        self._cycles = s.cycles
        return nn_presets.iter_make_plan(s)

    def execute(self, context):
        try:
            gen = self._start(context)
            plan = nn_presets.make_plan_from(gen)
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return _finish_build(self, context, plan)

    def invoke(self, context, event):
        if context.window is None or bpy.app.background:
            return self.execute(context)
        try:
            self._gen = self._start(context)
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.progress_begin(0, 100)
        wm.modal_handler_add(self)
        _status(context, "Training... (Esc to cancel)")
        return {"RUNNING_MODAL"}

    def _stop(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        _status(context, None)

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
                context.window_manager.progress_update(int(100 * done / max(self._cycles, 1)))
                _status(context, f"Training: cycle {done:,} of {self._cycles:,} (Esc to cancel)")
        except StopIteration as stop:
            self._stop(context)
            return _finish_build(self, context, stop.value)
        except NNCoreError as exc:
            self._stop(context)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return {"RUNNING_MODAL"}


class NNA_OT_load_plan(bpy.types.Operator, ImportHelper):
    """Build the animated network from a keyframe plan file (.json) written by nncore"""

    bl_idname = "nna.load_plan"
    bl_label = "Load plan..."
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        try:
            plan = plan_io.load(bpy.path.abspath(self.filepath))
            nna_scene.check_size(plan["network"]["layers"])
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        return _finish_build(self, context, plan)


class NNA_OT_load_preset(bpy.types.Operator):
    """Reset the panel's fields to the chosen preset's values"""

    bl_idname = "nna.load_preset"
    bl_label = "Reset to preset"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        from .properties import load_preset

        load_preset(context.scene.nna, context.scene.nna.preset)
        return {"FINISHED"}


CLASSES = (NNA_OT_build_network, NNA_OT_load_plan, NNA_OT_load_preset)
