"""nncore: train small dense networks in pure numpy and emit a keyframe plan.

Never imports bpy or mathutils; the plan (see docs/plan-format.md) is the only thing
that crosses from here to the Blender add-on.
"""

__version__ = "0.1.0"
