"""The three shapes a network is drawn with, made once per build: sphere, cylinder, tile.

Both representations use the same meshes (one object per neuron and synapse, or instanced by
Geometry Nodes, see ``instanced.py``), so they render the same pixels.
"""

from __future__ import annotations

import bpy
import numpy as np

from .buildctx import BuildContext


def _shared(ctx: BuildContext, key: str, make) -> bpy.types.Mesh:
    if key not in ctx.shared:
        ctx.shared[key] = make()
    return ctx.shared[key]


def sphere(ctx: BuildContext) -> bpy.types.Mesh:
    """Radius 1, 24 x 12 segments, smooth: scaled to look.NEURON_RADIUS."""

    def make():
        import bmesh

        me = ctx.tag(bpy.data.meshes.new("NNA Neuron"))
        bm = bmesh.new()
        bmesh.ops.create_uvsphere(bm, u_segments=24, v_segments=12, radius=1.0)
        bm.to_mesh(me)
        bm.free()
        if hasattr(me, "shade_smooth"):
            me.shade_smooth()
        return me

    return _shared(ctx, "mesh.sphere", make)


def cylinder(ctx: BuildContext, sides: int) -> bpy.types.Mesh:
    """Radius 1, from z = 0 to z = 1, open ends: scaled per synapse to (r, r, length)."""

    def make():
        a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
        ring = np.stack([np.cos(a), np.sin(a)], axis=1)
        verts = np.concatenate([np.c_[ring, np.zeros(sides)], np.c_[ring, np.ones(sides)]]).astype(np.float32)
        i = np.arange(sides)
        faces = np.stack([i, (i + 1) % sides, (i + 1) % sides + sides, i + sides], axis=1)
        me = ctx.tag(bpy.data.meshes.new("NNA Synapse"))
        me.from_pydata(verts.tolist(), [], faces.tolist())
        me.update()
        if hasattr(me, "shade_smooth"):
            me.shade_smooth()
        return me

    return _shared(ctx, f"mesh.cylinder.{sides}", make)


def tile(ctx: BuildContext) -> bpy.types.Mesh:
    """A unit square in the x-z plane, centred, facing -y (the camera): one pixel of an input image."""

    def make():
        me = ctx.tag(bpy.data.meshes.new("NNA Pixel"))
        verts = [(-0.5, 0.0, -0.5), (0.5, 0.0, -0.5), (0.5, 0.0, 0.5), (-0.5, 0.0, 0.5)]
        me.from_pydata(verts, [], [(0, 1, 2, 3)])
        me.update()
        return me

    return _shared(ctx, "mesh.tile", make)


def cylinder_sides(n_synapses: int) -> int:
    """Fewer sides for crowded networks."""
    return 8 if n_synapses > 500 else 12
