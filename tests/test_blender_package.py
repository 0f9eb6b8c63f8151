"""The extension zip, built with Blender's own extension tool: what is in it, and that it works.

Runs with the bpy module (``make test``, ``make test-matrix``) and inside a real Blender
(``make test-blender``). The zip is built afresh from this checkout into a temporary folder, so the
manifest's ``paths_exclude_pattern`` is checked against whatever lies in the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = tomllib.loads((ROOT / "blender_manifest.toml").read_text(encoding="utf-8"))
EXT_ID = MANIFEST["id"]
MODULE = f"bl_ext.user_default.{EXT_ID}"

pytestmark = pytest.mark.blender

# Everything the zip may hold: the manifest, the package's entry points, a readme/licence, and the
# Python sources of the add-on and of nncore. Anything else (tests, tools, caches, benchmarks,
# node_modules, outputs) is a paths_exclude_pattern that is missing.
TOP_FILES = {"blender_manifest.toml", "__init__.py", "__main__.py", "README.md", "LICENSE", "LICENSE.txt"}
PACKAGES = ("addon", "nncore")


def real_blender() -> str:
    """The Blender executable when these tests run inside a real Blender, else ''."""
    bpy = sys.modules.get("bpy")
    return getattr(bpy.app, "binary_path", "") if bpy is not None else ""


def scripts_dir() -> Path:
    import bpy

    return Path(bpy.utils.system_resource("SCRIPTS"))


def extension_tool(*args: str) -> list[str]:
    """The command for ``blender --command extension ARGS``: Blender itself when we run inside one,
    else the script the bpy wheel ships, run with this (plain) Python."""
    exe = real_blender()
    if exe:
        return [exe, "-b", "--factory-startup", "--command", "extension", *args]
    scripts = scripts_dir()
    extra = []
    if args[0] in ("build", "validate"):  # Blender passes its list of valid tags; so do we
        extra = ["--valid-tags", str(scripts / "modules/_bpy_internal/extensions/tags.py")]
    return [sys.executable, str(scripts / "addons_core/bl_pkg/cli/blender_ext.py"), *args, *extra]


def run(cmd: list[str], timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def run_bpy(code: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    """Python code in a fresh Blender: this Blender (-b --factory-startup), or a fresh bpy-module
    interpreter."""
    exe = real_blender()
    if exe:
        cmd = [exe, "-b", "--factory-startup", "--python-exit-code", "3", "--python-expr", code]
    else:
        cmd = [sys.executable, "-c", code]
    return run(cmd, timeout=timeout, env=env)


#: What Export web page copies at run time (addon/web.py); the viewer's sources (web/src) stay out.
WEB_RUNTIME = {"web/index.html", "web/vendor/viewer.js", "web/vendor/LICENSE-three.txt"}
#: Package data nncore reads at run time (the digits preset's images).
PACKAGE_DATA = {"nncore/data/digits.csv.gz"}


@pytest.fixture(scope="module")
def ext_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    r = run(extension_tool("build", "--source-dir", str(ROOT), "--output-dir", str(out)))
    assert r.returncode == 0, r.stdout + r.stderr
    zips = sorted(out.glob("*.zip"))
    assert [z.name for z in zips] == [f"{EXT_ID}-{MANIFEST['version']}.zip"], r.stdout
    return zips[0]


def test_zip_holds_the_extension_and_nothing_else(ext_zip):
    with zipfile.ZipFile(ext_zip) as zf:
        names = sorted(n for n in zf.namelist() if not n.endswith("/"))
    print(f"{ext_zip.name}: {len(names)} files\n  " + "\n  ".join(names))
    stray = [
        n
        for n in names
        if not (n in TOP_FILES or (n.split("/")[0] in PACKAGES and n.endswith(".py") and "__pycache__" not in n))
        and n not in WEB_RUNTIME | PACKAGE_DATA
    ]
    assert PACKAGE_DATA <= set(names), "the digits preset's data must be in the zip"
    assert WEB_RUNTIME <= set(names), "the web page's template and viewer (Export web page) must be in the zip"
    assert stray == [], f"in the zip but not part of the extension (add to paths_exclude_pattern): {stray}"
    for pkg in PACKAGES:  # every source file of the add-on and of nncore is shipped
        on_disk = {p.relative_to(ROOT).as_posix() for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts}
        assert on_disk, pkg
        assert on_disk <= set(names), sorted(on_disk - set(names))
    for top in ("blender_manifest.toml", "__init__.py"):
        assert top in names


def test_zip_validates(ext_zip):
    r = run(extension_tool("validate", str(ext_zip)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout + r.stderr


def _python_with_numpy() -> str | None:
    """An interpreter that can run nncore: sys.executable, when it is a Python with numpy (inside
    Blender it is Blender's Python binary, e.g. /usr/bin/python3.13 for Debian's Blender)."""
    exe = sys.executable
    if not exe or not os.access(exe, os.X_OK):
        return None
    try:
        ok = run([exe, "-c", "import numpy"], timeout=60).returncode == 0
    except OSError:
        return None
    return exe if ok else None


def test_nncore_runs_from_the_zip(ext_zip, tmp_path):
    python = _python_with_numpy()
    if python is None:
        pytest.skip(f"no Python that can import numpy to run `python -m nncore` (sys.executable={sys.executable!r})")
    root = tmp_path / EXT_ID
    with zipfile.ZipFile(ext_zip) as zf:
        zf.extractall(root)
    out = tmp_path / "xor.plan.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = run(
        [python, "-m", "nncore", "train", "--preset", "xor", "--cycles", "200", "--quiet", "--out", str(out)],
        cwd=root,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["training"]["cycles"] == 200


_INSTALL_BUILD_REMOVE = """
import json, os, sys
import bpy, addon_utils
zip_path, module, ext_id = os.environ["NNA_T_ARGS"].split("|")
res = {}
res["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True))
res["enabled"] = addon_utils.check(module)[1]
res["file"] = sys.modules[module].__file__
res["build"] = sorted(bpy.ops.nna.build_network())
res["neurons"] = sum(o.get("nna_role") == "neuron" for o in bpy.data.objects)
res["synapses"] = sum(o.get("nna_role") == "synapse" for o in bpy.data.objects)
repos = bpy.context.preferences.extensions.repos
index = [i for i, r in enumerate(repos) if r.module == "user_default"][0]
res["remove"] = sorted(bpy.ops.extensions.package_uninstall(repo_index=index, pkg_id=ext_id))
res["enabled_after"] = addon_utils.check(module)[1]
res["registered_after"] = [n for n in ("NNA_OT_build_network", "NNA_PT_main") if hasattr(bpy.types, n)]
res["scene_prop_after"] = hasattr(bpy.types.Scene, "nna")
repo_dir = os.path.join(os.environ["BLENDER_USER_RESOURCES"], "extensions", "user_default")
res["left_on_disk"] = sorted(os.listdir(repo_dir))
print("NNA_RESULT " + json.dumps(res))
"""


def test_zip_installs_builds_and_uninstalls(ext_zip, tmp_path):
    """In a fresh Blender: install the zip as an extension, press Build network, uninstall."""
    user = tmp_path / "user"
    user.mkdir()
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user), "NNA_T_ARGS": f"{ext_zip}|{MODULE}|{EXT_ID}"}
    r = run_bpy(_INSTALL_BUILD_REMOVE, env)
    lines = [line for line in r.stdout.splitlines() if line.startswith("NNA_RESULT ")]
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(lines[-1][len("NNA_RESULT ") :])
    assert res["install"] == ["FINISHED"] and res["enabled"]
    assert Path(res["file"]).resolve().is_relative_to(user.resolve())  # the installed copy, not this checkout
    assert (res["build"], res["neurons"], res["synapses"]) == (["FINISHED"], 8, 16)
    assert res["remove"] == ["FINISHED"] and not res["enabled_after"]
    assert res["registered_after"] == [] and not res["scene_prop_after"]
    assert EXT_ID not in res["left_on_disk"]
