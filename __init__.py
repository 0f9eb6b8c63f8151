"""Neural Network Animator: watch a small neural network learn, in 3-D.

The extension root: Blender loads this package as ``bl_ext.<repo>.nn_animator``.
The Blender code lives in ``addon/``, the numpy core (no bpy) in ``nncore/``.
"""


def register() -> None:
    from .addon import register as _register

    _register()


def unregister() -> None:
    from .addon import unregister as _unregister

    _unregister()
