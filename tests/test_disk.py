"""The add-on's command line on a real disk: full (a 1 MB tmpfs), special files, SIGTERM and SIGHUP
during a render, names from a stranger's plan. Each refusal is one line, exit 2, nothing left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import INSTALLED_MODULE, blender_binary, cli_command, default_signals
from test_outputs import IS_ROOT, needs_root, small_disk

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()) and not INSTALLED_MODULE,
        reason="inside Blender the command line needs the extension installed: run make test-blender",
    ),
]

TINY = ("--resolution", "64x64", "--samples", "1")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / ".venv" / "nna-path")}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), capture_output=True, text=True, cwd=cwd, env=_env(), timeout=900)


def one_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    lines = proc.stderr.splitlines()  # Blender's own chatter (EGL, "Saved:", tracebacks) is kept away
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len(lines) == 1, lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def xor_plan(tmp_path_factory) -> Path:
    from nncore import plan as plan_io
    from nncore.presets import make_plan, settings_for

    p = tmp_path_factory.mktemp("plan") / "xor.json"
    plan_io.save(make_plan(settings_for("xor", cycles=400, show=3)), str(p))
    return p


@needs_root
@pytest.mark.parametrize(
    "outputs_args, leave",
    [
        (("render", "--stills", "{disk}", *TINY), 512),
        (("render", "--video", "{disk}/v.mp4", "--frames", "1-60", *TINY), 4096),
        (("render", "--video", "{disk}/v.mp4", "--frames", "1-60", *TINY), 0),
        (("build", "--blend", "{disk}/a.blend"), 20_000),
        (("export", "--gltf", "{disk}/a.glb"), 4096),
    ],
    ids=["stills", "video", "video-0-bytes-free", "blend", "gltf"],
)
def test_full_disk_is_an_error_and_leaves_nothing(tmp_path, xor_plan, outputs_args, leave):
    with small_disk(tmp_path, "1m", leave=leave) as disk:
        args = [a.format(disk=disk) for a in outputs_args]
        proc = run(args[0], "--plan", str(xor_plan), *args[1:], cwd=tmp_path)
        line = one_error(proc)
        assert "disk is full" in line or "No space left" in line, line
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_special_files_are_never_replaced(tmp_path, xor_plan):
    os.mkfifo(tmp_path / "fifo.blend")
    os.symlink(tmp_path / "elsewhere.glb", tmp_path / "link.glb")
    one_error(run("build", "--plan", str(xor_plan), "--blend", str(tmp_path / "fifo.blend"), cwd=tmp_path), "FIFO")
    one_error(run("export", "--plan", str(xor_plan), "--gltf", str(tmp_path / "link.glb"), cwd=tmp_path), "link")
    assert (tmp_path / "fifo.blend").is_fifo() and (tmp_path / "link.glb").is_symlink()
    if IS_ROOT:
        os.mknod(tmp_path / "null.mp4", 0o666 | 0o020000, os.makedev(1, 3))
        one_error(run("render", "--plan", str(xor_plan), "--video", str(tmp_path / "null.mp4"), cwd=tmp_path), "device")
        assert (tmp_path / "null.mp4").is_char_device()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_during_a_render_leaves_nothing(tmp_path, xor_plan, sig):
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        cli_command("render", "--plan", str(xor_plan), "--video", str(out / "v.mp4"), *TINY),
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_signals,
    )
    try:
        for line in proc.stdout:  # wait until frames are being rendered into the temporary file
            if line.startswith("rendering: frame 3 "):
                break
        assert list(out.glob(".nna-*")), "no temporary file while rendering"
        proc.send_signal(sig)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == -sig
    time.sleep(0.2)
    assert list(out.iterdir()) == []


def test_names_from_a_strangers_plan(tmp_path, xor_plan):
    plan = json.loads(xor_plan.read_text())
    plan["preset"] = "x/../y z"
    p = tmp_path / "stranger.json"
    p.write_text(json.dumps(plan))
    out = tmp_path / "stills"
    out.mkdir()
    proc = run("render", "--plan", str(p), "--stills", str(out), *TINY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(f.name for f in out.iterdir()) == [
        "x_y_z_after.png",
        "x_y_z_before.png",
        "x_y_z_new_situation.png",
    ]


def test_quiet_is_quiet_and_blender_chatter_is_kept_out(tmp_path, xor_plan):
    proc = run("render", "--plan", str(xor_plan), "--stills", str(tmp_path), *TINY, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # a Blender executable prints its version before any add-on code runs ("Blender 4.3.2"): that
    # one line is Blender's, out of the command's reach; nothing else may be printed
    banner = ""
    if blender_binary():
        import bpy

        banner = f"Blender {bpy.app.version_string}\n"
    assert (proc.stdout, proc.stderr) == (banner, "")
    proc = run(
        "render", "--plan", str(xor_plan), "--video", str(tmp_path / "v.mp4"), "--frames", "1-3", *TINY, cwd=tmp_path
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    ours = [line for line in proc.stdout.splitlines() if line != banner.strip()]  # (Blender flushes it at exit)
    assert ours[-1] == f"wrote {tmp_path / 'v.mp4'}"
    assert not any(w in proc.stdout for w in ("Saved:", "EGL", "Append frame", "INFO")), proc.stdout
