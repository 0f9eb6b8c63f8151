"""Everything that differs between the supported Blender versions (4.2 LTS to 5.0), in one place.

Versions are compared as tuples. Callers never look at ``bpy.app.version`` themselves.
"""

from __future__ import annotations

import math

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


# --------------------------------------------------------------------------------------------
# rendering (used by render.py)

#: Custom property marking the compositor node group render.py made (5.0), so it is reused, not stacked.
COMPOSITOR_TAG = "nna_compositor"


def bloom_compositor(
    scene: bpy.types.Scene, *, threshold: float, size: float, quality: str, strength: float = 1.0
) -> bpy.types.NodeTree:
    """Make the scene's compositor exactly Render Layers -> Glare (Bloom) -> output; idempotent.

    ``size`` is the bloom's size relative to the image (0..1), ``quality`` one of LOW, MEDIUM,
    HIGH, ``strength`` 1 adds the bloom on top of the image. Existing compositor nodes are replaced.

    4.2: ``scene.use_nodes`` + ``scene.node_tree`` with a Composite node; Glare settings are node
    properties (``mix`` 0 adds the glare; ``size`` an integer 6-9, each step doubling the size). 4.2's
    bloom is stronger at equal settings: size 6 there looks like size 0.5 in 4.5+ (measured: both add
    about 15-40% light around the bright parts, size 8 in 4.2 adds 85% and hazes the background).
    4.5: same tree, but threshold, strength and size are input sockets (the properties are deprecated).
    5.0: ``scene.compositing_node_group`` (a CompositorNodeTree with a Group Output) and even the
    glare type and quality are menu input sockets ("Bloom", "Low"/"Medium"/"High").
    """
    if VERSION >= (5, 0, 0):
        tree = scene.compositing_node_group
        if tree is None or not tree.get(COMPOSITOR_TAG) or tree.users > 1:
            tree = bpy.data.node_groups.new("NNA Bloom", "CompositorNodeTree")
            tree[COMPOSITOR_TAG] = True
            scene.compositing_node_group = tree
        tree.nodes.clear()
        outputs = [it for it in tree.interface.items_tree if it.item_type == "SOCKET" and it.in_out == "OUTPUT"]
        if not outputs:
            tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        out = tree.nodes.new("NodeGroupOutput")
    else:
        scene.use_nodes = True
        tree = scene.node_tree
        tree[COMPOSITOR_TAG] = True
        tree.nodes.clear()
        out = tree.nodes.new("CompositorNodeComposite")
    scene.render.use_compositing = True
    layers = tree.nodes.new("CompositorNodeRLayers")
    layers.scene = scene
    glare = tree.nodes.new("CompositorNodeGlare")
    glare.name = glare.label = "NNA Bloom"
    layers.location = (-300, 0)
    out.location = (300, 0)
    if VERSION >= (5, 0, 0):
        glare.inputs["Type"].default_value = "Bloom"
        glare.inputs["Quality"].default_value = quality.title()
    else:
        glare.glare_type = "BLOOM"
        glare.quality = quality.upper()
    if "Strength" in glare.inputs:  # 4.5+
        glare.inputs["Threshold"].default_value = threshold
        glare.inputs["Strength"].default_value = strength
        glare.inputs["Size"].default_value = size
    else:  # 4.2
        glare.threshold = threshold
        glare.mix = 0.0 if strength >= 1.0 else strength - 1.0
        glare.size = max(6, min(9, round(7 + math.log2(max(size, 1 / 8)))))
    tree.links.new(layers.outputs["Image"], glare.inputs["Image"])
    tree.links.new(glare.outputs["Image"], out.inputs[0])
    return tree


def has_foreign_compositor(scene: bpy.types.Scene) -> bool:
    """Whether the scene has a compositor that :func:`bloom_compositor` did not make (5.0: a node
    group assigned to the scene; 4.2-4.5: the scene's own tree with nodes in it)."""
    tree = scene.compositing_node_group if VERSION >= (5, 0, 0) else scene.node_tree
    if tree is None or tree.get(COMPOSITOR_TAG):
        return False
    return VERSION >= (5, 0, 0) or len(tree.nodes) > 0


def compositor_nodes(scene: bpy.types.Scene) -> list[bpy.types.Node]:
    """The nodes of the scene's compositor (empty if it has none)."""
    tree = scene.compositing_node_group if VERSION >= (5, 0, 0) else scene.node_tree
    return list(tree.nodes) if tree is not None else []


