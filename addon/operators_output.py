"""Render video, render stills, export glTF: thin operators over render.py and export_gltf.py."""

from __future__ import annotations

import os

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..nncore.errors import NNCoreError

QUALITY_ITEMS = [
    ("preview", "Preview", "640x360, fast"),
    ("final", "Final", "1280x720, more samples"),
]


def _has_network(context) -> bool:
    return bool(context.scene.get("nna_build_id"))


class NNA_OT_render_video(bpy.types.Operator, ExportHelper):
    """Render the network's animation to an H.264 .mp4 with Eevee"""

    bl_idname = "nna.render_video"
    bl_label = "Render video"
    filename_ext = ".mp4"
    filter_glob: StringProperty(default="*.mp4", options={"HIDDEN"})
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="preview")

    @classmethod
    def poll(cls, context):
        return _has_network(context)

    def execute(self, context):
        from . import render

        path = bpy.path.abspath(self.filepath)
        try:
            render.configure(context.scene, self.quality)
            if context.window is not None and not bpy.app.background:
                # Blender's own animation render: its progress, its Esc, the UI stays alive
                render.prepare_video_output(context.scene, path)
                bpy.ops.render.render("INVOKE_DEFAULT", animation=True)
                return {"FINISHED"}
            render.render_video(context.scene, path)
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Wrote {path}")
        return {"FINISHED"}


class NNA_OT_render_stills(bpy.types.Operator):
    """Render the three stills (before training, after training, new situation) as PNG"""

    bl_idname = "nna.render_stills"
    bl_label = "Render stills"
    directory: StringProperty(subtype="DIR_PATH")
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="final")

    @classmethod
    def poll(cls, context):
        return _has_network(context)

    def invoke(self, context, event):
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        from . import render

        folder = bpy.path.abspath(self.directory) or os.getcwd()
        wm = context.window_manager
        wm.progress_begin(0, 3)
        try:
            render.configure(context.scene, self.quality)
            paths = render.render_stills(
                context.scene, folder, prefix=_prefix(context), progress=lambda i, n, eta: wm.progress_update(i)
            )
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        finally:
            wm.progress_end()
        self.report({"INFO"}, f"Wrote {len(paths)} stills to {folder}")
        return {"FINISHED"}


class NNA_OT_export_gltf(bpy.types.Operator, ExportHelper):
    """Export the network and its animation as a glTF binary (.glb)"""

    bl_idname = "nna.export_gltf"
    bl_label = "Export glTF"
    filename_ext = ".glb"
    filter_glob: StringProperty(default="*.glb", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        return _has_network(context)

    def execute(self, context):
        from . import export_gltf

        path = bpy.path.abspath(self.filepath)
        wm = context.window_manager
        wm.progress_begin(0, 100)
        try:
            export_gltf.export_glb(context.scene, path, progress=lambda f, text: wm.progress_update(int(100 * f)))
        except NNCoreError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        finally:
            wm.progress_end()
        self.report({"INFO"}, f"Wrote {path}")
        return {"FINISHED"}


def _prefix(context) -> str:
    coll = next(
        (c for c in context.scene.collection.children if c.get("nna_build") == context.scene.get("nna_build_id")), None
    )
    name = coll.name if coll else ""
    return name[name.find("(") + 1 : name.find(")")] if "(" in name else "network"


CLASSES = (NNA_OT_render_video, NNA_OT_render_stills, NNA_OT_export_gltf)
