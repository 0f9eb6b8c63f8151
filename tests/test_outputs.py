"""nncore.outputs: the one output-path check and atomic, verified writer (no bpy), on a real disk:
special files, read-only and full file systems, SIGTERM/SIGHUP, verifiers fed broken files."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from conftest import default_signals

from nncore import outputs
from nncore.errors import NNCoreError

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _run_nncore(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nncore", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=300
    )


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@contextlib.contextmanager
def small_disk(tmp_path: Path, size: str = "1m", leave: int = 0):
    """A real tmpfs of ``size`` (root only), filled up to ``leave`` free bytes."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True)
    try:
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        if free > leave:
            with open(mnt / "filler", "wb") as fh:
                try:
                    fh.write(b"\0" * (free - leave))
                except OSError:
                    pass
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


needs_root = pytest.mark.skipif(not IS_ROOT, reason="mounting a small tmpfs needs root (CI runs as root)")


# --- checks before work -----------------------------------------------------------------------


def test_check_file_refuses_special_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "real").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    (tmp_path / "dir").mkdir()
    cases = {"fifo": "a FIFO", "link": "a symbolic link", "dir": "a folder"}
    if IS_ROOT:
        os.mknod(tmp_path / "null", 0o666 | 0o020000, os.makedev(1, 3))
        cases["null"] = "a device"
    for name, kind in cases.items():
        with pytest.raises(NNCoreError, match=kind):
            outputs.check_file(tmp_path / name, "output")
    assert outputs.check_file(tmp_path / "real") == str(tmp_path / "real")
    assert outputs.check_file(tmp_path / "new") == str(tmp_path / "new")


def test_check_file_names(tmp_path):
    with pytest.raises(NNCoreError, match="NUL"):
        outputs.check_file(str(tmp_path / "a\0b"))
    with pytest.raises(NNCoreError, match="longer than 255"):
        outputs.check_file(tmp_path / ("x" * 300))
    with pytest.raises(NNCoreError, match="no file name"):
        outputs.check_file("  ")
    with pytest.raises(NNCoreError, match="does not exist"):
        outputs.check_file(tmp_path / "missing" / "x.json")
    with pytest.raises(NNCoreError, match="must end in .mp4"):
        outputs.check_file(tmp_path / "v.avi", "video", ext=".mp4", add_ext=True)
    assert outputs.check_file(tmp_path / "v", "video", ext=".mp4", add_ext=True).endswith("v.mp4")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NNCoreError, match="not a folder"):
        outputs.check_file(tmp_path / "file" / "x.json")
    assert list(tmp_path.glob(".nna-*")) == []  # the write probe leaves nothing


def test_nncore_refuses_a_device_and_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    _one_line_error(_run_nncore("train", "--preset", "xor", "--out", str(tmp_path / "fifo")), "FIFO")
    assert (tmp_path / "fifo").is_fifo()
    if IS_ROOT:
        os.mknod(tmp_path / "null", 0o666 | 0o020000, os.makedev(1, 3))
        _one_line_error(_run_nncore("train", "--preset", "xor", "--out", str(tmp_path / "null")), "device")
        assert (tmp_path / "null").is_char_device()


@pytest.mark.skipif(not IS_ROOT, reason="needs root to mount")
def test_read_only_folder(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mnt)], check=True)
    try:
        _one_line_error(_run_nncore("train", "--preset", "xor", "--out", str(mnt / "x.json")), "not writable")
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_names_from_a_plan_are_made_safe():
    assert outputs.safe_name("article") == "article"
    assert outputs.safe_name("a/b") == "a_b"
    assert outputs.safe_name("\x1b]0;TITLE\x07\x1b[2J") == "0_TITLE_2J"
    assert outputs.safe_name("x" * 300) == "x" * 64
    assert outputs.safe_name("bad\0name") == "bad_name"
    assert outputs.safe_name("") == outputs.safe_name(None) == outputs.safe_name("../..") == "network"
    shown = outputs.printable("wrote \x1b]0;TITLE\x07\x1b[2J" + "y" * 500)
    assert "\x1b" not in shown and "\x07" not in shown and len(shown) < 140
    assert "\\x1b" in shown


# --- atomic writes ----------------------------------------------------------------------------


def test_atomic_file_leaves_nothing_on_error(tmp_path):
    final = tmp_path / "out.bin"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError), outputs.atomic_file(str(final)) as tmp:
        Path(tmp).write_bytes(b"new")
        raise RuntimeError("boom")
    assert final.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_atomic_files_rename_only_when_all_verify(tmp_path):
    finals = [str(tmp_path / f"{i}.png") for i in range(3)]

    def verify(p):
        if Path(p).read_bytes() == b"bad":
            raise NNCoreError("output: broken")

    with pytest.raises(NNCoreError, match="broken"), outputs.atomic_files(finals, verify=verify) as tmps:
        for i, t in enumerate(tmps):
            Path(t).write_bytes(b"bad" if i == 2 else b"ok")
    assert list(tmp_path.iterdir()) == []
    with outputs.atomic_files(finals, verify=verify) as tmps:
        for t in tmps:
            Path(t).write_bytes(b"ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.png", "1.png", "2.png"]


