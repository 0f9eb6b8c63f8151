"""Rendering faster must not change a pixel: the glibc setting that keeps freed memory in the process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import INSTALLED_MODULE, blender_binary, cli_command
from test_disk import _env

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(
        bool(blender_binary()) and not INSTALLED_MODULE,
        reason="inside Blender the command line needs the extension installed: run make test-blender",
    ),
]


def _stills(tmp_path: Path, plan: Path, keep: str) -> dict:
    out = tmp_path / f"keep{keep}"
    out.mkdir()
    env = {**_env(), "NNA_KEEP_FREED_MEMORY": keep}
    cmd = cli_command("render", "--plan", str(plan), "--stills", str(out), "--resolution", "96x64", "--samples", "2")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _pixels(bpy, data: bytes, tmp_path: Path, name: str):
    path = tmp_path / f"decode-{name}"
    path.write_bytes(data)
    img = bpy.data.images.load(str(path))
    try:
        return list(img.pixels[:])
    finally:
        bpy.data.images.remove(img)


def test_keeping_freed_memory_changes_no_pixel(bpy_env, tmp_path):
    from nncore import plan as plan_io
    from nncore.presets import make_plan, settings_for

    plan = tmp_path / "xor.json"
    plan_io.save(make_plan(settings_for("xor", cycles=300, show=3)), str(plan))
    on, off = _stills(tmp_path, plan, "1"), _stills(tmp_path, plan, "0")
    assert len(on) == 3 and on.keys() == off.keys()
    for name in on:  # the same pixels (the files differ only in Blender's time stamp)
        a, b = _pixels(bpy_env, on[name], tmp_path, "on" + name), _pixels(bpy_env, off[name], tmp_path, "off" + name)
        assert a == b, name


def test_keep_freed_memory_is_on_with_glibc(bpy_env):
    from importlib import import_module

    render = import_module(f"{os.environ.get('NNA_ADDON_MODULE') or 'bl_ext.nna_test.nn_animator'}.addon.render")
    assert render.keep_freed_memory() is (os.environ.get("NNA_KEEP_FREED_MEMORY", "1") != "0")
