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
        pg = context.scene.nna
        layout = self.split_layout()
        row = layout.row(align=True)
        row.prop(pg, "preset")
        row.operator("nna.load_preset", text="", icon="LOOP_BACK")
        if pg.preset == "csv":
            layout.prop(pg, "csv_path")
        col = layout.column(heading="Network")
        col.prop(pg, "layers")
        col.prop(pg, "activation")
        col.prop(pg, "bias")
        col = layout.column(heading="Training")
        col.prop(pg, "learning_rate")
        col.prop(pg, "cycles")
        col.prop(pg, "batch")
        col.prop(pg, "seed")
        col.prop(pg, "show")
        col.prop(pg, "query")
        layout.operator("nna.build_network", icon="PLAY")
        layout.operator("nna.load_plan", icon="FILEBROWSER")
        if pg.summary:
            box = layout.box()
            for part in pg.summary.split("; "):
                box.label(text=part)
        col = layout.column(align=True)
        col.operator("nna.render_video", icon="RENDER_ANIMATION")
        col.operator("nna.render_stills", icon="RENDER_STILL")
        col.operator("nna.export_gltf", icon="EXPORT")


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


CLASSES = (NNA_PT_main, NNA_PT_timing)
