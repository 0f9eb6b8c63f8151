"""Output files, one way for nncore and the add-on: check the path before any work, write under a
temporary name, verify, rename. No bpy here.

- :func:`check_file` / :func:`check_folder`: the path is usable *before* any work is done: a valid
  name, the folder exists and a file can really be created in it (``os.access`` says yes to root on
  read-only file systems), and the target is absent or a regular file (never a device, FIFO,
  socket, symlink or folder, which a rename would replace: ``--out /dev/null`` as root would
  replace the system's /dev/null).
- :func:`atomic_files` (and :func:`atomic_file` for one): yields temporary names in the target
  folder; when the block ends, each file is verified (``verify(tmp)`` raises
  :class:`NNCoreError`), flushed to disk and renamed to its final name. On any exception, and on
  SIGTERM or SIGHUP, the temporary files are removed and the folder is left as it was.
- Verifiers that read the files back: :func:`verify_png`, :func:`verify_mp4`, :func:`verify_blend`,
  :func:`verify_glb`, :func:`verify_bytes`. Blender prints "Saved:" even when a write failed on a full
  disk (a 0-byte PNG, an mp4 without its index); only reading the file back tells.
- :func:`safe_name` and :func:`printable`: names from a plan or a CSV before they reach a file name
  or the terminal.

Every failure is one line (:class:`NNCoreError`) naming what could not be written and why.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import stat
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from .errors import NNCoreError

#: Longest file name (bytes) and path most Linux file systems take.
NAME_MAX = 255
PATH_MAX = 4096

#: Files Blender writes beside a .blend while saving it (removed with the temporary file).
_COMPANIONS = ("@", "1")

Verify = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# names and text


def printable(text: object, limit: int = 120) -> str:
    """``text`` safe for one terminal line: control characters escaped, at most ``limit`` characters."""
    s = str(text)
    if len(s) > limit:
        s = s[:limit] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def safe_name(text: object, default: str = "network", limit: int = 64) -> str:
    """``text`` as part of a file name: letters, digits, ``-`` and ``_`` only, at most ``limit`` long."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", str(text) if isinstance(text, str) else "").strip("_")[:limit]
    return s or default


# --------------------------------------------------------------------------------------------
# checks before work


def path_text(path: object, what: str) -> str:
    """``path`` as text, or one line: not a path, empty, or holding a NUL (inputs and outputs alike)."""
    try:
        p = os.fspath(path)  # type: ignore[arg-type]
    except TypeError:
        raise NNCoreError(f"{what}: not a file path: {printable(repr(path), 60)}") from None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if not p.strip():
        raise NNCoreError(f"{what}: no file name given")
    if "\0" in p:
        raise NNCoreError(f"{what}: the file name holds a NUL character")
    return p


def _abspath(path: object, what: str) -> str:
    p = os.path.abspath(os.path.expanduser(path_text(path, what)))
    try:
        encoded = os.fsencode(p)
    except UnicodeError:
        raise NNCoreError(f"{what}: the file name is not valid text: {printable(p)}") from None
    if len(encoded) > PATH_MAX:
        raise NNCoreError(f"{what}: the path is longer than {PATH_MAX} bytes")
    if len(os.fsencode(os.path.basename(p))) > NAME_MAX:
        raise NNCoreError(f"{what}: the file name is longer than {NAME_MAX} bytes: {printable(os.path.basename(p))}")
    return p


