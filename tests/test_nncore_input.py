"""Input that used to pass or break (issue 9, items 5, 6, 10, 11): plans, CSV files and arguments are
refused in one line naming the field (or the option), or accepted and right."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import warnings

import pytest
from conftest import ROOT
from conftest import nncore_cli as run_cli

from nncore import cli
from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.presets import make_plan, settings_for
from nncore.timeline import Timing


def assert_one_line(rc: int, err: str, *words: str) -> str:
    assert rc == 2, err
    assert "Traceback" not in err and "Warning" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nncore: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def small():
    return make_plan(settings_for("xor", cycles=120, show=4))


@pytest.fixture(scope="module")
def small_text(small):
    return plan_io.dumps(small)


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def _refused(text, *words) -> str:
    with pytest.raises(NNCoreError) as exc:
        plan_io.loads(text, name="bad.json")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("plan: "), msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


# --- item 5: numbers and nesting that gave tracebacks ------------------------------------------------------


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


ITEM5 = [
    # (id, text mutation, words)
    (
        "int-beyond-64-bits",
        lambda t: _replace(t, '"cycles":[1,', f'"cycles":[{2**64},'),
        ["loss.cycles", "18446744073709551616"],
    ),
    (
        "10**400-learning-rate",
        lambda t: _replace(t, '"learning_rate":1.0', '"learning_rate":1' + "0" * 400),
        ["training.learning_rate", "401-digit"],
    ),
    (
        "1e400-learning-rate",
        lambda t: _replace(t, '"learning_rate":1.0', '"learning_rate":1e400'),
        ["training.learning_rate", "inf"],
    ),
    (
        "10**400-query",
        lambda t: _replace(t, '"query":{"inputs":[1.0', '"query":{"inputs":[1' + "0" * 400),
        ["query.inputs", "entry 1"],
    ),
    ("deep-nesting", lambda t: "[" * 100_000, ["nested more than 16 deep"]),
    (
        "deep-in-a-plan",
        lambda t: _replace(t, '"preset":"xor"', '"preset":' + "[" * 5000 + "]" * 5000),
        ["nested more than 16 deep"],
    ),
    (
        "5001-digit-integer",
        lambda t: _replace(t, '"seed":1,', '"seed":' + "9" * 5001 + ","),
        ["training.seed", "5,001-digit number"],
    ),
    (
        "nan",
        lambda t: _replace(t, '"final_mean_error":', '"final_mean_error":NaN,"x":'),
        ["training.final_mean_error", "NaN"],
    ),
    ("infinity", lambda t: _replace(t, '"fps":24', '"fps":Infinity'), ["timing.fps", "whole number"]),
]


@pytest.mark.parametrize("mutation, words", [c[1:] for c in ITEM5], ids=[c[0] for c in ITEM5])
def test_item5_numbers_and_nesting(tmp_path, small_text, mutation, words):
    text = mutation(small_text)
    _refused(text, *words)
    path = tmp_path / "bad.json"
    path.write_text(text)
    rc, out, err = run_cli(["check", str(path)])
    assert_one_line(rc, err, *words)
    assert out == ""


def test_item5_in_a_real_process(tmp_path, small_text):
    path = tmp_path / "bad.json"
    path.write_text("[" * 100_000)
    r = subprocess.run([sys.executable, "-m", "nncore", "check", str(path)], cwd=ROOT, capture_output=True, text=True)
    assert_one_line(r.returncode, r.stderr, "nested")


# --- item 6: every documented field is checked, with the ranges Blender can hold --------------------------


def _set(plan, path, value):
    obj = plan
    for key in path[:-1]:
        obj = obj[key]
    if value is _DELETE:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


_DELETE = object()

ITEM6 = [
    # (id, field path, new value, words)
    ("examples-missing", ("training", "examples"), _DELETE, ["training.examples", "missing"]),
    ("examples-huge", ("training", "examples"), 10**400, ["training.examples"]),
    ("examples-seven", ("training", "examples"), "seven", ["training.examples", "whole number", "'seven'"]),
    ("examples-mismatch", ("training", "examples"), 5, ["training.final_outputs", "has 4 rows, expected 5"]),
    ("frame-start-negative", ("timing", "frame_start"), -(2**40), ["timing.frame_start", "must be 1"]),
    ("frame-start-2", ("timing", "frame_start"), 2, ["timing.frame_start", "must be 1"]),
    ("frame-end-2**31", ("timing", "frame_end"), 2**31, ["timing.frame_end", "1,048,574"]),
    ("frame-end-1e9", ("timing", "frame_end"), 1e9, ["timing.frame_end", "whole number"]),
    ("frame-end-wrong", ("timing", "frame_end"), 500, ["timing.frame_end", "layout"]),
    ("surrogate-preset", ("preset",), "\ud800", ["preset", "lone surrogate"]),
    ("control-preset", ("preset",), "\x1b]0;TITLE\x07", ["preset", "unprintable", "U+001B"]),
    ("long-preset", ("preset",), "x" * 65, ["preset", "65 characters", "limit of 64"]),
    ("long-dataset", ("training", "dataset"), "d" * 300, ["training.dataset", "limit of 255"]),
    ("generator-type", ("generator",), 3, ["generator", "string"]),
    ("zero-source", ("tracks", "synapse_layers", 0, "source"), [0] * 8, ["synapse_layers[0].source", "numbering"]),
    (
        "swapped-target",
        ("tracks", "synapse_layers", 1, "target"),
        [0, 0, 0, 1],
        ["synapse_layers[1].target", "entry 4"],
    ),
    ("neuron-layers", ("neurons", "layer"), [0] * 7, ["neurons.layer", "entry 3"]),
    ("neuron-index", ("neurons", "index"), list(range(7)), ["neurons.index", "entry 3"]),
    ("batch-negative", ("training", "batch"), -1, ["training.batch", "-1"]),
    ("batch-float", ("training", "batch"), 1.5, ["training.batch", "whole number"]),
    ("seed-huge", ("training", "seed"), 2**32, ["training.seed", "4294967296"]),
    ("shown-examples-range", ("training", "shown_examples"), [0, 1, 2, 4], ["training.shown_examples", "entry 4"]),
    ("shown-examples-order", ("training", "shown_examples"), [0, 2, 1, 3], ["training.shown_examples", "increasing"]),
    ("targets-width", ("training", "targets"), [[0.0, 1.0]] * 4, ["training.targets", "row 1 has 2"]),
    ("final-outputs-type", ("training", "final_outputs"), [["x"]] * 4, ["training.final_outputs", "row 1 entry 1"]),
    ("seconds-nan", ("timing", "hold_seconds"), float("nan"), ["timing.hold_seconds", "NaN"]),
    ("seconds-negative", ("timing", "state_seconds"), -1.0, ["timing.state_seconds", "-1"]),
    ("frames-derived", ("timing", "forward_frames"), 13, ["timing.forward_frames", "expected 12"]),
    ("hold-frames-derived", ("timing", "hold_frames"), 0, ["timing.hold_frames", "expected 6"]),
    ("weights-shape", ("weights", "after", 0), [[0.0, 0.0]] * 3, ["weights.after[0]", "has 3 rows, expected 4"]),
    ("weights-huge", ("weights", "before", 1, 0, 0), 2e6, ["weights.before[1]", "2e+06"]),
    (
        "value-above-float32",
        ("tracks", "neuron_activity", "values", 0, 0),
        3.5e38,
        ["neuron_activity.values", "float32"],
    ),
    ("pulse-above-1", ("tracks", "synapse_layers", 0, "forward", "values", 1), 2.0, ["forward.values", "[0, 1]"]),
    ("loss-unsorted", ("loss", "frames"), "REVERSE", ["loss.frames", "must not decrease"]),
    ("loss-first-cycle", ("loss", "cycles", 0), 2, ["loss.cycles"]),
    ("steps-copies", ("steps",), "COPIES", ["steps", "20,000 steps, expected 16"]),
    ("step-cycle-order", ("steps", 5, "cycle"), 1, ["steps[5].cycle", "does not follow"]),
    ("step-example", ("steps", 0, "example"), 3, ["steps[0].example", "does not follow"]),
    ("step-frames", ("steps", 2, "frame_start"), 200, ["steps[2]", "layout"]),
    ("state-frames", ("states", "after", "frame_end"), 10, ["states.after", "layout"]),
    (
        "query-forward-frames",
        ("states", "query", "forward_frames"),
        [1, 2, 3],
        ["states.query.forward_frames", "segment"],
    ),
    ("text-cycle", ("tracks", "text", "cycle", 0), 5, ["tracks.text.cycle"]),
    ("text-error-negative", ("tracks", "text", "error", 1), -0.5, ["tracks.text.error", "-0.5"]),
    ("track-last-key", ("tracks", "neuron_activity", "frames"), "DROP_LAST", ["neuron_activity", "frame_end"]),
    ("activations-hidden", ("network", "activations"), ["relu", "relu"], ["network.activations", "output layer"]),
    ("too-many-layers", ("network", "layers"), [1] * 33, ["network.layers", "limit of 32"]),
    ("header-width", ("training", "header"), ["a"], ["training.header", "expected 3"]),
]


@pytest.mark.parametrize("path, value, words", [c[1:] for c in ITEM6], ids=[c[0] for c in ITEM6])
def test_item6_fields_are_checked(small, path, value, words):
    plan = copy.deepcopy(small)
    if value == "REVERSE":
        _set(plan, path, list(reversed(plan["loss"]["frames"])))
    elif value == "COPIES":
        plan["steps"] = [plan["steps"][0]] * 20_000
    elif value == "DROP_LAST":
        tr = plan["tracks"]["neuron_activity"]
        for key in ("frames", "interpolation", "values"):
            tr[key].pop()
    else:
        _set(plan, path, value)
    text = json.dumps(plan, allow_nan=True)
    _refused(text, *words)
    with pytest.raises(NNCoreError):
        plan_io.validate(plan)  # the Python API (the add-on's build_network) refuses it too


def test_every_documented_field_must_be_present(small):
    """Delete each key of the plan (and of its first step and track): each is named as missing."""
    paths = []

    def walk(obj, path):
        if isinstance(obj, dict):
            for k, v in obj.items():
                paths.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
            walk(obj[0], (*path, 0))

    walk(small, ())
    assert len(paths) > 100
    for path in paths:
        plan = copy.deepcopy(small)
        _set(plan, path, _DELETE)
        name = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
        with pytest.raises(NNCoreError) as exc:
            plan_io.validate(plan)
        assert f"{name}: missing" in str(exc.value), (path, str(exc.value))


def test_every_scalar_field_is_type_checked(small):
    """Replace each scalar of the plan (outside the big arrays) by a string: each is refused by name."""
    seen = 0
    for top, sub in small.items():
        if not isinstance(sub, dict):
            continue
        for key, v in sub.items():
            if isinstance(v, (int, float, bool, str)):
                plan = copy.deepcopy(small)
                plan[top][key] = [] if isinstance(v, str) else "x"
                with pytest.raises(NNCoreError, match=rf"plan: {top}\.{key}: "):
                    plan_io.validate(plan)
                seen += 1
    assert seen >= 20


def test_bom_and_bytes_are_accepted(tmp_path, small, small_text):
    same = plan_io.dumps(small)  # tables are float32 arrays when read (schema 2): compare the text
    assert plan_io.dumps(plan_io.loads("\ufeff" + small_text)) == same
    assert plan_io.dumps(plan_io.loads(small_text.encode())) == same
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + small_text.encode())
    assert plan_io.dumps(plan_io.load(str(path))) == same
    rc, out, err = run_cli(["check", str(path)])
    assert rc == 0 and "valid plan" in out, err


def test_unknown_fields_are_ignored(small):
    plan = copy.deepcopy(small)
    plan["future"] = {"x": [1, 2]}
    plan["training"]["note"] = "hello"
    plan_io.validate(plan)


def test_huge_python_ints_through_the_api(small):
    plan = copy.deepcopy(small)
    plan["tracks"]["neuron_activity"]["values"][0][0] = 10**400
    with pytest.raises(NNCoreError, match="neuron_activity.values"):
        plan_io.validate(plan)
    plan = copy.deepcopy(small)
    plan["query"]["inputs"][0] = 10**400
    with pytest.raises(NNCoreError, match="query.inputs"):
        plan_io.validate(plan)


def test_float32_edge_is_accepted(small):
    plan = copy.deepcopy(small)
    plan["tracks"]["neuron_activity"]["values"][0][0] = 3.4e38
    plan["tracks"]["synapse_layers"][0]["signal"]["values"][0][0] = -3.4e38
    plan_io.validate(plan)


def test_every_preset_plan_is_valid():
    for preset in ("article", "xor", "and", "or"):
        plan_io.loads(plan_io.dumps(make_plan(settings_for(preset, cycles=200, show=3))))


# --- item 10: arguments ---------------------------------------------------------------------------------------

BAD_ARGS = [
    (["--layers", "2,,1"], ["layers", "'2,,1'", "empty entry"]),
    (["--layers", ",3,1"], ["layers", "empty entry (entry 1)"]),
    (["--layers", "3,4,1,"], ["layers", "empty entry (entry 4)"]),
    (["--show", "1,,2"], ["show", "'1,,2'", "empty entry"]),
    (["--query", "3,,1"], ["query", "'3,,1'", "empty entry"]),
    (["--layers", ""], ["layers", "empty"]),
    (["--show", ""], ["show", "empty"]),
    (["--query", ""], ["query", "empty"]),
    (["--query", " , "], ["query", "empty"]),
    (["--csv", ""], ["--csv", "no file name"]),
    (["--query", "nan,1,0"], ["query", "'nan'", "not a finite number"]),
    (["--layers", "9" * 40], ["layers", "too long"]),
    (["--fit", "cycles"], ["--fit cycles", "only with --duration"]),
]


@pytest.mark.parametrize("args, words", BAD_ARGS, ids=[" ".join(a) or "empty" for a, _ in BAD_ARGS])
def test_item10_empty_and_broken_lists(out_dir, args, words):
    rc, out, err = run_cli(["train", *args, "--quiet", "--out", str(out_dir / "p.json")])
    assert_one_line(rc, err, *words)
    assert os.listdir(out_dir) == []


def test_item10_dataset_and_csv_contradict(tmp_path, out_dir):
    data = tmp_path / "d.csv"
    data.write_text("0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    for args in (["--dataset", "xor", "--csv", str(data)], ["--preset", "csv", "--dataset", "and", "--csv", str(data)]):
        rc, _, err = run_cli(["train", *args, "--quiet", "--out", str(out_dir / "p.json")])
        assert_one_line(rc, err, "contradicts --csv")
    with pytest.raises(NNCoreError, match="contradicts the CSV file"):
        settings_for("xor", dataset="xor", csv=str(data))
    # --csv alone (any preset) is the csv dataset; --dataset csv with it is fine
    for args in (["--preset", "xor", "--csv", str(data)], ["--dataset", "csv", "--csv", str(data)]):
        rc, _, err = run_cli(
            ["train", *args, "--layers", "2,3,1", "--cycles", "30", "--quiet", "--out", str(out_dir / "p.json")]
        )
        assert rc == 0, err


def test_show_one_item_list_still_works(out_dir):
    rc, _, err = run_cli(
        ["train", "--preset", "xor", "--cycles", "50", "--show", "50,", "--quiet", "--out", str(out_dir / "p.json")]
    )
    assert rc == 0, err
    assert plan_io.load(str(out_dir / "p.json"))["training"]["shown_cycles"] == [50]


# --- item 11 ---------------------------------------------------------------------------------------------------


def test_item11_default_shown_cycles_clamped_to_cycles(out_dir):
    for preset in ("article", "xor"):
        rc, _, err = run_cli(
            ["train", "--preset", preset, "--cycles", "5", "--quiet", "--out", str(out_dir / "p.json")]
        )
        assert rc == 0, err
        assert plan_io.load(str(out_dir / "p.json"))["training"]["shown_cycles"] == [1, 2, 3, 4, 5]
    rc, _, err = run_cli(["train", "--cycles", "5", "--show", "13", "--quiet", "--out", str(out_dir / "q.json")])
    assert_one_line(rc, err, "cannot show 13 cycles out of 5")
    assert settings_for("xor", cycles=5).show == 5
    assert settings_for("xor", cycles=500).show == 13


@pytest.mark.parametrize(
    "args",
    [
        ["--query", "1e308,1e308,1"],
        ["--query", "1e7,0,0"],
        ["--preset", "csv", "--csv", "@BIG"],
        ["--preset", "xor", "--batch", "2", "--lr", "1e300", "--cycles", "50"],
        ["--preset", "xor", "--layers", "2,300,1", "--lr", "1e300", "--cycles", "50"],
    ],
    ids=["query-1e308", "query-1e7", "csv-1e308", "numpy-path-diverges", "big-net-diverges"],
)
def test_item11_no_runtime_warnings(tmp_path, out_dir, args):
    big = tmp_path / "big.csv"
    big.write_text("a,b,t\n0,0,0\n1e308,1e308,1\n")
    args = [str(big) if a == "@BIG" else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would raise
        rc, out, err = run_cli(["train", *args, "--quiet", "--out", str(out_dir / "p.json")])
    line = assert_one_line(rc, err)
    assert "too large" in line or "diverged" in line, line
    r = subprocess.run(
        [sys.executable, "-m", "nncore", "train", *args, "--quiet", "--out", str(out_dir / "p.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line(r.returncode, r.stderr)
    assert os.listdir(out_dir) == []


def test_item11_bom_accepted_for_plans_and_csvs_alike(tmp_path, out_dir):
    data = tmp_path / "bom.csv"
    data.write_bytes(b"\xef\xbb\xbf0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = out_dir / "p.json"
    rc, _, err = run_cli(
        ["train", "--preset", "csv", "--csv", str(data), "--cycles", "30", "--quiet", "--out", str(out)]
    )
    assert rc == 0, err
    plan = out.read_bytes()
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + plan)
    rc, stdout, err = run_cli(["check", str(tmp_path / "bom.json")])
    assert rc == 0 and "valid plan" in stdout, err


def test_item11_typo_in_the_first_row_is_refused(tmp_path, out_dir):
    data = tmp_path / "typo.csv"
    data.write_text("0,O,0\n0,1,1\n1,0,1\n1,1,0\n")  # a letter O for a zero
    rc, _, err = run_cli(["train", "--preset", "csv", "--csv", str(data), "--quiet", "--out", str(out_dir / "p.json")])
    assert_one_line(rc, err, "typo.csv line 1 column 2", "'O' is not a number", "typo?")


def test_item11_header_is_named_in_the_summary(tmp_path, out_dir):
    data = tmp_path / "named.csv"
    data.write_text("x1,x2,xor\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = out_dir / "p.json"
    rc, stdout, err = run_cli(
        ["train", "--preset", "csv", "--csv", str(data), "--cycles", "30", "--quiet", "--out", str(out)]
    )
    assert rc == 0, err
    assert "header: x1, x2, xor" in stdout
    plan = plan_io.load(str(out))
    assert plan["training"]["header"] == ["x1", "x2", "xor"]
    rc, stdout, _ = run_cli(["check", str(out)])
    assert "header: x1, x2, xor" in stdout
    # without a header: no header field, no mention
    data.write_text("0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    rc, stdout, err = run_cli(
        ["train", "--preset", "csv", "--csv", str(data), "--cycles", "30", "--quiet", "--out", str(out)]
    )
    assert rc == 0 and "header:" not in stdout and "header" not in plan_io.load(str(out))["training"]


def test_header_width_must_match(tmp_path, out_dir):
    data = tmp_path / "h.csv"
    data.write_text("a,b\n0,0,0\n0,1,1\n")
    rc, _, err = run_cli(["train", "--preset", "csv", "--csv", str(data), "--quiet", "--out", str(out_dir / "p.json")])
    assert_one_line(rc, err, "line 2", "3 columns where the header has 2")


def test_csv_names_are_made_printable(tmp_path, out_dir):
    """Control characters and invalid UTF-8 in a CSV's file name or header never reach the plan."""
    name = os.fsdecode(b"da\x1b[2Jta\xff.csv")  # an escape sequence, and a byte that is not UTF-8
    data = tmp_path / name
    data.write_text("\x1b]0;T\x07,b,c\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = out_dir / "p.json"
    rc, stdout, err = run_cli(
        ["train", "--preset", "csv", "--csv", str(data), "--cycles", "30", "--quiet", "--out", str(out)]
    )
    assert rc == 0, err
    plan = plan_io.load(str(out))
    assert plan["training"]["dataset"].isprintable() and plan["training"]["header"][0].isprintable()
    assert "\x1b" not in stdout


def test_timing_in_python_api():
    for bad in (Timing(fps=True), Timing(fps=24.0), Timing(hold_seconds=math.nan), Timing(state_seconds=True)):
        with pytest.raises(NNCoreError):
            make_plan(settings_for("xor", cycles=20, show=2, timing=bad))


def test_training_options_given():
    """For ``nn_animator build --plan P --fps 12``: which training options would be ignored."""
    import argparse

    p = argparse.ArgumentParser()
    cli.add_training_options(p)
    assert cli.training_options_given(p.parse_args([])) == []
    a = p.parse_args(["--fps", "12", "--preset", "article", "--no-bias", "--max-work", "5"])
    assert cli.training_options_given(a) == ["--preset", "--bias", "--fps", "--max-work"]
    dests = {act.dest for act in p._actions if act.dest != "help"}
    assert dests == set(cli.TRAINING_OPTIONS)  # every training option is covered
