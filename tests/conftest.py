"""Shared fixtures. nncore tests need no Blender; add-on tests (marker ``blender``) use bpy.

The add-on is installed the way Blender users get it: as an extension in a (temporary)
local repository, enabled with addon_utils, so it loads as ``bl_ext.nna_test.nn_animator``
with relative imports, exactly as in Blender. Each add-on test starts from an empty file.

``NNA_ADDON_MODULE=bl_ext.user_default.nn_animator`` tests an extension that is already installed
instead (``make test-blender`` installs the built zip with ``blender --command extension
install-file -r user_default`` into the folder BLENDER_USER_RESOURCES names, then runs this suite
inside that Blender through pytest-blender). Add-on tests use ``ADDON_MODULE`` from here.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPO_MODULE = "nna_test"
# An installed extension to test (e.g. bl_ext.user_default.nn_animator), else the repository itself.
INSTALLED_MODULE = os.environ.get("NNA_ADDON_MODULE", "").strip()
ADDON_MODULE = INSTALLED_MODULE or f"bl_ext.{REPO_MODULE}.nn_animator"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def default_signals() -> None:
    """preexec_fn for a child the test signals: SIGTERM and SIGHUP at their default action, as in a
    terminal. A test run started under nohup ignores SIGHUP, and its children would inherit that
    (and rightly keep running through it: nncore.outputs handles only signals left at the default)."""
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def blender_binary() -> str:
    """The Blender executable when the suite runs inside a real Blender (make test-blender), else ''."""
    bpy = sys.modules.get("bpy")
    return getattr(bpy.app, "binary_path", "") if bpy is not None else ""


def fresh_bpy_command(code: str, *args: str) -> list[str]:
    """Run Python ``code`` in a fresh Blender without add-ons, ``args`` being ``sys.argv[-len(args):]``:
    ``python -c`` with the bpy module, ``blender -b --factory-startup --python-expr`` inside Blender."""
    exe = blender_binary()
    if exe:
        return [exe, "-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", code, "--", *args]
    return [sys.executable, "-c", code, *args]


def cli_command(*args: str) -> list[str]:
    """The add-on's command line in a fresh process: ``python -m nn_animator`` with the bpy module,
    ``blender -b -c nn_animator`` inside Blender (needs the extension installed: make test-blender)."""
    exe = blender_binary()
    return [exe, "-b", "-c", "nn_animator", *args] if exe else [sys.executable, "-m", "nn_animator", *args]


def nncore_cli(argv: list[str]) -> tuple[int, str, str]:
    """nncore.cli.main(argv) in-process: (exit code, stdout, stderr); SystemExit (argparse) becomes
    its code, any other exception propagates."""
    import contextlib
    import io

    from nncore import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "bpy_env" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.blender)


@pytest.fixture(scope="session")
def bpy_session():
    """bpy with the extension enabled: from a temporary extensions repository holding a symlink to
    this checkout (default), or the installed extension named by NNA_ADDON_MODULE."""
    if INSTALLED_MODULE:
        yield from _installed_session()
        return
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
    (repo_dir / "nn_animator").unlink()
    shutil.rmtree(repo_dir, ignore_errors=True)
    shutil.rmtree(user, ignore_errors=True)


def _installed_session():
    """The extension NNA_ADDON_MODULE, installed beforehand in BLENDER_USER_RESOURCES."""
    import importlib.util

    if not os.environ.get("BLENDER_USER_RESOURCES"):
        pytest.exit(
            "NNA_ADDON_MODULE is set but BLENDER_USER_RESOURCES is not: point it at the (temporary) "
            "folder the zip was installed into, so no real Blender configuration is used",
            returncode=4,
        )
    import bpy  # noqa: I001
    import addon_utils

    try:
        spec = importlib.util.find_spec(INSTALLED_MODULE)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        pytest.exit(
            f"NNA_ADDON_MODULE={INSTALLED_MODULE} is not installed in {os.environ['BLENDER_USER_RESOURCES']}: "
            "install the zip first: blender --command extension install-file -r user_default -e "
            "dist/nn_animator-*.zip",
            returncode=4,
        )
    addon_utils.enable(INSTALLED_MODULE, default_set=True, handle_error=_raise)
    where = Path(sys.modules[INSTALLED_MODULE].__file__).resolve()
    if where.is_relative_to(ROOT):
        pytest.exit(f"{INSTALLED_MODULE} loads from this checkout ({where}), not from an installed zip", returncode=4)
    yield bpy
    addon_utils.disable(INSTALLED_MODULE, default_set=True)


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


def pytest_sessionfinish(session, exitstatus):
    """The bpy modules 4.2 and 4.5 crash in their own teardown once Python has shut down (SIGSEGV:
    4.2 after any glTF export, 4.5 after a render; not 5.0). Leave the process with pytest's status
    instead (as __main__.py does for the command line)."""
    bpy = sys.modules.get("bpy")
    if bpy is not None and tuple(bpy.app.version) < (5, 0, 0):
        import atexit

        def _leave(status=int(exitstatus)):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

        atexit.register(_leave)
