"""Shared fixtures. nncore tests need no Blender; add-on tests (marker ``blender``) use bpy.

The add-on is installed the way Blender users get it: as an extension in a (temporary)
local repository, enabled with addon_utils, so it loads as ``bl_ext.nna_test.nn_animator``
with relative imports, exactly as in Blender. Each add-on test starts from an empty file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO_MODULE = "nna_test"
ADDON_MODULE = f"bl_ext.{REPO_MODULE}.nn_animator"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "bpy_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.blender)


@pytest.fixture(scope="session")
def bpy_session():
    """bpy with the extension enabled from a temporary extensions repository."""
    user = tempfile.mkdtemp(prefix="nna-user-")
    os.environ["BLENDER_USER_RESOURCES"] = user  # never touch the real Blender config
    import bpy  # noqa: I001  (bpy first: it puts addon_utils on sys.path)
    import addon_utils

    repo_dir = Path(tempfile.mkdtemp(prefix="nna-repo-"))
    (repo_dir / "nn_animator").symlink_to(ROOT, target_is_directory=True)
    prefs = bpy.context.preferences
    repo = prefs.extensions.repos.new(
        name=REPO_MODULE, module=REPO_MODULE, custom_directory=str(repo_dir), source="USER"
    )
    addon_utils.enable(ADDON_MODULE, default_set=True, handle_error=_raise)
    yield bpy
    addon_utils.disable(ADDON_MODULE, default_set=True)
    prefs.extensions.repos.remove(repo)


def _raise(exc):
    raise exc


def _enabled() -> bool:
    import addon_utils

    return addon_utils.check(ADDON_MODULE)[1]


@pytest.fixture
def bpy_env(bpy_session):
    """An empty file with the add-on enabled."""
    import addon_utils

    bpy = bpy_session
    bpy.ops.wm.read_homefile(use_empty=True)
    if not _enabled():
        addon_utils.enable(ADDON_MODULE, default_set=True, handle_error=_raise)
    return bpy


@pytest.fixture(scope="session")
def article_plan():
    """The article preset's plan (trained once per session)."""
    from nncore.presets import make_plan, settings_for

    return make_plan(settings_for("article"))
