"""Render video, render stills, export glTF: thin operators over render.py and export_gltf.py.

They work on the scene that holds the network (the window's, else the add-on's own "NN Animator"
scene), check the output path before changing anything, and report one line: what was written
(verified) or why not.
"""

from __future__ import annotations

import os
import traceback

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..nncore import outputs
from ..nncore.errors import NNCoreError
from . import scene as nna_scene
from .properties import QUALITY_ITEMS, SHAPE_ITEMS


def one_line(exc: BaseException) -> str:
    """An exception as one line for a report: our own errors as they are, others with their type."""
    if isinstance(exc, NNCoreError):
        return outputs.printable(exc, 300)
    first = (str(exc).strip().splitlines() or [""])[0].removeprefix("Error: ")
    return outputs.printable(f"{type(exc).__name__}: {first}" if first else type(exc).__name__, 300)


def report_failure(op, what: str, exc: BaseException) -> set[str]:
    """Report ``exc`` in one line (a full traceback goes to the console for bug reports)."""
    if not isinstance(exc, NNCoreError):
        traceback.print_exc()
        op.report({"ERROR"}, f"{what} failed: {one_line(exc)}")
    else:
        op.report({"ERROR"}, one_line(exc))
    return {"CANCELLED"}


def _network(context):
    return nna_scene.find_built_scene(context)


def _render_settings(op, context, sc) -> dict:
    """What to render with: the operator's quality and frame shape if set, else the panel's; the
    panel's camera and depth of field."""
    pg = context.scene.nna
    return {
        "quality": op.quality if op.properties.is_property_set("quality") else pg.quality,
        "shape": op.shape if op.properties.is_property_set("shape") else pg.frame_shape,
        "camera_mode": pg.camera_mode,
        "dof": pg.dof and pg.camera_mode != "front",
    }


class NNA_OT_render_video(bpy.types.Operator, ExportHelper):
    """Render the network's animation to an H.264 .mp4 with Eevee"""

    bl_idname = "nna.render_video"
    bl_label = "Render video"
    filename_ext = ".mp4"
    filter_glob: StringProperty(default="*.mp4", options={"HIDDEN"})
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="preview")
    shape: EnumProperty(name="Frame", items=SHAPE_ITEMS, default="16:9")

    _job = None
    _timer = None

    @classmethod
    def poll(cls, context):
        return _network(context) is not None

    def execute(self, context):
        from . import render

        sc = _network(context)
        settings = _render_settings(self, context, sc)
        interactive = context.window is not None and not bpy.app.background
        try:
            path = render.video_path(self.filepath)  # checked before any setting changes
            render.configure(sc, settings.pop("quality"), **settings)
            if interactive:
                nna_scene.show_scene(context, sc)
                job = render.InteractiveVideo(sc, path)
                job.start()
                self._job = job
                wm = context.window_manager
                self._timer = wm.event_timer_add(0.25, window=context.window)
                wm.modal_handler_add(self)
                return {"RUNNING_MODAL"}
            render.render_video(sc, path)
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Render video", exc)
        self.report({"INFO"}, f"Wrote {outputs.printable(path, 200)}")
        return {"FINISHED"}

    def modal(self, context, event):
        job = self._job
        if event.type != "TIMER" or job.state == "running":
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        self._timer = None
        try:
            path = job.finish()
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Render video", exc)
        if job.state != "complete":
            self.report({"WARNING"}, "Render cancelled; no video written")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {outputs.printable(path, 200)} ({job.n} frames)")
        return {"FINISHED"}


class _IntoFolder:
    """An output operator that needs a built network and asks for a folder (``directory``)."""

    directory: StringProperty(subtype="DIR_PATH")

    @classmethod
    def poll(cls, context):
        return _network(context) is not None

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}


class NNA_OT_render_stills(_IntoFolder, bpy.types.Operator):
    """Render the three stills (before training, after training, new situation) as PNG"""

    bl_idname = "nna.render_stills"
    bl_label = "Render stills"
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="final")
    shape: EnumProperty(name="Frame", items=SHAPE_ITEMS, default="16:9")

    def execute(self, context):
        from . import render

        sc = _network(context)
        settings = _render_settings(self, context, sc)
        wm = context.window_manager
        wm.progress_begin(0, 3)
        try:
            folder = outputs.check_folder(bpy.path.abspath(self.directory) or os.getcwd(), "stills")
            render.configure(sc, settings.pop("quality"), **settings)
            paths = render.render_stills(
                sc, folder, prefix=sc.nna.built_preset or "network", progress=lambda i, n, eta: wm.progress_update(i)
            )
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Render stills", exc)
        finally:
            wm.progress_end()
        self.report({"INFO"}, f"Wrote {len(paths)} stills to {outputs.printable(folder, 200)}")
        return {"FINISHED"}


class NNA_OT_export_gltf(bpy.types.Operator, ExportHelper):
    """Export the network and its animation as a glTF binary (.glb)"""

    bl_idname = "nna.export_gltf"
    bl_label = "Export glTF"
    filename_ext = ".glb"
    filter_glob: StringProperty(default="*.glb", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return _network(context) is not None

    def execute(self, context):
        from . import export_gltf

        wm = context.window_manager
        wm.progress_begin(0, 100)
        try:
            path = export_gltf.export_glb(
                _network(context), self.filepath, progress=lambda f, text: wm.progress_update(int(100 * f))
            )
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Export glTF", exc)
        finally:
            wm.progress_end()
        self.report({"INFO"}, f"Wrote {outputs.printable(path, 200)}")
        return {"FINISHED"}


class NNA_OT_export_web(_IntoFolder, bpy.types.Operator):
    """Write the network's animation as a web page (index.html, its viewer and data) into a folder"""

    bl_idname = "nna.export_web"
    bl_label = "Export web page"

    def execute(self, context):
        from . import operators, web

        sc = _network(context)
        try:
            plan = operators.PLANS.get(sc.nna.build_id)
            if plan is None:
                raise NNCoreError(
                    "web page: the plan of this network is not in memory: Build network (or Load plan) again"
                )
            folder = bpy.path.abspath(self.directory) or os.getcwd()
            paths = web.write_web(plan, folder)
        except Exception as exc:  # noqa: BLE001
            return report_failure(self, "Export web page", exc)
        self.report({"INFO"}, f"Wrote {outputs.printable(os.path.dirname(paths[0]), 200)}/index.html")
        return {"FINISHED"}


CLASSES = (NNA_OT_render_video, NNA_OT_render_stills, NNA_OT_export_gltf, NNA_OT_export_web)
