"""``python -m nn_animator build|render|export``: outputs, exit codes, messages, no partial files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import INSTALLED_MODULE, blender_binary, cli_command, fresh_bpy_command

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()) and not INSTALLED_MODULE,
        reason="inside Blender the command line needs the extension installed: run make test-blender",
    ),
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / ".venv" / "nna-path")}
    return subprocess.run(cli_command(*args), capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def errors(proc) -> list[str]:
    """stderr without the harmless EGL chatter of software OpenGL."""
    return [line for line in proc.stderr.splitlines() if line.strip() and "EGL" not in line]


def test_build_writes_a_blend(tmp_path):
    out = tmp_path / "a.blend"
    proc = run("build", "--preset", "xor", "--blend", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.stat().st_size > 10_000
    assert "new situation [1, 0]" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.blend"]  # no temporary files left
    # the .blend holds the network: open it in a fresh process
    check = subprocess.run(
        fresh_bpy_command(
            "import bpy, sys; bpy.ops.wm.open_mainfile(filepath=sys.argv[-1]);"
            "print(sum(o.get('nna_role') == 'neuron' for o in bpy.data.objects))",
            str(out),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "7" in check.stdout.split(), check.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["build"], "build: give --blend"),
        (["build", "--plan", "missing.json", "--blend", "x.blend"], "no such file"),
        (["build", "--preset", "nope", "--blend", "x.blend"], "preset: 'nope' is not one of"),
        (["build", "--blend", "no/such/folder/x.blend"], "does not exist"),
        (["build", "--blend", "/proc/x.blend"], "not writable"),
        (["render", "--video", "x.mp4", "--frames", "9-3"], "ends before it starts"),
        (["render", "--preset", "and", "--video", "x.mp4", "--frames", "1-999999"], "outside the animation"),
        (["render", "--video", "x.mp4", "--resolution", "640by360"], "not WIDTHxHEIGHT"),
        (["render", "--stills", "no-such-dir"], "does not exist"),
        (["export", "--gltf", "no/such/x.glb"], "does not exist"),
        (["build", "--layers", "3,0,1", "--blend", "x.blend"], "layer 2 has size 0"),
        (["build", "--lr", "1e9", "--blend", "x.blend"], "diverged at cycle"),
        (["frob"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, needle):
    proc = run(*args, cwd=tmp_path)
    lines = errors(proc)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("nn_animator: error:"), lines
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary files
