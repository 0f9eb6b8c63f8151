"""The one PropertyGroup on the scene (``scene.nna``): the panel's settings and last summary."""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from ..nncore import presets as nn_presets
from ..nncore.errors import NNCoreError
from ..nncore.timeline import Timing
from ..nncore.train import ARTICLE_SHOWN

PRESET_ITEMS = [
    ("article", "Article (3-4-1)", "The 2015 article's network: 3-4-1, no bias, 60,000 online cycles"),
    ("xor", "XOR", "Exclusive or of two inputs (2-4-1 with bias)"),
    ("and", "AND", "Logical and of two inputs"),
    ("or", "OR", "Logical or of two inputs"),
    (
        "digits",
        "Digits (64-16-10)",
        "Handwritten digits, 8x8 pixels (UCI, Alpaydin and Kaynak): softmax over 10 classes",
    ),
    ("csv", "CSV file", "Your own data: input columns then target columns"),
]
ACTIVATION_ITEMS = [
    ("sigmoid", "Sigmoid", "Logistic sigmoid, output 0..1 (the article's)"),
    ("tanh", "Tanh", "Hyperbolic tangent, output -1..1"),
    ("relu", "ReLU", "Rectified linear (hidden layers; the output layer uses sigmoid)"),
]


def _fmt(values) -> str:
    return ",".join(f"{v:g}" for v in values)


def load_preset(pg: NNA_PG_settings, preset: str) -> None:
    """Copy a preset's values into the panel's fields."""
    s = nn_presets.settings_for(preset)
    pg["layers"] = _fmt(s.layers)
    pg["activation"] = [i[0] for i in ACTIVATION_ITEMS].index(s.activation)
    pg["bias"] = s.bias
    pg["learning_rate"] = s.learning_rate
    pg["cycles"] = s.cycles
    pg["batch"] = s.batch
    pg["seed"] = s.seed
    pg["show"] = len(s.show) if isinstance(s.show, tuple) else s.show
    pg["query"] = _fmt(s.query) if s.query else ""


def _on_preset(self, context) -> None:
    load_preset(self, self.preset)


#: Frame shapes offered in the panel and on the command line (render.SHAPES holds the sizes).
SHAPE_ITEMS = [
    ("16:9", "16:9 landscape", "Video: 640x360 preview, 1280x720 final"),
    ("1:1", "1:1 square", "Square posts: 360x360 preview, 720x720 final"),
    ("9:16", "9:16 portrait", "Phones: 360x640 preview, 720x1280 final"),
    ("4:3", "4:3 classic", "The original's 800x600 shape: 480x360 preview, 960x720 final"),
]
QUALITY_ITEMS = [
    ("preview", "Preview", "Short side 360 px, 1 sample: fast"),
    ("final", "Final", "Short side 720 px, more samples"),
]


class NNA_PG_retime(bpy.types.PropertyGroup):
    """The animation's own timing, remembered while render.configure() plays it at another frame rate."""

    active: BoolProperty(default=False)
    build_id: StringProperty()
    fps: IntProperty(default=24)
    fps_base: FloatProperty(default=1.0)
    frame_start: IntProperty(default=1)
    frame_end: IntProperty(default=250)
    map_old: IntProperty(default=100)
    map_new: IntProperty(default=100)