_SLOW_WRITER = """
import sys, time
from nncore import outputs
with outputs.atomic_file(sys.argv[1]) as tmp:
    open(tmp, "wb").write(b"partial")
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_removes_the_temporary_file(tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(tmp_path / "out.json")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    assert proc.stdout.readline().strip() == "ready"
    assert len(list(tmp_path.glob(".nna-*"))) == 1
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == -sig  # dies of the signal, as without a handler
    assert list(tmp_path.iterdir()) == []


def test_an_ignored_sighup_is_left_ignored(tmp_path):
    """Under nohup (SIGHUP ignored) the writer is not killed by a hang-up: the file is completed."""

    def ignore_hup():
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    writer = _SLOW_WRITER.replace("time.sleep(60)", "sys.stdin.readline()")
    proc = subprocess.Popen(
        [sys.executable, "-c", writer, str(tmp_path / "out.json")],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=ignore_hup,
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert proc.poll() is None  # still running
    proc.stdin.write("go on\n")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert (tmp_path / "out.json").read_bytes() == b"partial"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@needs_root
def test_full_disk_plan(tmp_path):
    with small_disk(tmp_path, leave=2048) as disk:
        err = _one_line_error(
            _run_nncore("train", "--preset", "xor", "--cycles", "50", "--out", str(disk / "xor.json")), "xor.json"
        )
        assert "No space left" in err or "disk is full" in err
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


# --- verifiers --------------------------------------------------------------------------------


def _png(w: int, h: int) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\0" + b"\x10\x20\x30" * w for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_verify_png(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(_png(8, 4))
    outputs.verify_png(str(p), (8, 4))
    with pytest.raises(NNCoreError, match="8x4, expected 4x8"):
        outputs.verify_png(str(p), (4, 8))
    for broken in (b"", _png(8, 4)[:40], _png(8, 4)[:-12]):
        p.write_bytes(broken)
        with pytest.raises(NNCoreError, match="broken"):
            outputs.verify_png(str(p), (8, 4))


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _mp4(n_frames: int, with_moov: bool = True) -> bytes:
    stsz = _box(b"stsz", b"\0" * 4 + struct.pack(">II", 0, n_frames))
    hdlr = _box(b"hdlr", b"\0" * 8 + b"vide" + b"\0" * 12)
    trak = _box(b"trak", _box(b"mdia", hdlr + _box(b"minf", _box(b"stbl", stsz))))
    data = _box(b"ftyp", b"isom\0\0\0\0") + _box(b"mdat", b"\1" * 100)
    return data + (_box(b"moov", trak) if with_moov else b"")


def test_verify_mp4(tmp_path):
    p = tmp_path / "v.mp4"
    p.write_bytes(_mp4(24))
    outputs.verify_mp4(str(p), 24)
    with pytest.raises(NNCoreError, match="24 frames, expected 25"):
        outputs.verify_mp4(str(p), 25)
    p.write_bytes(_mp4(24, with_moov=False))
    with pytest.raises(NNCoreError, match="moov"):
        outputs.verify_mp4(str(p), 24)
    p.write_bytes(_mp4(24)[:-10])
    with pytest.raises(NNCoreError, match="broken"):
        outputs.verify_mp4(str(p), 24)


def test_verify_glb_and_blend(tmp_path):
    js = b'{"asset":{"version":"2.0"}}  '
    glb = b"glTF" + struct.pack("<II", 2, 20 + len(js)) + struct.pack("<I4s", len(js), b"JSON") + js
    p = tmp_path / "a.glb"
    p.write_bytes(glb)
    outputs.verify_glb(str(p))
    p.write_bytes(glb[:-3])
    with pytest.raises(NNCoreError, match="header says"):
        outputs.verify_glb(str(p))
    b = tmp_path / "a.blend"
    b.write_bytes(b"BLENDER-v405" + b"\0" * 100 + b"ENDB" + b"\0" * 20)
    outputs.verify_blend(str(b))
    b.write_bytes(b"BLENDER-v405" + b"\0" * 100)
    with pytest.raises(NNCoreError, match="end block"):
        outputs.verify_blend(str(b))
    b.write_bytes(b"")
    with pytest.raises(NNCoreError, match="not a .blend"):
        outputs.verify_blend(str(b))


def test_signal_handlers_are_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    assert before == signal.SIG_DFL
    with outputs.atomic_file(str(tmp_path / "a.bin")) as tmp:
        assert signal.getsignal(signal.SIGTERM) is outputs._on_signal
        Path(tmp).write_bytes(b"x")
    assert signal.getsignal(signal.SIGTERM) == before
    assert (tmp_path / "a.bin").read_bytes() == b"x"
