"""``python -m nncore``: bad arguments, bad CSV files and bad plans each get one line and exit code 2.

Also: nncore never imports bpy or mathutils.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nncore import cli
from nncore import plan as plan_io
from nncore.presets import make_plan, settings_for

ROOT = Path(__file__).resolve().parents[1]
NNCORE = ROOT / "nncore"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m nncore ARGS`` in a fresh interpreter, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "nncore", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(rc: int, err: str, *words: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    assert lines[0].startswith("nncore"), err
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


# --- bad arguments (real processes) ----------------------------------------------------------

BAD_ARGS = [
    # (id, arguments, words the message must contain)
    ("layers-0", ["--layers", "0"], ["layers", "layer 1 has size 0"]),
    ("layers-one", ["--layers", "3"], ["layers", "at least an input and an output layer"]),
    ("layers-not-number", ["--layers", "3,x,1"], ["layers", "'3,x,1'", "whole numbers"]),
    ("layers-zero-hidden", ["--layers", "3,0,1"], ["layer 2 has size 0"]),
    ("layers-vs-data", ["--layers", "3,4,2"], ["data", "target", "output layer has 2"]),
    ("activation", ["--activation", "softmax"], ["--activation", "softmax"]),
    ("lr-diverges", ["--lr", "1e9"], ["diverged at cycle 1", "smaller learning rate"]),
    ("lr-negative", ["--lr", "-1"], ["learning rate", "-1"]),
    ("lr-not-number", ["--lr", "fast"], ["--lr", "fast"]),
    ("preset", ["--preset", "nope"], ["preset", "'nope'"]),
    ("missing-csv", ["--csv", "no/such.csv"], ["csv", "no such file"]),
    ("show-count", ["--show", "70000"], ["show", "70000", "60000"]),
    ("show-too-many", ["--show", "300"], ["show", "at most 200"]),
    ("show-list", ["--show", "2,70000"], ["show", "1..60000"]),
    ("show-order", ["--show", "10,2"], ["show", "strictly increasing"]),
    ("query-short", ["--query", "1,1"], ["query", "needs 3 inputs, got 2"]),
    ("query-long", ["--query", "1,1,0,1"], ["query", "needs 3 inputs, got 4"]),
    ("query-not-number", ["--query", "1,a,0"], ["query", "'1,a,0'"]),
    ("cycles", ["--cycles", "0"], ["cycles", "at least 1"]),
    ("batch", ["--batch", "-1"], ["batch", "-1"]),
    ("seed", ["--seed", "-1"], ["seed", "-1"]),
    ("fps", ["--fps", "0"], ["fps", "0"]),
    ("examples-shown", ["--examples-shown", "0"], ["examples shown", "0"]),
    ("unknown-option", ["--colour", "red"], ["unrecognized arguments", "--colour"]),
]


@pytest.mark.parametrize("args, words", [c[1:] for c in BAD_ARGS], ids=[c[0] for c in BAD_ARGS])
def test_bad_argument(out_dir, args, words):
    out = out_dir / "plan.json"
    r = run("train", *args, "--out", str(out))
    assert_one_line_error(r.returncode, r.stderr, *words)
    assert r.stdout == ""
    assert os.listdir(out_dir) == []  # no plan, no stray temporary file


def test_bad_arguments_get_distinct_messages(out_dir):
    messages = []
    for _, args, _ in BAD_ARGS:
        err = _in_process(["train", *args, "--quiet", "--out", str(out_dir / "p.json")])[1]
        messages.append(err)
    assert len(set(messages)) == len(messages)
    assert os.listdir(out_dir) == []


def test_out_into_missing_folder(tmp_path):
    out = tmp_path / "missing" / "plan.json"
    r = run("train", "--out", str(out))
    assert_one_line_error(r.returncode, r.stderr, "output", "does not exist")
    assert not (tmp_path / "missing").exists()
    assert os.listdir(tmp_path) == []


def test_out_is_a_folder(out_dir):
    rc, err = _in_process(["train", "--preset", "xor", "--cycles", "50", "--quiet", "--out", str(out_dir)])
    assert_one_line_error(rc, err, "output", "is a folder")
    assert os.listdir(out_dir) == []


def test_no_command_and_unknown_command():
    r = run()
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    r = run("fly")
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1


# --- a good run ---------------------------------------------------------------------------------


def test_train_writes_a_valid_plan(out_dir):
    out = out_dir / "xor.plan.json"
    r = run("train", "--preset", "xor", "--cycles", "500", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert os.listdir(out_dir) == ["xor.plan.json"]
    plan = plan_io.load(str(out))
    assert plan["preset"] == "xor" and plan["training"]["cycles"] == 500
    assert r.stderr == ""  # stderr is for errors only
    *progress, summary = r.stdout.splitlines()  # progress lines (every 10% when not a terminal), then a summary
    assert "new situation [1, 0]" in summary and "wrote" in summary
    assert progress and all(line.startswith("training: cycle") for line in progress)
    assert "500 of 500 (100%" in progress[-1]
    r = run("train", "--preset", "xor", "--cycles", "500", "--quiet", "--out", str(out))
    assert r.returncode == 0 and r.stderr == "" and len(r.stdout.splitlines()) == 1
    # the command line and the Python API give the same bytes
    assert out.read_text() == plan_io.dumps(make_plan(settings_for("xor", cycles=500)))


def test_quiet_and_options_reach_the_plan(out_dir):
    out = out_dir / "p.json"
    rc, err = _in_process(
        [
            "train",
            "--preset",
            "xor",
            "--layers",
            "2,3,3,1",
            "--activation",
            "tanh",
            "--no-bias",
            "--lr",
            "0.2",
            "--batch",
            "2",
            "--cycles",
            "300",
            "--seed",
            "4",
            "--show",
            "1,10,300",
            "--examples-shown",
            "2",
            "--fps",
            "30",
            "--forward-seconds",
            "0.2",
            "--backward-seconds",
            "0.3",
            "--hold-seconds",
            "0",
            "--state-seconds",
            "1",
            "--query",
            "0.5,0.5",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert rc == 0 and err == ""
    p = plan_io.load(str(out))
    assert p["network"] == {"layers": [2, 3, 3, 1], "activations": ["tanh"] * 3, "bias": False}
    t = p["training"]
    assert (t["learning_rate"], t["batch"], t["cycles"], t["seed"]) == (0.2, 2, 300, 4)
    assert t["shown_cycles"] == [1, 10, 300] and t["shown_examples"] == [0, 3]
    assert (p["timing"]["fps"], p["timing"]["forward_frames"], p["timing"]["backward_frames"]) == (30, 6, 9)
    assert (p["timing"]["hold_frames"], p["timing"]["state_frames"]) == (0, 30)
    assert p["query"]["inputs"] == [0.5, 0.5]


# --- malformed CSV files (in process: fast) -------------------------------------------------------


def _in_process(argv: list[str]) -> tuple[int, str]:
    """cli.main(argv) with stderr captured; SystemExit (argparse) turned into its code."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, err.getvalue()