def render_engine_settings(scene: bpy.types.Scene, samples: int) -> None:
    """Eevee with ``samples`` TAA samples; shadows, ray tracing, motion blur off (everything glows by emission).

    The world's light probe is captured at the smallest size: in 4.2-5.0 Eevee re-captures the world
    into a sphere probe on every rendered frame, which on a software renderer costs more than the
    whole scene at the default 1024.
    """
    scene.render.engine = EEVEE
    ee = scene.eevee
    ee.taa_render_samples = samples
    ee.use_shadows = False
    ee.use_raytracing = False
    if hasattr(ee, "use_fast_gi"):  # 4.5+
        ee.use_fast_gi = False
    scene.render.use_motion_blur = False
    if scene.world is not None and hasattr(scene.world, "probe_resolution"):
        scene.world.probe_resolution = "128"


def set_video_quality(scene: bpy.types.Scene, crf: str, audio: bool = False) -> None:
    """Constant-quality H.264 (``crf`` one of LOW, MEDIUM, HIGH, ...); with ``audio`` the scene's
    sound (its sequencer's sound strips) as 192 kb/s stereo AAC at 48 kHz, else no audio."""
    ff = scene.render.ffmpeg
    ff.constant_rate_factor = crf
    ff.ffmpeg_preset = "GOOD"
    ff.audio_codec = "AAC" if audio else "NONE"
    if audio:
        ff.audio_channels = "STEREO"
        ff.audio_mixrate = 48000
        ff.audio_bitrate = 192


def sequencer_strips(scene: bpy.types.Scene, create: bool = False):
    """The top-level strips of the scene's sequencer (5.0: ``strips``; before: ``sequences``), or None."""
    ed = scene.sequence_editor
    if ed is None:
        if not create:
            return None
        ed = scene.sequence_editor_create()
    return ed.strips if VERSION >= (5, 0, 0) else ed.sequences


#: Output settings (attribute paths from the scene) that render.py changes while rendering and restores
#: afterwards, in the order they must be set back (5.0: the media type before the file format, the
#: format before its options). render.py restores the frame range and current frame itself.
OUTPUT_SETTINGS: tuple[tuple[str, str], ...] = (
    *((("render.image_settings", "media_type"),) if VERSION >= (5, 0, 0) else ()),
    ("render.image_settings", "file_format"),
    ("render.image_settings", "color_mode"),
    ("render.image_settings", "color_depth"),
    ("render.image_settings", "compression"),
    ("render.ffmpeg", "format"),
    ("render.ffmpeg", "codec"),
    ("render.ffmpeg", "constant_rate_factor"),
    ("render.ffmpeg", "ffmpeg_preset"),
    ("render.ffmpeg", "audio_codec"),
    ("render.ffmpeg", "audio_channels"),
    ("render.ffmpeg", "audio_mixrate"),
    ("render.ffmpeg", "audio_bitrate"),
    ("render", "filepath"),
    ("render", "use_file_extension"),
    ("", "frame_step"),
)


# --------------------------------------------------------------------------------------------
# glTF export (used by export_gltf.py)


def gltf_export_options() -> set[str]:
    """Keyword options of the glTF exporter (``bpy.ops.export_scene.gltf``); empty if the bundled
    glTF add-on (io_scene_gltf2) is disabled. The options export_gltf.py uses have the same names
    in 4.2, 4.5 and 5.0; bpy 4.2 (the PyPI module) crashes at interpreter exit once the exporter
    has run (harmless: the file is complete)."""
    try:
        rna = bpy.ops.export_scene.gltf.get_rna_type()
    except (AttributeError, KeyError, RuntimeError):
        return set()
    return {prop.identifier for prop in rna.properties}


def has_audio() -> bool:
    """Whether this Blender can read and play sound (Audaspace): the bpy 4.2 wheel from PyPI is built
    without it; Blender's own builds, bpy 4.5 and 5.0 have it."""
    return bool(getattr(bpy.app.build_options, "audaspace", True))


def fill_curve_ngons(node: bpy.types.Node) -> None:
    """Fill Curve node in N-gons mode: a node property up to 4.5, a menu socket in 5.0."""
    if "Mode" in node.inputs:
        node.inputs["Mode"].default_value = "N-gons"
    else:
        node.mode = "NGONS"
