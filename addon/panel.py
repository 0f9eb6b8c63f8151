"""View3D > Sidebar > NN Animator."""

from __future__ import annotations

import bpy


class _Sidebar:
    """Where both panels live, and their layout style."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "NN Animator"

    def split_layout(self):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        return layout


class NNA_PT_main(_Sidebar, bpy.types.Panel):
    bl_idname = "NNA_PT_main"
    bl_label = "Neural Network Animator"

    def draw(self, context):
        from . import operators
        from .scene import find_built_scene

        pg = context.scene.nna
        layout = self.split_layout()
        row = layout.row(align=True)
        row.prop(pg, "preset")
        row.operator("nna.load_preset", text="", icon="LOOP_BACK")
        if pg.preset == "csv":
            layout.prop(pg, "csv_path")
        layout.label(text="Network", icon="OUTLINER_DATA_LIGHTPROBE")
        col = layout.column()
        col.prop(pg, "layers")
        col.prop(pg, "activation")
        col.prop(pg, "bias")
        layout.label(text="Training", icon="MOD_TIME")
        col = layout.column()
        col.prop(pg, "learning_rate")
        col.prop(pg, "cycles")
        col.prop(pg, "batch")
        col.prop(pg, "seed")
        col.prop(pg, "show")
        col.prop(pg, "query")
        if operators.building():
            layout.progress(factor=operators.PROGRESS["factor"], type="BAR", text=operators.PROGRESS["text"])
            layout.label(text="Esc cancels the training", icon="INFO")
        else:
            layout.operator("nna.build_network", icon="PLAY")
        layout.operator("nna.load_plan", icon="FILEBROWSER")
        built = find_built_scene(context)
        if built is not None and built.nna.summary:
            box = layout.box()
            box.use_property_split = False
            if built != context.scene:
                box.label(text=f"Network in scene {built.name!r}", icon="SCENE_DATA")
            for part in built.nna.summary.split("; "):
                for line in _wrap(part, max(16, int(context.region.width / 7.5) if context.region else 40)):
                    box.label(text=line)
        layout.label(text="Output", icon="OUTPUT")
        col = layout.column()
        col.prop(pg, "quality")
        col.prop(pg, "frame_shape")
        col.prop(pg, "camera_mode")
        if pg.camera_mode != "front":
            col.prop(pg, "dof")
        col = layout.column(align=True)
        col.operator("nna.render_video", icon="RENDER_ANIMATION")
        col.operator("nna.render_stills", icon="RENDER_STILL")
        col.operator("nna.export_gltf", icon="EXPORT")
        col.operator("nna.export_web", icon="WORLD")


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces (labels do not wrap)."""
    import textwrap

    return textwrap.wrap(text, width=width, break_long_words=True) or [""]


class NNA_PT_timing(_Sidebar, bpy.types.Panel):
    bl_idname = "NNA_PT_timing"
    bl_label = "Timing"
    bl_parent_id = "NNA_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        pg = context.scene.nna
        layout = self.split_layout()
        layout.prop(pg, "fps")
        layout.prop(pg, "forward_seconds")
        layout.prop(pg, "backward_seconds")
        layout.prop(pg, "hold_seconds")
        layout.label(text="Fit to music", icon="SOUND")
        layout.prop(pg, "duration")
        layout.prop(pg, "fit")
        layout.prop(pg, "audio_path")
        row = layout.row()
        row.enabled = bool(pg.audio_path)
        row.operator("nna.fit_to_audio", icon="SOUND")


CLASSES = (NNA_PT_main, NNA_PT_timing)