def _probe_writable(folder: str, what: str) -> None:
    """Create and remove a file there: the only test that holds for root and read-only mounts."""
    probe = os.path.join(folder, f".nna-probe-{uuid.uuid4().hex[:10]}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise NNCoreError(
            f"{what}: cannot write in {printable(folder)}: the folder is not writable ({exc.strerror})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_folder(path: object, what: str = "output") -> str:
    """The absolute path of an existing folder a file can be created in; else one line."""
    p = _abspath(path, what)
    if not os.path.isdir(p):
        if os.path.exists(p):
            raise NNCoreError(f"{what}: {printable(p)} is not a folder")
        raise NNCoreError(f"{what}: folder {printable(p)} does not exist")
    _probe_writable(p, what)
    return p


def check_file(
    path: object, what: str = "output", ext: str | None = None, add_ext: bool = False, probe: bool = True
) -> str:
    """The absolute path of an output file, checked before any work; else one line naming ``what``.

    ``ext`` (e.g. ".mp4"): the name must end in it (any case); ``add_ext`` adds it to a name that has
    no extension at all. The folder must exist and be writable (``probe``: really tried); the target
    must be absent or a regular file.
    """
    p = _abspath(path, what)
    if ext is not None:
        have = os.path.splitext(p)[1]
        if not have and add_ext:
            p += ext
            p = _abspath(p, what)
        elif have.lower() != ext.lower():
            raise NNCoreError(f"{what}: {printable(os.path.basename(p))} must end in {ext}")
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise NNCoreError(f"{what}: {printable(os.path.dirname(p))} is not a folder") from None
        raise NNCoreError(f"{what}: cannot use {printable(p)} ({exc.strerror})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(st.st_mode)
            else "a symbolic link"
            if stat.S_ISLNK(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        raise NNCoreError(f"{what}: {printable(p)} is {kind}; give the name of a regular file")
    folder = os.path.dirname(p)
    if not os.path.isdir(folder):
        raise NNCoreError(f"{what}: folder {printable(folder)} does not exist")
    if probe:
        _probe_writable(folder, what)
    return p


# --------------------------------------------------------------------------------------------
# temporary names, removed on any failure and on SIGTERM / SIGHUP

_pending: set[str] = set()
_lock = threading.Lock()
_previous_handlers: dict[int, object] = {}
_CLEANUP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _remove(path: str) -> None:
    for p in (path, *(path + c for c in _COMPANIONS)):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError:
            pass


def _on_signal(signum, frame) -> None:  # pragma: no cover - exercised in a subprocess test
    """Remove every pending temporary file, then die of the signal as if we had no handler."""
    for p in list(_pending):
        _remove(p)
    _pending.clear()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    """Install the cleanup handlers (main thread, and only over the default action)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in _CLEANUP_SIGNALS:
        if sig not in _previous_handlers and signal.getsignal(sig) == signal.SIG_DFL:
            _previous_handlers[sig] = signal.signal(sig, _on_signal)


def _uninstall() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, prev in list(_previous_handlers.items()):
        if signal.getsignal(sig) is _on_signal:
            signal.signal(sig, prev)  # type: ignore[arg-type]
        del _previous_handlers[sig]


def temp_name(final: str, suffix: str | None = None) -> str:
    """A fresh hidden name in ``final``'s folder, ending in ``suffix`` (default: ``final``'s extension)."""
    ext = os.path.splitext(final)[1] if suffix is None else suffix
    return os.path.join(os.path.dirname(final), f".nna-{uuid.uuid4().hex[:10]}.partial{ext}")


def _fsync_path(path: str, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _explain(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextmanager
def atomic_files(
    finals: Sequence[str],
    what: str = "output",
    verify: Verify | Sequence[Verify | None] | None = None,
    suffix: str | None = None,
) -> Iterator[list[str]]:
    """Temporary names for ``finals``; after the block: verify each, flush, rename all.

    All files get their final names only when every one of them verified. On any exception (and on
    SIGTERM / SIGHUP) the temporary files are removed and nothing in the folder changes.
    """
    tmps = [temp_name(f, suffix) for f in finals]
    checks = list(verify) if isinstance(verify, (list, tuple)) else [verify] * len(finals)
    with _lock:
        if not _pending:
            _install()
        _pending.update(tmps)
    try:
        yield tmps
        for tmp, final, check in zip(tmps, finals, checks):
            if not os.path.isfile(tmp):
                raise NNCoreError(f"{what}: nothing was written for {printable(os.path.basename(final))}")
            if check is not None:
                check(tmp)
            _fsync_path(tmp)
        for tmp, final in zip(tmps, finals):
            os.replace(tmp, final)
        for folder in {os.path.dirname(f) for f in finals}:
            try:
                _fsync_path(folder, directory=True)
            except OSError:
                pass
    except OSError as exc:
        raise NNCoreError(f"{what}: cannot write {printable(finals[0])} ({_explain(exc)})") from None
    finally:
        for tmp in tmps:
            _remove(tmp)
        with _lock:
            _pending.difference_update(tmps)
            if not _pending:
                _uninstall()


@contextmanager
def atomic_file(
    final: str, what: str = "output", verify: Verify | None = None, suffix: str | None = None
) -> Iterator[str]:
    """:func:`atomic_files` for one file: yields its temporary name."""
    with atomic_files([final], what, verify, suffix) as (tmp,):
        yield tmp


def write_bytes(final: str, data: bytes, what: str = "output") -> None:
    """Write ``data`` to ``final`` atomically, read it back to verify, keep the permissions a new file gets."""
    with atomic_file(final, what, verify=lambda p: verify_bytes(p, data, what)) as tmp:
        with open(tmp, "xb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def no_space_hint(folder: str) -> str:
    """' (the disk is full)' when ``folder``'s file system has (almost) no space left, else ''."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return ""
    return " (the disk is full)" if st.f_bavail * st.f_frsize < 1 << 20 else ""


# --------------------------------------------------------------------------------------------
# verification: read the file back


def _bad(what: str, path: str, why: str) -> NNCoreError:
    return NNCoreError(f"{what}: the written file is broken ({why}){no_space_hint(os.path.dirname(path))}")


def verify_bytes(path: str, data: bytes, what: str = "output") -> None:
    with open(path, "rb") as fh:
        if fh.read() != data:
            raise _bad(what, path, "it does not read back as written")


def verify_png(path: str, size: tuple[int, int] | None = None, what: str = "image") -> None:
    """A complete PNG (every chunk's CRC, the image data inflates to exactly its size), of ``size``."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise _bad(what, path, f"not a PNG, {len(data)} bytes")
    pos, idat, ihdr, end = 8, [], None, False
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if len(body) != n or pos + 12 + n > len(data):
            raise _bad(what, path, "truncated")
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        if zlib.crc32(kind + body) != crc:
            raise _bad(what, path, f"bad checksum in {kind.decode('latin-1')}")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            end = True
            break
        pos += 12 + n
    if ihdr is None or not end:
        raise _bad(what, path, "truncated")
    w, h, depth, colour, _, _, interlace = ihdr
    if size is not None and (w, h) != tuple(size):
        raise _bad(what, path, f"{w}x{h}, expected {size[0]}x{size[1]}")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        raise _bad(what, path, f"unknown colour type {colour}")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error:
        raise _bad(what, path, "its image data does not inflate") from None
    if interlace == 0 and len(raw) != h * (1 + (w * channels * depth + 7) // 8):
        raise _bad(what, path, "its image data has the wrong length")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the ISO-BMFF boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            if pos + 16 > end:
                return
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise ValueError(f"box {kind!r} runs past the end")
        yield kind, pos + head, pos + size
        pos += size


def mp4_tracks(path: str) -> list[dict]:
    """The tracks of an .mp4 from its index: ``{"kind": "vide"|"soun"|..., "seconds": ..., "samples": ...}``.

    ValueError if the file has no complete index (Blender's FFmpeg writes it last: a full disk or a
    killed render leaves an .mp4 without one, which players cannot open)."""
    with open(path, "rb") as fh:
        data = fh.read()
    top = {k: (a, b) for k, a, b in _boxes(data, 0, len(data))}
    if b"moov" not in top:
        raise ValueError("no moov box: the index was never written")
    if b"mdat" not in top:
        raise ValueError("no mdat box: no frames")
    tracks = []
    for kind, a, b in _boxes(data, *top[b"moov"]):
        if kind != b"trak":
            continue
        mdia = next(((x, y) for k, x, y in _boxes(data, a, b) if k == b"mdia"), None)
        if mdia is None:
            continue
        parts = {k: (x, y) for k, x, y in _boxes(data, *mdia)}
        if b"hdlr" not in parts or b"minf" not in parts:
            continue
        handler = data[parts[b"hdlr"][0] + 8 : parts[b"hdlr"][0] + 12].decode("latin-1")
        seconds = None
        if b"mdhd" in parts:
            m = parts[b"mdhd"][0]
            if data[m] == 1:
                scale, duration = struct.unpack(">IQ", data[m + 20 : m + 32])
            else:
                scale, duration = struct.unpack(">II", data[m + 12 : m + 20])
            seconds = duration / scale if scale else None
        minf = {k: (x, y) for k, x, y in _boxes(data, *parts[b"minf"])}
        stbl = {k: (x, y) for k, x, y in _boxes(data, *minf[b"stbl"])} if b"stbl" in minf else {}
        count = None
        if b"stsz" in stbl:
            (count,) = struct.unpack(">I", data[stbl[b"stsz"][0] + 8 : stbl[b"stsz"][0] + 12])
        tracks.append({"kind": handler, "seconds": seconds, "samples": count})
    if top[b"mdat"][1] - top[b"mdat"][0] == 0 and any(t["samples"] for t in tracks):
        raise ValueError("the frame data is empty")
    return tracks


def mp4_video_frames(path: str) -> int:
    """Number of video samples (frames) in an .mp4's index; ValueError if there is no complete index."""
    video = [t for t in mp4_tracks(path) if t["kind"] == "vide" and t["samples"] is not None]
    if not video:
        raise ValueError("no video track")
    return video[0]["samples"]


def verify_mp4(path: str, n_frames: int | None = None, what: str = "video", audio: bool = False) -> None:
    """The .mp4 has its index, ``n_frames`` video frames and (``audio``) a sound track."""
    try:
        count = mp4_video_frames(path)
        kinds = {t["kind"] for t in mp4_tracks(path)}
    except (ValueError, KeyError, struct.error) as exc:
        raise _bad(what, path, str(exc)) from None
    if n_frames is not None and count != n_frames:
        raise _bad(what, path, f"{count} frames, expected {n_frames}")
    if audio and "soun" not in kinds:
        raise _bad(what, path, "no sound track")


def verify_blend(path: str, what: str = "blend") -> None:
    """A .blend with a complete header and its end block (compressed files: a complete zstd/gzip frame)."""
    with open(path, "rb") as fh:
        head = fh.read(32)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64))
        tail = fh.read()
    if head.startswith(b"BLENDER"):
        if b"ENDB" not in tail:
            raise _bad(what, path, "its end block is missing")
    elif head.startswith(b"\x28\xb5\x2f\xfd") or head.startswith(b"\x1f\x8b"):
        if size < 64:
            raise _bad(what, path, "truncated")
    else:
        raise _bad(what, path, f"not a .blend, {size} bytes")


def verify_glb(path: str, what: str = "glTF") -> None:
    """A binary glTF 2.0 whose header length matches the file and whose JSON chunk parses."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 20 or data[:4] != b"glTF":
        raise _bad(what, path, f"not a .glb, {len(data)} bytes")
    version, length = struct.unpack("<II", data[4:12])
    if version != 2 or length != len(data):
        raise _bad(what, path, f"header says {length} bytes, the file has {len(data)}")
    n, kind = struct.unpack("<I4s", data[12:20])
    if kind != b"JSON":
        raise _bad(what, path, "no JSON chunk")
    try:
        json.loads(data[20 : 20 + n])
    except ValueError:
        raise _bad(what, path, "its JSON does not parse") from None
