"""``python -m nn_animator build|render|export ...`` with Blender as a Python module (bpy)."""

import os
import sys

from .addon.cli import main

code = main()
bpy = sys.modules.get("bpy")
if bpy is not None and tuple(bpy.app.version) < (4, 3, 0):
    # bpy 4.2 crashes in its own teardown after a glTF export (SIGSEGV once Python has shut down;
    # fixed in 4.3): the work is done and flushed, so leave with our exit code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
