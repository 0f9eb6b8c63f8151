"""``python -m nn_animator build|render|export ...`` with Blender as a Python module (bpy)."""

import os
import sys

from .addon.cli import main

code = main()
bpy = sys.modules.get("bpy")
if bpy is not None and tuple(bpy.app.version) < (5, 0, 0):
    # the bpy modules 4.2 and 4.5 crash in their own teardown once Python has shut down (SIGSEGV:
    # 4.2 after a glTF export, 4.5 after any render; not 5.0): the work is done, verified and
    # flushed, so leave with our exit code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
