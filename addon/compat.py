"""Everything that differs between the supported Blender versions (4.2 LTS to 5.0), in one place.

Versions are compared as tuples. Callers never look at ``bpy.app.version`` themselves.
"""

from __future__ import annotations

import bpy

VERSION: tuple[int, int, int] = tuple(bpy.app.version)  # type: ignore[assignment]

#: Eevee's engine id: 4.2-4.5 call the new Eevee "BLENDER_EEVEE_NEXT"; 5.0 renamed it back.
EEVEE = "BLENDER_EEVEE" if VERSION >= (5, 0, 0) else "BLENDER_EEVEE_NEXT"

#: Layered actions with slots (4.4+); Action.fcurves is gone in 5.0.
LAYERED_ACTIONS = VERSION >= (4, 4, 0)


def new_action_fcurves(id_data: bpy.types.ID, name: str, channels: list[tuple[str, int]]) -> list[bpy.types.FCurve]:
    """Give ``id_data`` a new action holding one empty F-curve per ``(data_path, index)``."""
    ad = id_data.animation_data_create()
    action = bpy.data.actions.new(name)
    if LAYERED_ACTIONS:
        slot = action.slots.new(id_type=id_data.id_type, name=id_data.name)
        strip = action.layers.new("Layer").strips.new(type="KEYFRAME")
        bag = strip.channelbag(slot, ensure=True)
        ad.action = action
        ad.action_slot = slot
        return [bag.fcurves.new(path, index=index) for path, index in channels]
    ad.action = action
    return [action.fcurves.new(path, index=index) for path, index in channels]


def action_fcurves(action: bpy.types.Action) -> list[bpy.types.FCurve]:
    """All F-curves of an action, on every version."""
    if LAYERED_ACTIONS:
        return [
            fc for layer in action.layers for strip in layer.strips for bag in strip.channelbags for fc in bag.fcurves
        ]
    return list(action.fcurves)


def use_compositor(scene: bpy.types.Scene) -> bpy.types.NodeTree:
    """The scene's compositor node tree, made empty (5.0 uses a node group, earlier versions scene.node_tree)."""
    if VERSION >= (5, 0, 0):
        tree = scene.compositing_node_group
        if tree is None:
            tree = bpy.data.node_groups.new(f"NNA Compositor {scene.name}", "CompositorNodeTree")
            scene.compositing_node_group = tree
        return tree
    scene.use_nodes = True
    return scene.node_tree


def set_video_output(scene: bpy.types.Scene) -> None:
    """H.264 in an MP4 container through Blender's FFmpeg."""
    settings = scene.render.image_settings
    if VERSION >= (5, 0, 0):
        settings.media_type = "VIDEO"
    settings.file_format = "FFMPEG"
    ff = scene.render.ffmpeg
    ff.format = "MPEG4"
    ff.codec = "H264"


def set_image_output(scene: bpy.types.Scene, fmt: str = "PNG") -> None:
    settings = scene.render.image_settings
    if VERSION >= (5, 0, 0):
        settings.media_type = "IMAGE"
    settings.file_format = fmt


def ensure_node_tree(idb: bpy.types.Material | bpy.types.World) -> bpy.types.NodeTree:
    """The shader node tree of a material or world (5.0 always has one; ``use_nodes`` is deprecated)."""
    if idb.node_tree is None:
        idb.use_nodes = True
    return idb.node_tree
