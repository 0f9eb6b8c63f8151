"""What every scene-building function receives: where to put things and how to tag them.

Every datablock a build creates is tagged with the custom property ``nna_build`` (the
build's id) through :meth:`BuildContext.tag`, so that a rebuild or a failed build can
remove exactly what it made and nothing else (see ``scene.remove_build``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import bpy

T = TypeVar("T", bound=bpy.types.ID)

TAG = "nna_build"

#: Every object of a build says what it is in its custom property ROLE: one of these.
ROLE = "nna_role"
NEURON = "neuron"
SYNAPSE = "synapse"
LABEL = "label"
HUD = "hud"
LOSS_CURVE = "loss_curve"
#: Objects that compose.py arranges around the network for the frame's shape (HUD, loss curve and
#: its axes) carry this custom property.
OVERLAY = "nna_overlay"
#: Instanced builds (instanced.py): one object per neuron layer and per synapse layer, and the
#: tables and shapes they read (objects in no collection).
NEURONS = "neurons"
SYNAPSES = "synapses"
DATA = "data"


@dataclass
class BuildContext:
    build_id: str
    collection: bpy.types.Collection
    #: Shared datablocks (node groups, materials, meshes) made once per build, by name.
    shared: dict = field(default_factory=dict)

    def tag(self, idb: T) -> T:
        idb[TAG] = self.build_id
        return idb

    def link(self, ob: bpy.types.Object) -> bpy.types.Object:
        """Tag an object and put it in the network's collection."""
        self.tag(ob)
        self.collection.objects.link(ob)
        return ob
