"""--audio: the timeline is fitted to a soundtrack and the track goes into the video (AAC) and the .blend."""

from __future__ import annotations

import math
import struct
import subprocess
import wave
from importlib import import_module
from pathlib import Path

import pytest
from conftest import ADDON_MODULE, INSTALLED_MODULE, blender_binary, cli_command, fresh_bpy_command
from test_disk import _env

from nncore import outputs

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()) and not INSTALLED_MODULE,
        reason="inside Blender the command line needs the extension installed: run make test-blender",
    ),
]

TINY = ("--resolution", "64x64", "--samples", "1")


@pytest.fixture
def sound():
    """Skip where this Blender has no sound at all (the bpy 4.2 wheel is built without Audaspace:
    there the one-line refusal is what users get, tested by test_no_sound_support_is_one_line)."""
    import bpy

    if not bpy.app.build_options.audaspace:
        pytest.skip(f"bpy {bpy.app.version_string} is built without Audaspace (no sound)")


def sine_wav(path: Path, seconds: float, rate: int = 22050) -> Path:
    """A mono 440 Hz sine, written with the standard library."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(n)))
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), capture_output=True, text=True, cwd=cwd, env=_env(), timeout=900)


def test_a_20_second_wav_gives_a_20_second_video_with_aac(tmp_path, sound):
    wav = sine_wav(tmp_path / "music.wav", 20.0)
    video, blend = tmp_path / "v.mp4", tmp_path / "v.blend"
    proc = run(
        "render", "--preset", "xor", "--cycles", "300", "--show", "3", "--fps", "8", "--audio", str(wav),
        "--video", str(video), "--blend", str(blend), *TINY, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    tracks = {t["kind"]: t for t in outputs.mp4_tracks(str(video))}
    assert set(tracks) == {"vide", "soun"}
    assert tracks["vide"]["samples"] == 160  # 20 s at 8 fps, to the frame
    assert abs(tracks["vide"]["seconds"] - 20.0) <= 1 / 8
    assert abs(tracks["soun"]["seconds"] - tracks["vide"]["seconds"]) <= 1 / 8  # streams within one frame
    # the .blend holds the soundtrack, packed, so it plays in the viewport anywhere
    check = subprocess.run(
        fresh_bpy_command(
            "import bpy, sys; bpy.ops.wm.open_mainfile(filepath=sys.argv[-1]); sc = bpy.context.scene;"
            "ed = sc.sequence_editor; strips = ed.strips if hasattr(ed, 'strips') else ed.sequences;"
            "s = strips['NNA Soundtrack'];"
            "print('NNA', s.frame_start, s.frame_final_duration, bool(s.sound.packed_file))",
            str(blend),
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next(ln for ln in check.stdout.splitlines() if ln.startswith("NNA "))
    assert line.split()[1:] == ["1.0", "160", "True"] or line.split()[1:] == ["1", "160", "True"], line


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda d: d / "missing.wav", ["no such file"]),
        (lambda d: (d / "bad.wav").write_text("not a sound") and d / "bad.wav", ["not a sound file Blender can read"]),
        (lambda d: d, ["not a regular file"]),
    ],
    ids=["missing", "unreadable", "folder"],
)
def test_bad_audio_is_one_line_before_any_work(tmp_path, make, words):
    import bpy

    if not bpy.app.build_options.audaspace and "Blender can read" in words[0]:
        words = ["built without sound support"]  # the bpy 4.2 wheel: no sound at all, said so
    audio = make(tmp_path)
    proc = run("build", "--preset", "xor", "--audio", str(audio), "--blend", str(tmp_path / "x.blend"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), lines
    assert not (tmp_path / "x.blend").exists()
    assert "training" not in proc.stdout  # refused before training


def test_no_sound_support_is_one_line(bpy_env, tmp_path, monkeypatch):
    """A Blender built without Audaspace says so in one line, not "not a sound file"."""
    compat = import_module(f"{ADDON_MODULE}.addon.compat")
    render = import_module(f"{ADDON_MODULE}.addon.render")
    errors = import_module(f"{ADDON_MODULE}.nncore.errors")
    monkeypatch.setattr(compat, "has_audio", lambda: False)
    with pytest.raises(errors.NNCoreError, match=r"^audio: this Blender .* built without sound support") as exc:
        render.audio_seconds(sine_wav(tmp_path / "a.wav", 1.0))
    assert "\n" not in str(exc.value)


def test_the_panel_fits_to_audio_and_the_build_carries_the_track(bpy_env, tmp_path, sound):
    bpy = bpy_env
    wav = sine_wav(tmp_path / "music.wav", 12.5)
    pg = bpy.context.scene.nna
    pg.preset = "xor"
    pg.cycles, pg.show = 300, 3
    pg.audio_path = str(wav)
    assert bpy.ops.nna.fit_to_audio() == {"FINISHED"}
    assert pg.duration == pytest.approx(12.5)
    assert bpy.ops.nna.build_network() == {"FINISHED"}
    net = bpy.context.scene
    assert net.frame_end == round(12.5 * net.render.fps)
    ed = net.sequence_editor
    strip = (ed.strips if hasattr(ed, "strips") else ed.sequences)["NNA Soundtrack"]
    assert strip.frame_start == 1 and abs(strip.frame_final_duration - net.frame_end) <= 1
    pg = net.nna  # the network's scene, with the panel's settings carried over
    assert pg.audio_path == str(wav)
    pg.audio_path = str(tmp_path / "gone.wav")
    with pytest.raises(RuntimeError, match="no such file"):
        bpy.ops.nna.fit_to_audio()
    with pytest.raises(RuntimeError, match="no such file"):
        bpy.ops.nna.build_network()
