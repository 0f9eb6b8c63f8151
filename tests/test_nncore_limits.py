"""Resource limits (issue 9, items 7-9): every limit is enforced before the work it protects, in
one line naming the limit and the value; the bombs run in subprocesses under a memory cap
(RLIMIT_AS) so that a regression fails the test instead of taking the machine down."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import time

import pytest
from conftest import ROOT
from conftest import nncore_cli as run_cli

from nncore import limits, presets
from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.presets import check, check_buildable, make_plan, settings_for
from nncore.timeline import Timing

CAP_MB = 1024


def _cap(mb: int):
    def apply():
        n = mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (n, n))

    return apply


def capped(*args: str, mb: int = CAP_MB, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m nncore ARGS`` under a memory cap of ``mb`` MB (address space)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "nncore", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap(mb),
        env=env,
    )


def one_line(r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr, r.stderr[-2000:]
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nncore: error: "), r.stderr[-2000:]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


# --- item 8: files that never end, never come, or are too big ------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_as_csv_and_plan(out_dir, device):
    t = time.perf_counter()
    one_line(capped("train", "--preset", "csv", "--csv", device, "--out", str(out_dir / "p.json")), device, "device")
    one_line(capped("check", device), device, "device")
    assert time.perf_counter() - t < 30
    assert os.listdir(out_dir) == []


def test_fifos_are_refused_without_blocking(tmp_path, out_dir):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    one_line(
        capped("train", "--preset", "csv", "--csv", str(fifo), "--out", str(out_dir / "p.json"), timeout=20), "FIFO"
    )
    one_line(capped("check", str(fifo), timeout=20), "FIFO")


def test_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "data.csv"
    link.symlink_to("/dev/zero")
    with pytest.raises(NNCoreError, match="is a device"):
        limits.read_file(str(link), limits.MAX_CSV_BYTES, "csv")


def test_read_file_problems(tmp_path):
    with pytest.raises(NNCoreError, match="csv: .*: no such file"):
        limits.read_file(str(tmp_path / "nope.csv"), 10, "csv")
    with pytest.raises(NNCoreError, match="is a folder"):
        limits.read_file(str(tmp_path), 10, "csv")
    with pytest.raises(NNCoreError, match="no file name given"):
        limits.read_file("", 10, "csv")
    with pytest.raises(NNCoreError, match="NUL"):
        limits.read_file("a\0b", 10, "csv")
    f = tmp_path / "f"
    f.write_bytes(b"x" * 11)
    with pytest.raises(NNCoreError, match="11 bytes is over the limit of 10 bytes"):
        limits.read_file(str(f), 10, "csv")
    assert limits.read_file(str(f), 11, "csv") == b"x" * 11


@pytest.mark.parametrize(
    "command, limit",
    [(["check"], limits.MAX_PLAN_BYTES), (["train", "--preset", "csv", "--csv"], limits.MAX_CSV_BYTES)],
    ids=["plan", "csv"],
)
def test_files_over_the_size_limit_are_refused_before_reading(tmp_path, out_dir, command, limit):
    big = tmp_path / "big"
    with open(big, "wb") as fh:  # sparse: no disk space used, no memory if read
        fh.truncate(limit + 1)
    argv = [*command, str(big)] + (["--out", str(out_dir / "p.json")] if command[0] == "train" else [])
    one_line(capped(*argv, mb=512), f"{limit + 1:,} bytes is over the limit of {limit:,} bytes")


def test_huge_layers_are_refused_before_training(out_dir):
    # 3-4096-4096-1: MemoryError traceback before; 3-1000-1000-1 would have run for hours
    for layers in ("3,4096,4096,1", "3,1000,1000,1"):
        t = time.perf_counter()
        r = capped("train", "--layers", layers, "--cycles", "100000", "--out", str(out_dir / "p.json"))
        one_line(r, "plan size", "over the limit of 6,000,000")
        assert time.perf_counter() - t < 20
    assert os.listdir(out_dir) == []


def _csv(path, rows: int, cols: int = 3) -> None:
    path.write_text("\n".join(",".join(["0"] * cols) for _ in range(rows)) + "\n")


def test_many_rows_many_shown_examples_refused(tmp_path, out_dir):
    data = tmp_path / "rows.csv"
    _csv(data, 100_000)
    r = capped(
        "train",
        "--preset",
        "csv",
        "--csv",
        str(data),
        "--examples-shown",
        "100000",
        "--show",
        "200",
        "--cycles",
        "300",
        "--out",
        str(out_dir / "p.json"),
    )
    one_line(r, "shown steps", "20,000,000", f"over the limit of {limits.MAX_STEPS:,}")


def test_csv_rows_columns_cells_limits(tmp_path, out_dir):
    base = ["train", "--preset", "csv", "--quiet", "--out", str(out_dir / "p.json")]
    rows = tmp_path / "rows.csv"
    _csv(rows, limits.MAX_CSV_ROWS + 1)
    one_line(capped(*base, "--csv", str(rows)), "more than 100,000 data rows")
    wide = tmp_path / "wide.csv"
    _csv(wide, 2, limits.MAX_CSV_COLUMNS + 1)
    one_line(capped(*base, "--csv", str(wide)), "8,193 columns, over the limit of 8,192")
    cells = tmp_path / "cells.csv"
    _csv(cells, 30_000, 100)  # 3,000,000 cells
    one_line(capped(*base, "--csv", str(cells)), "more than 2,000,000 cells")


def test_a_crafted_plan_with_100k_keys_per_track_is_refused(tmp_path):
    """The issue's 42 MB plan: 100,000 keys in every track passed check and built at 2.1 GB."""
    p = make_plan(settings_for("article", cycles=20, show=2))
    K = 100_000
    frames = list(range(1, K + 1))

    def track(n):
        return {"frames": frames, "interpolation": ["CONSTANT"] * K, "values": [[0.0] * n] * K if n else [0.0] * K}

    p["tracks"]["neuron_activity"] = track(8)
    for g in p["tracks"]["synapse_layers"]:
        n = len(g["source"])
        g.update(weight=track(n), signal=track(n), error=track(n), forward=track(0), backward=track(0))
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(p))
    assert os.path.getsize(path) > 30e6
    t = time.perf_counter()
    one_line(capped("check", str(path)), "tracks.neuron_activity.frames", "100,000 entries, over the limit of 50,000")
    assert time.perf_counter() - t < 30