BAD_CSV = [
    # (id, file text, words the message must contain)
    ("ragged", "0,0,0\n0,1,1\n1,0\n", ["data.csv line 3", "ragged row, 2 columns", "has 3"]),
    ("ragged-long", "x,y,t\n0,0,0\n0,1,1,1\n", ["data.csv line 3", "ragged row, 4 columns"]),
    ("not-a-number", "0,0,0\n0,one,1\n", ["data.csv line 2 column 2", "'one' is not a number"]),
    ("not-finite", "0,0,0\n0,1,inf\n", ["data.csv line 2 column 3", "not a finite number"]),
    ("empty", "", ["data.csv is empty"]),
    ("blank-lines", "\n  \n\n", ["data.csv is empty"]),
    ("header-only", "x1,x2,target\n", ["data.csv has a header but no data rows"]),
    ("too-wide", "0,0,0,0\n1,1,1,1\n", ["data.csv has 4 columns", "needs 3 (2 inputs + 1 targets)"]),
    ("too-narrow", "0,0\n1,1\n", ["data.csv has 2 columns", "needs 3"]),
    ("target-above", "0,0,0\n0,1,2.0\n", ["data.csv example 2", "target 2", "sigmoid", "[0, 1]"]),
    ("target-below", "0,0,-0.5\n0,1,1\n", ["data.csv example 1", "target -0.5", "sigmoid"]),
    ("not-utf8", b"0,0,0\n\xff\xfe,1,1\n", ["not a text file"]),
]


@pytest.mark.parametrize("text, words", [c[1:] for c in BAD_CSV], ids=[c[0] for c in BAD_CSV])
def test_bad_csv(tmp_path, out_dir, text, words):
    path = tmp_path / "data.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc, err = _in_process(["train", "--preset", "csv", "--csv", str(path), "--quiet", "--out", str(out_dir / "p.json")])
    assert_one_line_error(rc, err, "csv" if "example" not in words[0] else "data", *words)
    assert os.listdir(out_dir) == []


def test_bad_csvs_get_distinct_messages(tmp_path, out_dir):
    cases = [c for c in BAD_CSV if c[0] != "blank-lines"]  # blank lines only: the same as empty
    messages = set()
    for i, (_, text, _) in enumerate(cases):
        path = tmp_path / f"data{i}.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        argv = ["train", "--preset", "csv", "--csv", str(path), "--quiet", "--out", str(out_dir / "p.json")]
        messages.add(re.sub(r"data\d+\.csv", "data.csv", _in_process(argv)[1]))
    assert len(messages) == len(cases)


def test_csv_folder_is_refused(tmp_path, out_dir):
    rc, err = _in_process(["train", "--preset", "csv", "--csv", str(tmp_path), "--quiet", "--out", str(out_dir / "p")])
    assert_one_line_error(rc, err, "is a folder")


