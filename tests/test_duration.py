"""--duration / --fit: the timeline lasts exactly round(duration x fps) frames (nncore, no bpy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.presets import make_plan, settings_for
from nncore.timeline import Timing, fit_cycles, fit_pace

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("duration", [40.0, 51.7, 91.0, 240.0])
@pytest.mark.parametrize("fps", [12, 24, 30])
def test_pace_is_exact_to_one_frame(duration, fps):
    base = Timing(fps)
    t = fit_pace(base, 2, 91, duration)
    assert t.total_frames(2, 91) == round(duration * fps)
    assert 0 <= t.end_frames <= 2
    t.validate()
    # the pace is stretched in proportion: forward and backward stay equal, as they were
    assert t.forward_seconds == t.backward_seconds


def test_pace_in_a_plan(tmp_path):
    s = settings_for("xor", cycles=300, show=4, duration=20.0)
    plan = make_plan(s)
    assert plan["timing"]["frame_end"] == 20 * 24
    assert plan["states"]["query"]["frame_end"] == plan["timing"]["frame_end"]
    plan_io.save(plan, str(tmp_path / "p.json"))
    assert plan_io.load(str(tmp_path / "p.json"))["timing"]["frame_end"] == 480
    # without a duration nothing changes: no end_frames in the plan
    assert "end_frames" not in make_plan(settings_for("xor", cycles=300, show=4))["timing"]


def test_cycles_chooses_how_many_cycles_are_shown():
    t, c = fit_cycles(Timing(24), 2, 7, 200, 91.0)
    assert t.total_frames(2, 7 * c) == 91 * 24
    assert t.end_frames < 7 * 31  # less than one more cycle
    assert Timing(24).total_frames(2, 7 * (c + 1)) > 91 * 24  # one more would not fit
    plan = make_plan(settings_for("article", cycles=2000, duration=60.0, fit="cycles"))
    assert plan["timing"]["frame_end"] == 60 * 24
    assert len(plan["training"]["shown_cycles"]) == fit_cycles(Timing(24), 2, 7, 200, 60.0)[1]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--duration", "13"], ["too short", "91 shown examples", "--fit cycles"]),
        (["--duration", "13", "--fit", "cycles"], ["too short to show one cycle"]),
        (["--duration", "0"], ["must be positive"]),
        (["--duration", "nan"], ["must be a number"]),
        (["--duration", "50000", "--fps", "240"], ["more than Blender's"]),
        (["--duration", "10000", "--fit", "cycles", "--cycles", "20"], ["longer than 20 shown cycles"]),
        (["--duration", "10", "--fit", "speed"], ["invalid choice"]),
    ],
)
def test_impossible_durations_are_one_line(tmp_path, args, words):
    proc = subprocess.run(
        [sys.executable, "-m", "nncore", "train", "--preset", "article", *args, "--out", str(tmp_path / "p.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert list(tmp_path.iterdir()) == []


def test_the_article_at_the_original_videos_length():
    """13 cycles x 7 examples in 91 s, as the 2015 video."""
    plan = make_plan(settings_for("article", duration=91.0))
    assert plan["timing"]["frame_end"] == 91 * 24
    assert len(plan["steps"]) == 91
    with pytest.raises(NNCoreError, match="too short"):
        make_plan(settings_for("article", duration=10.0))
