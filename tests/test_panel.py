"""The sidebar panel draws every field of Scene.nna and every operator that exists.

Panels cannot draw in background mode, so draw() is run against a recording stand-in for the
layout; every property and operator it names is then checked against Blender's own registry.
"""

from __future__ import annotations

from importlib import import_module

from conftest import ADDON_MODULE


class Recorder:
    def __init__(self, log):
        self.log = log
        self.use_property_split = self.use_property_decorate = False

    def _child(self, *args, **kwargs):
        return Recorder(self.log)

    row = column = box = _child

    def prop(self, data, name, **kwargs):
        self.log.append(("prop", data, name))

    def operator(self, idname, **kwargs):
        self.log.append(("operator", None, idname))

    def label(self, **kwargs):
        self.log.append(("label", None, kwargs.get("text", "")))


def draw(panel_cls, context):
    log = []
    sidebar = import_module(f"{ADDON_MODULE}.addon.panel")._Sidebar
    stand_in = type("P", (sidebar,), {"layout": Recorder(log)})()
    panel_cls.draw(stand_in, context)
    return log


def test_panels_draw_real_properties_and_operators(bpy_env):
    bpy = bpy_env
    panel = import_module(f"{ADDON_MODULE}.addon.panel")
    ctx = bpy.context
    log = []
    for cls in panel.CLASSES:
        assert cls.bl_space_type == "VIEW_3D" and cls.bl_region_type == "UI" and cls.bl_category == "NN Animator"
        log += draw(cls, ctx)
    props = {name for kind, _, name in log if kind == "prop"}
    ops = {name for kind, _, name in log if kind == "operator"}
    rna = ctx.scene.nna.bl_rna.properties
    assert props <= set(rna.keys()), props - set(rna.keys())
    for name in ("preset", "layers", "activation", "bias", "learning_rate", "cycles", "seed", "show", "query", "fps"):
        assert name in props, name
    for op in ops:
        group, name = op.split(".")
        assert getattr(getattr(bpy.ops, group), name).get_rna_type().identifier  # raises if unknown
    assert {"nna.build_network", "nna.load_plan", "nna.render_video", "nna.render_stills", "nna.export_gltf"} <= ops
    # the CSV field appears only for the CSV preset; the summary after a build
    ctx.scene.nna.preset = "csv"
    assert ("prop", ctx.scene.nna, "csv_path") in draw(panel.NNA_PT_main, ctx)
    ctx.scene.nna.preset = "article"
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    labels = [text for kind, _, text in draw(panel.NNA_PT_main, ctx) if kind == "label"]
    assert any("0.0133" in t for t in labels), labels


def test_the_digits_preset_from_the_panel(bpy_env):
    bpy = bpy_env
    pg = bpy.context.scene.nna
    pg.preset = "digits"
    assert pg.layers == "64,16,10" and pg.bias
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    assert "test accuracy" in net.nna.summary
    assert sum(1 for o in net.objects if o.name.startswith("NNA Class")) == 10  # the outputs labelled 0-9
