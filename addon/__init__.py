"""The Blender side of Neural Network Animator: properties, operators, panel, command line."""

from __future__ import annotations

import bpy

from . import cli, operators, operators_output, panel, properties

_CLASSES = (*properties.CLASSES, *operators.CLASSES, *operators_output.CLASSES, *panel.CLASSES)
_cli_handle = None


def register() -> None:
    global _cli_handle
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    properties.register_props()
    _cli_handle = bpy.utils.register_cli_command("nn_animator", cli.blender_command)


def unregister() -> None:
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
    properties.unregister_props()
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
