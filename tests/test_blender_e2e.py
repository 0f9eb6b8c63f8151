"""End to end in a real Blender: install the built zip as an extension, then use it the way users
do - ``blender -b -c nn_animator build|render|export`` and the Build network operator in a file
opened in background mode - and uninstall it again.

Which Blender: the one running these tests (``make test-blender`` runs the suite inside Blender),
else NNA_BLENDER or BLENDER (``BLENDER=/path/to/blender pytest tests/test_blender_e2e.py``);
without any, every test here is skipped. The zip: NNA_ZIP (``make test-blender`` passes the one it
built and tested), else one built with ``blender --command extension build``. Every Blender started
here gets its own temporary BLENDER_USER_RESOURCES, so no real configuration is read or written.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
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


def _blender_executable() -> str | None:
    bpy = sys.modules.get("bpy")
    inside = getattr(bpy.app, "binary_path", "") if bpy is not None else ""
    return inside or os.environ.get("NNA_BLENDER") or os.environ.get("BLENDER") or None


def _env(user: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNA_ADDON_MODULE")}
    env["BLENDER_USER_RESOURCES"] = str(user)
    return env


def _run(cmd: list[str], env: dict, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def _show(r: subprocess.CompletedProcess) -> str:
    return f"exit {r.returncode}\n--- stdout\n{r.stdout[-4000:]}\n--- stderr\n{r.stderr[-4000:]}"


def _result(r: subprocess.CompletedProcess) -> dict:
    """The JSON a --python-expr printed after 'NNA_RESULT '."""
    lines = [line for line in r.stdout.splitlines() if line.startswith("NNA_RESULT ")]
    assert r.returncode == 0 and lines, _show(r)
    return json.loads(lines[-1][len("NNA_RESULT ") :])


@pytest.fixture(scope="session")
def blender() -> str:
    exe = _blender_executable()
    if exe is None:
        pytest.skip("no Blender executable: run `make test-blender`, or set BLENDER=/path/to/blender")
    path = shutil.which(exe)
    assert path, f"Blender executable {exe!r} not found"
    return path


@pytest.fixture(scope="session")
def ext_zip(blender, tmp_path_factory) -> Path:
    given = os.environ.get("NNA_ZIP")
    if given:
        assert Path(given).is_file(), f"NNA_ZIP={given} does not exist"
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("dist")
    r = _run(
        [
            blender,
            "-b",
            "--factory-startup",
            "-c",
            "extension",
            "build",
            "--source-dir",
            str(ROOT),
            "--output-dir",
            str(out),
        ],
        env=_env(tmp_path_factory.mktemp("user-build")),
    )
    zips = sorted(out.glob(f"{EXT_ID}-*.zip"))
    assert r.returncode == 0 and len(zips) == 1, _show(r)
    return zips[0]


def _install(blender: str, ext_zip: Path, user: Path) -> dict:
    env = _env(user)
    r = _run([blender, "-b", "-c", "extension", "install-file", "-r", "user_default", "-e", str(ext_zip)], env)
    assert r.returncode == 0, _show(r)
    assert (user / "extensions" / "user_default" / EXT_ID / "blender_manifest.toml").is_file(), _show(r)
    return env


@pytest.fixture(scope="module")
def installed(blender, ext_zip, tmp_path_factory) -> dict:
    """The environment of a Blender user folder with the zip installed and enabled."""
    return _install(blender, ext_zip, tmp_path_factory.mktemp("user"))


def test_installed_extension_is_listed_and_is_the_zip(blender, ext_zip, installed):
    r = _run([blender, "-b", "-c", "extension", "list"], installed)
    assert r.returncode == 0 and f"{EXT_ID} [installed]" in r.stdout, _show(r)
    folder = Path(installed["BLENDER_USER_RESOURCES"]) / "extensions" / "user_default" / EXT_ID
    with zipfile.ZipFile(ext_zip) as zf:
        shipped = {n for n in zf.namelist() if not n.endswith("/")}
    on_disk = {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    assert on_disk == shipped


def test_cli_build_writes_a_blend_with_the_network(blender, installed, tmp_path):
    out = tmp_path / "article.blend"
    r = _run(
        [blender, "-b", "-c", EXT_ID, "build", "--preset", "article", "--blend", str(out)], installed, cwd=tmp_path
    )
    assert r.returncode == 0, _show(r)
    assert "built 8 neurons, 16 synapses" in r.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.blend"]  # no temporary files left
    check = (
        "import bpy, json; obs = bpy.data.objects; print('NNA_RESULT ' + json.dumps("
        "[sum(o.get('nna_role') == r for o in obs) for r in ('neuron', 'synapse')]))"
    )
    r = _run(
        [blender, "-b", "--factory-startup", str(out), "--python-exit-code", "3", "--python-expr", check], installed
    )
    assert _result(r) == [8, 16]


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, end) of the ISO-BMFF boxes between start and end."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[i + 8 : i + 16])[0], 16
        elif size == 0:
            size = end - i
        assert head <= size and i + size <= end, f"broken box {kind!r} at {i}"
        yield kind.decode("latin-1"), i + head, i + size
        i += size


def mp4_video_track(path: Path) -> dict:
    """Container facts of an .mp4's video track, read from its boxes (no ffprobe needed)."""
    data = path.read_bytes()
    top = {k: (a, b) for k, a, b in _boxes(data, 0, len(data))}
    assert data[4:8] == b"ftyp" and {"moov", "mdat"} <= set(top), sorted(top)

    def child(span, kind):
        return next(((a, b) for k, a, b in _boxes(data, *span) if k == kind), None)

    for _, a, b in (t for t in _boxes(data, *top["moov"]) if t[0] == "trak"):
        mdia = child((a, b), "mdia")
        hdlr = child(mdia, "hdlr")
        if data[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        tkhd = child((a, b), "tkhd")
        width, height = (v >> 16 for v in struct.unpack(">II", data[tkhd[1] - 8 : tkhd[1]]))
        stbl = child(child(mdia, "minf"), "stbl")
        stsd = child(stbl, "stsd")
        codec = data[stsd[0] + 12 : stsd[0] + 16].decode("latin-1")
        stsz = child(stbl, "stsz")
        (samples,) = struct.unpack(">I", data[stsz[0] + 8 : stsz[0] + 12])
        return {
            "codec": codec,
            "width": width,
            "height": height,
            "frames": samples,
            "mdat": top["mdat"][1] - top["mdat"][0],
        }
    raise AssertionError("no video track in " + str(path))


def test_cli_render_writes_a_valid_mp4(blender, installed, tmp_path):
    out = tmp_path / "article.mp4"
    args = ["--preset", "article", "--video", str(out), "--frames", "1-3", "--resolution", "64x64", "--samples", "1"]
    r = _run([blender, "-b", "-c", EXT_ID, "render", *args], installed, cwd=tmp_path)
    assert r.returncode == 0, _show(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.mp4"]
    track = mp4_video_track(out)
    assert track["codec"] == "avc1" and (track["width"], track["height"], track["frames"]) == (64, 64, 3), track
    assert track["mdat"] > 0
    # and Blender's own decoder reads it back: 3 frames of 64x64
    check = (
        "import bpy, json, sys; c = bpy.data.movieclips.load(sys.argv[-1]);"
        "print('NNA_RESULT ' + json.dumps([c.frame_duration, list(c.size)]))"
    )
    cmd = [blender, "-b", "--factory-startup", "--python-exit-code", "3", "--python-expr", check, "--", str(out)]
    assert _result(_run(cmd, installed)) == [3, [64, 64]]


def glb_document(path: Path) -> dict:
    data = path.read_bytes()
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    size, kind = struct.unpack("<I4s", data[12:20])
    assert kind == b"JSON"
    doc = json.loads(data[20 : 20 + size])
    rest = data[20 + size :]
    if rest:  # the binary chunk holds every buffer
        bin_size, bin_kind = struct.unpack("<I4s", rest[:8])
        assert bin_kind == b"BIN\0" and bin_size >= doc["buffers"][0]["byteLength"]
    return doc


@pytest.fixture(scope="module")
def exported_glb(blender, installed, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("glb")
    out = folder / "article.glb"
    r = _run([blender, "-b", "-c", EXT_ID, "export", "--preset", "article", "--gltf", str(out)], installed, cwd=folder)
    assert r.returncode == 0, _show(r)
    assert sorted(p.name for p in folder.iterdir()) == ["article.glb"]
    return out


def test_cli_export_writes_a_glb(exported_glb):
    doc = glb_document(exported_glb)
    assert doc["asset"]["version"] == "2.0"
    names = [n.get("name", "") for n in doc["nodes"]]
    assert sum("Neuron" in n for n in names) == 8 and sum("Synapse" in n for n in names) == 16, names
    assert doc.get("animations") and all(a["channels"] for a in doc["animations"])


def test_glb_passes_the_khronos_validator(exported_glb):
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "gltf-validator").is_dir():
        pytest.skip("node or the npm package gltf-validator is not available here (npm ci)")
    r = subprocess.run(
        [node, str(ROOT / "tools" / "gltf_validate.js"), str(exported_glb)], capture_output=True, text=True
    )
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["numErrors"] == 0, report


_BUILD_IN_FILE = """
import bpy, json, sys
module = sys.argv[-1]
result = sorted(bpy.ops.nna.build_network())
obs = bpy.data.objects
out = {
    "result": result,
    "file": bpy.data.filepath,
    "neurons": sum(o.get("nna_role") == "neuron" for o in obs),
    "synapses": sum(o.get("nna_role") == "synapse" for o in obs),
    "frame_end": bpy.context.scene.frame_end,
    "addon_file": sys.modules[module].__file__,
}
bpy.ops.wm.save_mainfile()
print("NNA_RESULT " + json.dumps(out))
"""


def test_build_network_operator_in_a_background_file(blender, installed, tmp_path):
    blend = tmp_path / "empty.blend"
    make = f"import bpy; bpy.ops.wm.read_homefile(use_empty=True); bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})"
    r = _run([blender, "-b", "--factory-startup", "--python-exit-code", "3", "--python-expr", make], installed)
    assert r.returncode == 0 and blend.is_file(), _show(r)
    cmd = [blender, "-b", str(blend), "--python-exit-code", "3", "--python-expr", _BUILD_IN_FILE, "--", MODULE]
    res = _result(_run(cmd, installed))
    assert res["result"] == ["FINISHED"] and Path(res["file"]) == blend
    assert (res["neurons"], res["synapses"]) == (8, 16) and res["frame_end"] > 1
    user = Path(installed["BLENDER_USER_RESOURCES"]).resolve()
    assert Path(res["addon_file"]).resolve().is_relative_to(user)  # the installed zip, not this checkout
    # the scene was saved into the file
    count = "import bpy; print('NNA_RESULT', sum(o.get('nna_role') == 'neuron' for o in bpy.data.objects))"
    assert _result(_run([blender, "-b", "--factory-startup", str(blend), "--python-expr", count], installed)) == 8


_NOTHING_LEFT = """
import bpy, addon_utils, json, sys
module = sys.argv[-1]
try:
    bpy.ops.nna.build_network.get_rna_type()
    operator = True
except (KeyError, AttributeError):
    operator = False
print("NNA_RESULT " + json.dumps({
    "enabled": addon_utils.check(module)[1],
    "in_prefs": module in bpy.context.preferences.addons,
    "types": sorted(n for n in dir(bpy.types) if n.startswith("NNA_")),
    "scene_prop": hasattr(bpy.types.Scene, "nna"),
    "operator": operator,
    "modules": sorted(m for m in sys.modules if m.startswith(module)),
}))
"""


def test_remove_leaves_nothing_registered(blender, ext_zip, tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    env = _install(blender, ext_zip, user)
    before = _result(_run([blender, "-b", "--python-expr", _NOTHING_LEFT, "--", MODULE], env))
    assert before["enabled"] and before["in_prefs"] and before["operator"] and "NNA_OT_build_network" in before["types"]

    r = _run([blender, "-b", "-c", "extension", "remove", f"user_default.{EXT_ID}"], env)
    assert r.returncode == 0, _show(r)
    assert not (user / "extensions" / "user_default" / EXT_ID).exists()
    after = _result(_run([blender, "-b", "--python-expr", _NOTHING_LEFT, "--", MODULE], env))
    assert after == {
        "enabled": False,
        "in_prefs": False,
        "types": [],
        "scene_prop": False,
        "operator": False,
        "modules": [],
    }
    r = _run([blender, "-b", "-c", EXT_ID, "--help"], env)
    assert f'Unrecognized command: "{EXT_ID}"' in r.stdout + r.stderr, _show(r)
