"""The Blender side of Neural Network Animator: properties, operators, panel, command line."""

from __future__ import annotations

import bpy

from . import operators, panel, properties

_CLASSES = (*properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    properties.register_props()


def unregister() -> None:
    properties.unregister_props()
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
