"""``python -m nn_animator build|render|export ...`` with Blender as a Python module (bpy)."""

import sys

from .addon.cli import main

sys.exit(main())