def test_too_many_numbers_are_refused_before_parsing():
    n = 2 * limits.MAX_PLAN_VALUES + 1_000_001
    text = b"[" + b"0," * n + b"0]"
    t = time.perf_counter()
    with pytest.raises(NNCoreError, match="holds more than 13,000,000 items"):
        plan_io.loads(text)
    assert time.perf_counter() - t < 5


def test_plan_size_limit_in_the_validator(monkeypatch):
    p = make_plan(settings_for("xor", cycles=50, show=2))
    plan_io.validate(p)
    monkeypatch.setattr(limits, "MAX_PLAN_VALUES", 1000)
    with pytest.raises(NNCoreError, match="the plan holds more than 1,000 numbers"):
        plan_io.validate(p)


# --- item 7: nncore never writes a plan Blender cannot hold -----------------------------------------------


def test_a_timeline_past_blenders_last_frame_is_refused_before_training(out_dir, monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("trained")

    monkeypatch.setattr(presets, "iter_train", no_training)
    argv = ["train", "--cycles", "200", "--show", "200", "--fps", "240", "--forward-seconds", "60"]
    argv += ["--backward-seconds", "60", "--hold-seconds", "60", "--state-seconds", "60", "--quiet"]
    rc, _, err = run_cli([*argv, "--out", str(out_dir / "p.json")])
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "frame 60,539,000" in err and "1,048,574" in err
    assert os.listdir(out_dir) == []


CASES = {
    "article": settings_for("article"),
    "xor-fast": settings_for("xor", cycles=300, show=5, timing=Timing(fps=1, forward_seconds=0, hold_seconds=0)),
    "deep-batch": settings_for("xor", layers=(2, 5, 4, 3, 1), batch=2, cycles=200, show=(1, 2, 3, 200), bias=False),
    "slow": settings_for("or", cycles=100, show=100, timing=Timing(fps=240, forward_seconds=2, state_seconds=5)),
    "duration-pace": settings_for("xor", cycles=300, duration=37.3),
    "duration-cycles": settings_for("xor", cycles=300, duration=37.3, fit="cycles"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_bound_the_plan(name):
    """The frame count is exact; plan size, longest track and scene keys are upper bounds (tight)."""
    s = CASES[name]
    est = check(s)
    p = make_plan(s)
    assert est.frames == p["timing"]["frame_end"]
    tracks = [p["tracks"]["neuron_activity"]] + [
        t for g in p["tracks"]["synapse_layers"] for t in g.values() if isinstance(t, dict)
    ]
    longest = max(len(t["frames"]) for t in tracks)
    assert longest <= est.keys_per_track <= 1.5 * longest + 10

    def numbers(o):
        if isinstance(o, dict):
            return sum(numbers(v) for v in o.values())
        if isinstance(o, list):
            return sum(numbers(v) for v in o)
        return int(isinstance(o, (int, float)) and not isinstance(o, bool))

    n = numbers(p)
    assert n <= est.plan_values <= 1.4 * n + 2000, (n, est.plan_values)
    keys = limits.scene_keys(p)
    assert keys <= est.scene_keys <= 1.4 * keys + 1000, (keys, est.scene_keys)


def test_nncore_writes_only_plans_it_reads(tmp_path):
    """At the frame limit: the longest timeline nncore accepts is within Blender's range and loads."""
    # steps of 0.5 + 0.5 + 60 s at 240 fps (14,641 frames): 17 shown cycles x 4 examples fit, 18 do not
    t = Timing(fps=240, forward_seconds=0.5, backward_seconds=0.5, hold_seconds=60, state_seconds=60)
    s = settings_for("xor", cycles=20, show=17, timing=t)
    est = check(s)
    assert 1_000_000 < est.frames <= limits.MAX_FRAME
    p = make_plan(s)
    plan_io.save(p, str(tmp_path / "p.json"))
    assert plan_io.load(str(tmp_path / "p.json"))["timing"]["frame_end"] == est.frames
    with pytest.raises(NNCoreError, match="past Blender's last frame 1,048,574"):
        check(settings_for("xor", cycles=20, show=18, timing=t))


# --- the training budget and memory ------------------------------------------------------------------------


def test_training_budget_refuses_and_can_be_raised():
    s = settings_for("xor", layers=(2, 64, 64, 1), cycles=10_000_000, show=3)
    with pytest.raises(NNCoreError, match=r"training work .* is over the limit of 10,000,000,000") as exc:
        check(s)
    assert "--max-work" in str(exc.value) and "min)" in str(exc.value)
    check(settings_for("xor", layers=(2, 64, 64, 1), cycles=10_000_000, show=3, max_work=1e12))
    # small networks on the numpy path: the per-update cost counts (10 million cycles of 2-example batches)
    with pytest.raises(NNCoreError, match="training work"):
        check(settings_for("xor", batch=2, cycles=10_000_000))
    check(settings_for("article", cycles=10_000_000))  # the kernel: about 1.5 minutes, allowed
    check(settings_for("article"))


def test_max_work_option(out_dir):
    base = ["train", "--preset", "xor", "--cycles", "200", "--show", "2", "--quiet", "--out", str(out_dir / "p.json")]
    rc, _, err = run_cli([*base, "--max-work", "1000"])
    assert rc == 2 and "over the limit of 1,000" in err and len(err.splitlines()) == 1
    for bad in ("0", "-1", "nan"):
        rc, _, err = run_cli([*base, "--max-work", bad])
        assert rc == 2 and "--max-work" in err and len(err.splitlines()) == 1, err
    rc, _, err = run_cli([*base, "--max-work", "1e7"])
    assert rc == 0, err


def test_full_batch_memory_limit(tmp_path):
    data = tmp_path / "d.csv"
    _csv(data, 100_000)
    s = settings_for("csv", csv=str(data), layers=(2, 100, 1), batch=0, cycles=10, show=2)
    with pytest.raises(NNCoreError, match=r"memory \(rows of a batch x neurons\): 10,300,000 is over the limit"):
        check(s)
    check(settings_for("csv", csv=str(data), layers=(2, 100, 1), batch=1000, cycles=10, show=2))


def test_too_many_layers():
    with pytest.raises(NNCoreError, match="33 layers is over the limit of 32"):
        check(settings_for("xor", layers=(2,) + (1,) * 31 + (1,)))


# --- item 9: the add-on's limits, checked before training ----------------------------------------------------


def test_buildable_is_checked_before_training(monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("trained")

    monkeypatch.setattr(presets, "iter_train", no_training)
    t = time.perf_counter()
    with pytest.raises(NNCoreError, match=r"too large to build interactively: 8,005 neurons and 24,000 synapses"):
        check_buildable(settings_for("article", layers=(3, 4000, 1, 4000, 1), cycles=100, show=1, examples_shown=1))
    assert time.perf_counter() - t < 1
    # over the scene's keyframes: a per-object build is refused (nncore's plan-size limit keeps real
    # per-object networks under it today, so the limit is lowered here) ...
    article = settings_for("article", cycles=100, show=10)
    with monkeypatch.context() as m:
        m.setattr(limits, "MAX_SCENE_KEYS", check(article).scene_keys - 1)
        with pytest.raises(NNCoreError, match=r"scene size \(keyframes of every neuron and synapse\)"):
            check_buildable(article)
    # ... an instanced one (its values live in tables) is not bounded by F-curve keys
    wide = settings_for("xor", layers=(2, 60, 60, 1), cycles=100, show=71)
    assert not limits.per_object(wide.layers) and check(wide).scene_keys > limits.MAX_SCENE_KEYS
    check_buildable(wide)
    est = check_buildable(settings_for("article"))
    assert est.neurons == 8 and est.synapses == 16 and est.scene_keys < limits.MAX_SCENE_KEYS


def test_the_representation_rule():
    """nncore.limits.per_object is the add-on's one rule (scene.representation uses it)."""
    assert limits.per_object([3, 4, 1]) and limits.per_object([16, 16, 16, 16, 1])
    assert limits.per_object([20, 50]) is False  # 1,000 synapses, but one layer of more than 256
    assert limits.per_object([16, 16, 16, 16, 14]) and not limits.per_object(
        [16, 16, 16, 16, 15]
    )  # 992, 1,008 synapses
    assert not limits.per_object([64, 16, 10])


def test_buildable_plan(monkeypatch):
    p = make_plan(settings_for("xor", cycles=50, show=2))
    limits.check_buildable_plan(p)
    monkeypatch.setattr(limits, "MAX_SCENE_KEYS", limits.scene_keys(p) - 1)
    with pytest.raises(NNCoreError, match="scene size"):
        limits.check_buildable_plan(p)
    with pytest.raises(NNCoreError, match="too large to build"):
        limits.check_buildable([2, 4000, 1, 4000, 1])


def test_iter_make_plan_checks_when_called():
    """The Blender operator starts training in a modal loop: bad settings must raise at once."""
    with pytest.raises(NNCoreError, match="plan size"):
        presets.iter_make_plan(settings_for("article", layers=(3, 1000, 1000, 1)))


def test_limits_are_documented():
    readme = (ROOT / "README.md").read_text()
    doc = (ROOT / "docs" / "nncore.md").read_text()
    for value in (
        limits.MAX_PLAN_BYTES,
        limits.MAX_CSV_BYTES,
        limits.MAX_CSV_ROWS,
        limits.MAX_CSV_COLUMNS,
        limits.MAX_CSV_CELLS,
        limits.MAX_PLAN_VALUES,
        limits.MAX_KEYS_PER_TRACK,
        limits.MAX_STEPS,
        limits.MAX_FRAME,
        limits.MAX_WORK,
        limits.MAX_ACTIVATIONS,
        limits.MAX_SCENE_KEYS,
        limits.MAX_JSON_DEPTH,
        limits.MAX_LAYERS,
    ):
        text = f"{value:,}"
        mib = f"{value // 2**20} MiB" if value >= 2**20 and value % 2**20 == 0 else None
        assert text in doc or (mib and mib in doc), (value, "docs/nncore.md")
        assert text in readme or (mib and mib in readme), (value, "README.md")


def test_special_file_kinds_named():
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(NNCoreError, match="is a device"):
        plan_io.load("/dev/null")