class NNA_PG_settings(bpy.types.PropertyGroup):
    preset: EnumProperty(name="Preset", items=PRESET_ITEMS, default="article", update=_on_preset)
    csv_path: StringProperty(name="CSV file", subtype="FILE_PATH", description="Input columns then target columns")
    layers: StringProperty(name="Layers", default="3,4,1", description="Layer sizes, inputs first, e.g. 3,4,1")
    activation: EnumProperty(name="Activation", items=ACTIVATION_ITEMS, default="sigmoid")
    bias: BoolProperty(name="Bias", default=False, description="Give every neuron a trainable bias")
    learning_rate: FloatProperty(name="Learning rate", default=1.0, min=1e-6, soft_max=10.0, precision=3)
    cycles: IntProperty(name="Cycles", default=60000, min=1, max=10_000_000, description="Training cycles (epochs)")
    batch: IntProperty(name="Batch", default=1, min=0, description="Examples per update: 1 online, 0 full batch")
    seed: IntProperty(name="Seed", default=1, min=0, description="Seed of the initial weights")
    show: IntProperty(name="Shown cycles", default=13, min=1, max=200, description="Cycles shown, denser early")
    fps: IntProperty(name="FPS", default=Timing.fps, min=1, max=240)
    forward_seconds: FloatProperty(name="Forward", default=Timing.forward_seconds, min=0, max=60, unit="TIME_ABSOLUTE")
    backward_seconds: FloatProperty(
        name="Backward", default=Timing.backward_seconds, min=0, max=60, unit="TIME_ABSOLUTE"
    )
    hold_seconds: FloatProperty(name="Hold", default=Timing.hold_seconds, min=0, max=60, unit="TIME_ABSOLUTE")
    query: StringProperty(name="New situation", default="1,1,0", description="Inputs the trained network considers")
    duration: FloatProperty(
        name="Duration",
        default=0.0,
        min=0.0,
        max=43690.0,
        unit="TIME_ABSOLUTE",
        description="Make the timeline last exactly this long (to one frame); 0: as the timing above says",
    )
    fit: EnumProperty(
        name="Fit",
        items=[
            ("pace", "Pace", "Stretch every phase in proportion"),
            ("cycles", "Cycles", "Keep the pace; show as many cycles as fit (as the 2015 video did)"),
        ],
        default="pace",
    )
    audio_path: StringProperty(
        name="Audio",
        subtype="FILE_PATH",
        description="Soundtrack (WAV, MP3, OGG, FLAC): put into the network's scene, the video and the .blend",
    )
    # rendering (the panel's choice; render.configure applies it to the network's scene)
    quality: EnumProperty(name="Quality", items=QUALITY_ITEMS, default="preview")
    frame_shape: EnumProperty(name="Frame", items=SHAPE_ITEMS, default="16:9")
    camera_mode: EnumProperty(
        name="Camera",
        items=[
            ("front", "Front", "The original's picture"),
            ("three-quarter", "Three-quarter", "From the side and above: depth reads"),
            ("orbit", "Orbit", "Turns once around the network during training, at rest for the stills"),
        ],
        default="front",
    )
    dof: BoolProperty(name="Depth of field", default=False, description="For the three-quarter and orbit cameras")
    # the build's state, written by scene.build_network and render.configure only
    summary: StringProperty(name="Summary", default="")
    is_network_scene: BoolProperty(default=False, description="This scene was made by the add-on for its network")
    build_id: StringProperty(default="", description="Id of the network built in this scene")
    built_preset: StringProperty(default="", description="The preset (or plan) the network was built from")
    still_before: IntProperty(default=0)
    still_after: IntProperty(default=0)
    still_new_situation: IntProperty(default=0)
    after_start: IntProperty(default=0, description="First frame of the 'after' state")
    render_quality: StringProperty(default="", description="The quality render.configure last set")
    retime: PointerProperty(type=NNA_PG_retime)


def settings_from(pg: NNA_PG_settings) -> nn_presets.Settings:
    """The nncore settings the panel describes (raises NNCoreError for bad fields)."""
    layers = nn_presets.parse_ints(pg.layers, "layers")
    show = min(pg.show, pg.cycles)  # a count is spread over the cycles trained: at most one per cycle
    if pg.preset == "article" and pg.show == len(ARTICLE_SHOWN) and pg.cycles == 60000:
        show = ARTICLE_SHOWN  # the article's own list
    if pg.preset == "csv" and not pg.csv_path:
        raise NNCoreError("csv: choose a CSV file first")
    return nn_presets.settings_for(
        pg.preset,
        layers=layers,
        activation=pg.activation,
        bias=pg.bias,
        csv=bpy.path.abspath(pg.csv_path) if pg.preset == "csv" else None,
        learning_rate=pg.learning_rate,
        batch=pg.batch,
        cycles=pg.cycles,
        seed=pg.seed,
        show=show,
        timing=Timing(pg.fps, pg.forward_seconds, pg.backward_seconds, pg.hold_seconds, Timing.state_seconds),
        query=nn_presets.parse_floats(pg.query, "query") if pg.query.strip() else None,
        duration=pg.duration if pg.duration > 0 else None,
        fit=pg.fit,
    )


CLASSES = (NNA_PG_retime, NNA_PG_settings)


def register_props() -> None:
    bpy.types.Scene.nna = PointerProperty(type=NNA_PG_settings)


def unregister_props() -> None:
    del bpy.types.Scene.nna
