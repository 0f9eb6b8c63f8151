"""Keep Blender's own console chatter out of the command line's messages.

Blender's C code writes to the process's file descriptors 1 and 2 directly: "Saved: ..." after every
image (even when the write failed), "Video append frame", "Time: ..." lines, three "EGL Error
(0x3009): EGL_BAD_MATCH" lines from software OpenGL at the first render, and the whole Python
traceback of an operator that failed (which the command line already turns into one line). While
:func:`filtered` is active:

- descriptors 1 and 2 (and so Python's ``print`` from Blender's own add-ons, e.g. the glTF
  exporter's INFO lines) are pipes read by two threads; the command line's own messages go to
  :func:`stdout` / :func:`stderr`, streams on the real descriptors, unfiltered;
- Blender's stdout lines are dropped when they are known chatter (``NOISE``) or ``quiet`` is set, the
  rest is passed on as it comes;
- Blender's stderr lines are held back: known chatter is dropped, and the rest is passed on when the
  block ends *without* an exception (a real warning is never hidden). When the block raises, the
  caller reports the failure in one line (the ``reported`` exceptions) and the held-back lines are
  dropped; with ``NNA_VERBOSE=1``
  in the environment everything is passed on unfiltered.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Lines Blender prints that carry no information for the user of the command line.
NOISE = re.compile(
    rb"^\s*$|EGL Error \(0x[0-9a-fA-F]+\)|(^|\| )(Saved: |Video append frame|Append frame|Time: |Fra:|"
    rb"Blender quit|Writing: |Info: Saved|Read blend:|Read prefs:|INFO:? )"
)

_real: list = []  # (stdout, stderr) streams on the real descriptors while filtered() is active


def stdout():
    """Where the command line's own messages go: the real stdout, unfiltered."""
    return _real[-1][0] if _real else sys.stdout


def stderr():
    return _real[-1][1] if _real else sys.stderr


def _pump(fd: int, out_fd: int, keep: list[bytes] | None, drop_all: bool) -> None:
    """Read lines from ``fd``; pass on (to ``out_fd``) or keep (in ``keep``) what is not noise."""
    with os.fdopen(fd, "rb", buffering=0) as src:
        buf = b""
        while True:
            chunk = src.read(65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                _route(line + b"\n", out_fd, keep, drop_all)
        if buf:
            _route(buf, out_fd, keep, drop_all)


def _route(line: bytes, out_fd: int, keep: list[bytes] | None, drop_all: bool) -> None:
    if drop_all or NOISE.search(line):
        return
    if keep is not None:
        keep.append(line)
    else:
        os.write(out_fd, line)


@contextmanager
def filtered(quiet: bool = False, reported: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Filter what Blender writes to descriptors 1 and 2 for the block (see the module's docstring).

    ``reported``: exceptions the caller turns into its own one-line message; Blender's held-back
    stderr is dropped for those only (an unexpected exception keeps it, for the bug report)."""
    if os.environ.get("NNA_VERBOSE") == "1":
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    real_out, real_err = os.dup(1), os.dup(2)
    held: list[bytes] = []
    threads = []
    for target, real, keep, drop_all in ((1, real_out, None, quiet), (2, real_err, held, False)):
        r, w = os.pipe()
        os.dup2(w, target)
        os.close(w)
        t = threading.Thread(target=_pump, args=(r, real, keep, drop_all), daemon=True)
        t.start()
        threads.append(t)
    mine = tuple(
        os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="backslashreplace")
        for fd in (real_out, real_err)
    )
    _real.append(mine)
    failed = False
    try:
        yield
    except reported:
        failed = True
        raise
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        _real.remove(mine)
        for stream in mine:
            stream.close()
        os.dup2(real_out, 1)  # closes the pipes' last write ends: the threads read to the end and stop
        os.dup2(real_err, 2)
        for t in threads:
            t.join(timeout=5)
        if not failed:
            for line in held:
                os.write(real_err, line)
        os.close(real_out)
        os.close(real_err)