def test_csv_preset_needs_a_file(out_dir):
    rc, err = _in_process(["train", "--preset", "csv", "--quiet", "--out", str(out_dir / "p.json")])
    assert_one_line_error(rc, err, "csv", "--csv PATH")


def test_csv_header_is_optional(tmp_path, out_dir):
    rows = "0,0,0\n0,1,1\n1,0,1\n1,1,0\n"
    variants = {
        "plain.csv": rows,
        "header.csv": "x1,x2,xor\n" + rows,
        "bom.csv": "\ufeff" + rows,  # as Excel writes it: the BOM must not turn row 1 into a header
        "bom-header.csv": "\ufeffx1,x2,xor\n" + rows,
        "spaces.csv": rows.replace(",", ", ") + "\n\n",
    }
    outputs = {}
    for name, text in variants.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        out = out_dir / (name + ".json")
        argv = ["train", "--preset", "csv", "--csv", str(tmp_path / name), "--cycles", "300", "--quiet"]
        rc, err = _in_process([*argv, "--out", str(out)])
        assert rc == 0, err
        plan = plan_io.load(str(out))
        assert plan["training"]["examples"] == 4, name
        assert plan["training"]["dataset"] == name
        outputs[name] = plan["training"]["final_outputs"].tolist()
    assert all(v == outputs["plain.csv"] for v in outputs.values())
    want = make_plan(settings_for("xor", cycles=300, query=None))["training"]["final_outputs"]
    assert np.allclose(outputs["plain.csv"], want, rtol=1e-7, atol=0)  # float32 in the file


def test_target_range_follows_the_output_activation(tmp_path, out_dir):
    path = tmp_path / "signed.csv"
    path.write_text("0,0,-0.5\n0,1,0.5\n1,0,0.5\n1,1,-0.5\n")
    base = ["train", "--preset", "csv", "--csv", str(path), "--cycles", "50", "--quiet", "--out", str(out_dir / "p")]
    rc, err = _in_process([*base, "--activation", "tanh"])
    assert rc == 0, err
    rc, err = _in_process([*base, "--activation", "relu"])  # relu hidden -> sigmoid output: [0, 1]
    assert_one_line_error(rc, err, "target -0.5", "sigmoid")


# --- check ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "good.plan.json"
    plan_io.save(make_plan(settings_for("xor", cycles=100, show=3)), str(path))
    return path


def test_check_valid_plan(plan_file):
    r = run("check", str(plan_file))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "valid plan, schema 2, layers [2, 4, 1]" in r.stdout


def test_check_broken_plan(tmp_path, plan_file):
    plan = json.loads(plan_file.read_text())
    plan["tracks"]["synapse_layers"][0]["weight"]["interpolation"][0] = "BEZIER"
    bad = tmp_path / "bad.plan.json"
    bad.write_text(json.dumps(plan))
    r = run("check", str(bad))
    assert_one_line_error(r.returncode, r.stderr, "plan: tracks.synapse_layers[0].weight.interpolation", "BEZIER")
    assert r.stdout == ""


@pytest.mark.parametrize(
    "text, words",
    [
        (None, ["no such file"]),
        ("", ["not valid JSON"]),
        ("{}", ["schema_version", "missing"]),
        ('{"schema_version": 9}', ["schema_version", "9", "not supported"]),
        ("[]", ["JSON object"]),
    ],
    ids=["missing-file", "empty-file", "empty-object", "future-version", "list"],
)
def test_check_bad_files(tmp_path, text, words):
    path = tmp_path / "p.json"
    if text is not None:
        path.write_text(text)
    rc, err = _in_process(["check", str(path)])
    assert_one_line_error(rc, err, *words)


# --- nncore never imports bpy or mathutils -----------------------------------------------------------

_NO_BPY = """
import importlib, pkgutil, sys
import nncore
names = [m.name for m in pkgutil.iter_modules(nncore.__path__, "nncore.") if m.name != "nncore.__main__"]
assert len(names) >= 10, names
for name in names:
    importlib.import_module(name)
from nncore.presets import settings_for, make_plan
from nncore.plan import dumps, loads
plan = make_plan(settings_for("xor", cycles=30, show=2))
loads(dumps(plan))
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("bpy", "mathutils", "bmesh", "bpy_extras"))
print("imported", len(names), "modules; blender modules:", bad)
assert not bad, bad
"""


def test_nncore_never_imports_bpy():
    r = subprocess.run(
        [sys.executable, "-c", _NO_BPY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "blender modules: []" in r.stdout


def test_nncore_source_mentions_no_blender_module():
    files = sorted(NNCORE.glob("*.py"))
    assert len(files) >= 10
    # import statements, and module names in quotes (importlib.import_module("bpy"), __import__)
    statement = re.compile(r"^\s*(import|from)\s+[\w., ]*\b(bpy|mathutils|bmesh)\b", re.MULTILINE)
    quoted = re.compile(r"[\"'](bpy|mathutils|bmesh)[\"'.]")
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "import bpy" not in text, f
        assert "import mathutils" not in text, f
        assert not statement.search(text), f
        assert not quoted.search(text), f
