"""Seeded fuzzing of everything a user hands in: plan files, CSV files and arguments (issue 9).

Each mutant is either refused in exactly one line on stderr with exit code 2 and no traceback, or
accepted; an accepted plan must then build in Blender without error (a sample, in one bpy
process), an accepted training run must write a valid plan. Mutants run in-process through
``nncore.cli.main`` (fast) and a sample through real ``python -m nncore`` processes.

Reproducible: the mutants depend only on SEED; a failure names the mutant's index and recipe.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ADDON_MODULE, REPO_MODULE, ROOT, fresh_bpy_command
from conftest import nncore_cli as run_cli

from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.presets import make_plan, settings_for
from nncore.timeline import Timing

SEED = 9
N_PLAN_MUTANTS = 640
N_CSV_MUTANTS = 120
N_ARG_MUTANTS = 160
N_BUILT = 20  # accepted plan mutants built in Blender
N_SUBPROCESS = 12  # mutants of each kind re-run as real processes


def check_outcome(rc, out: str, err: str, what: str) -> None:
    """Exit 0, or exit 2 with exactly one printable line on stderr starting 'nncore'."""
    assert rc in (0, 2), f"{what}: exit code {rc}\n{err[-2000:]}"
    assert "Traceback" not in err, f"{what}: traceback\n{err[-3000:]}"
    if rc == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and err.endswith("\n"), f"{what}: {len(lines)} lines on stderr:\n{err[-2000:]}"
        assert lines[0].startswith("nncore"), f"{what}: {lines[0]!r}"
        assert lines[0].isprintable() and len(lines[0]) < 700, f"{what}: {lines[0]!r:.300}"
    else:
        assert err == "", f"{what}: accepted but wrote to stderr:\n{err[-2000:]}"


# --- plans -----------------------------------------------------------------------------------------


def base_plans() -> list[dict]:
    """Small valid plans of different shapes (bias or not, 2 or 3 layers, batch, CSV header)."""
    tiny = Timing(fps=6, forward_seconds=0.5, backward_seconds=0.5, hold_seconds=0.2, state_seconds=0.5)
    return [
        make_plan(settings_for("xor", cycles=60, show=3, timing=tiny)),
        make_plan(settings_for("article", cycles=40, show=(1, 10, 40), timing=tiny)),
        make_plan(
            settings_for(
                "xor",
                layers=(2, 3, 2, 1),
                activation="tanh",
                batch=2,
                cycles=30,
                show=2,
                examples_shown=2,
                timing=Timing(fps=4, forward_seconds=0.5, backward_seconds=0.75, hold_seconds=0.0, state_seconds=0.5),
            )
        ),
    ]


# Values dropped in place of a field; strings starting with "@@" are spliced into the JSON text.
POOL = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2**31,
    2**63,
    2**64,
    -(2**64),
    1_048_575,
    1e39,
    -1e39,
    1e-320,
    0.5,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    "seven",
    "",
    "a/b",
    "\x00",
    "\x1b]0;TITLE\x07\x1b[2J",
    "\ud800",
    "x" * 10_000,
    [],
    {},
    [1, 2],
    {"a": 1},
    "@@INT400",
    "@@INT5001",
    "@@FLOAT400",
    "@@DEEP17",
    "@@DEEP100000",
]
SPLICE = {
    '"@@INT400"': "1" + "0" * 400,
    '"@@INT5001"': "9" * 5001,
    '"@@FLOAT400"': "1e400",
    '"@@DEEP17"': "[" * 17 + "]" * 17,
    '"@@DEEP100000"': "[" * 100_000 + "]" * 100_000,
}
NAMED_TOP = ("schema_version", "generator", "preset", "network", "training", "timing", "query", "weights")


def _nodes(obj, path=()):
    """Every path in a JSON value, and the subset that names a dict key."""
    out = [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _nodes(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _nodes(v, (*path, i))
    return out


def _parent(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    return obj


def _mutate_object(plan: dict, rng: random.Random) -> str:
    """Mutate ``plan`` in place; a short recipe of what was done."""
    nodes = _nodes(plan)
    named = [p for p in nodes if p and isinstance(p[-1], str)]
    path = rng.choice(named if rng.random() < 0.6 else nodes[1:])
    parent, key = _parent(plan, path), path[-1]
    value = parent[key]
    kind = rng.choice(["delete", "replace", "replace", "number", "list", "string", "valid", "unknown-field", "swap"])
    recipe = f"{kind} at {'.'.join(map(str, path))}"
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        new = rng.choice(POOL)
        parent[key] = copy.deepcopy(new)
        recipe += f" -> {new!r:.30}"
    elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        op = rng.choice(["+1", "-1", "neg", "x1e6", "x1e40", "half", "int", "float", "zero", "nan"])
        recipe += f" {op}"
        parent[key] = {
            "+1": value + 1,
            "-1": value - 1,
            "neg": -value,
            "x1e6": value * 1e6,
            "x1e40": value * 1e40,
            "half": value / 2,
            "int": int(value) if abs(value) < 1e300 else 0,
            "float": float(value) + 0.5,
            "zero": 0,
            "nan": float("nan"),
        }[op]
    elif kind == "list" and isinstance(value, list):
        op = rng.choice(["shuffle", "reverse", "dup", "drop", "append", "empty", "many", "nest"])
        recipe += f" {op}"
        if op == "shuffle":
            rng.shuffle(value)
        elif op == "reverse":
            value.reverse()
        elif op == "dup" and value:
            value.insert(rng.randrange(len(value)), copy.deepcopy(rng.choice(value)))
        elif op == "drop" and value:
            value.pop(rng.randrange(len(value)))
        elif op == "append":
            value.append(copy.deepcopy(value[-1]) if value else 0)
        elif op == "empty":
            value.clear()
        elif op == "many" and value:
            parent[key] = [copy.deepcopy(value[0])] * 5000
        elif op == "nest":
            parent[key] = [value]
    elif kind == "string":
        s = rng.choice(["", "x" * 300, "\x1b[2J", "a\nb", "\ud83d", "..", "sigmoid", "LINEAR", "CONSTANT", "relu"])
        parent[key] = s
        recipe += f" -> {s!r:.20}"
    elif kind == "valid":
        # changes that keep the plan valid: the validator must accept them and Blender build them
        recipe = "valid: "
        r = rng.random()
        if r < 0.3:
            plan["preset"] = rng.choice(["", "mine", "a b", "Ünïcode", "x" * 64])
            recipe += f"preset {plan['preset']!r:.20}"
        elif r < 0.6:
            vals = plan["tracks"]["synapse_layers"][0]["weight"]["values"]
            vals[rng.randrange(len(vals))][0] = rng.choice([0.0, 25.0, -1e5, 1e6, 1e-30])
            recipe += "a weight key"
        elif r < 0.8:
            plan["tracks"]["neuron_activity"]["values"][0][0] = rng.choice([0.0, 1.0, 1e6])
            recipe += "an activity key"
        else:
            plan["generator"] = "someone else 2.0"
            recipe += "generator"
    elif kind == "unknown-field":
        parent_dict = plan if rng.random() < 0.5 else plan[rng.choice(["training", "timing", "network"])]
        parent_dict["x_extra"] = copy.deepcopy(rng.choice(POOL[:22]))
        recipe = "unknown field"
    elif kind == "swap" and isinstance(parent, dict) and len(parent) > 1:
        other = rng.choice([k for k in parent if k != key])
        parent[key], parent[other] = parent[other], parent[key]
        recipe += f" <-> {other}"
    else:
        parent[key] = copy.deepcopy(rng.choice(POOL))
        recipe += " (replaced)"
    if rng.random() < 0.05:  # now and then a second problem at the top level
        top = rng.choice(NAMED_TOP)
        plan.pop(top, None)
        recipe += f"; deleted {top}"
    return recipe


def _text(plan) -> str:
    text = json.dumps(plan, allow_nan=True)
    for marker, replacement in SPLICE.items():
        text = text.replace(marker, replacement)
    return text


def _mutate_text(text: str, rng: random.Random) -> tuple[str | bytes, str]:
    op = rng.choice(["truncate", "insert", "bom", "garbage", "digit", "binary", "crlf", "bracket"])
    i = rng.randrange(len(text))
    if op == "truncate":
        return text[:i], f"text truncated at {i}"
    if op == "insert":
        c = rng.choice(['"', "\\", "[", "]", "{", "}", ",", ":", "\x00", "\ufeff", "é"])
        return text[:i] + c + text[i:], f"text: {c!r} inserted at {i}"
    if op == "bom":
        return "\ufeff" + text, "text: BOM"  # accepted (as for CSV files)
    if op == "garbage":
        return text + " x", "text: trailing garbage"
    if op == "digit":
        j = next((k for k in range(i, len(text)) if text[k].isdigit()), None)
        if j is None:
            return text, "text: unchanged"
        return text[:j] + rng.choice("x-.e9") + text[j + 1 :], f"text: digit at {j} replaced"
    if op == "binary":
        data = text.encode()
        return data[:i] + bytes([rng.choice([0xFF, 0xC3, 0x80, 0xED])]) + data[i:], f"bytes: invalid UTF-8 at {i}"
    if op == "crlf":
        return text.replace(",", ",\r\n"), "text: CRLF line breaks"
    return text.replace("[", "[[", 1), "text: an extra bracket"


def plan_mutants(n: int, seed: int = SEED):
    """``n`` reproducible mutants: (recipe, text or bytes)."""
    rng = random.Random(seed)
    bases = base_plans()
    out = []
    for i in range(n):
        plan = copy.deepcopy(bases[i % len(bases)])
        if rng.random() < 0.8:
            recipe = _mutate_object(plan, rng)
            data = _text(plan)
        else:
            data, recipe = _mutate_text(_text(plan), rng)
        out.append((f"plan mutant {i} (base {i % len(bases)}): {recipe}", data))
    return out


def _write(path: Path, data) -> None:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")


@pytest.fixture(scope="module")
def plan_results(tmp_path_factory):
    """Every plan mutant through ``nncore check`` in-process: [(recipe, path, rc, out, err)]."""
    folder = tmp_path_factory.mktemp("plan-mutants")
    results = []
    for i, (recipe, data) in enumerate(plan_mutants(N_PLAN_MUTANTS)):
        path = folder / f"m{i:04d}.json"
        _write(path, data)
        try:
            rc, out, err = run_cli(["check", str(path)])
        except BaseException as exc:  # noqa: BLE001 - the point: nothing may escape
            pytest.fail(f"{recipe}: {type(exc).__name__}: {exc!s:.300}")
        results.append((recipe, path, rc, out, err))
    return results


def test_plan_mutants_are_refused_in_one_line_or_accepted(plan_results):
    assert len(plan_results) >= 500
    for recipe, _path, rc, out, err in plan_results:
        check_outcome(rc, out, err, recipe)
        if rc == 0:
            assert "valid plan" in out and len(out.splitlines()) == 1, recipe
        else:
            assert out == "", recipe
            assert err.startswith("nncore: error: plan: "), (recipe, err)
    accepted = sum(1 for r in plan_results if r[2] == 0)
    refused = len(plan_results) - accepted
    # the mix is a property of the seed: enough of both for the test to mean something
    assert accepted >= N_BUILT and refused >= 400, (accepted, refused)


def test_plan_mutants_are_reproducible():
    a = plan_mutants(40)
    assert a == plan_mutants(40)
    assert a != plan_mutants(40, seed=SEED + 1)


def test_plan_mutants_in_real_processes(plan_results):
    """A sample through ``python -m nncore check``: the same exit code and the same one line."""
    rng = random.Random(SEED)
    sample = rng.sample(plan_results, N_SUBPROCESS)
    for recipe, path, rc, _out, err in sample:
        r = subprocess.run(
            [sys.executable, "-m", "nncore", "check", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert (r.returncode, r.stderr) == (rc, err), recipe
        check_outcome(r.returncode, r.stdout, r.stderr, recipe)


# --- accepted plan mutants build in Blender; refused ones get the same line there -------------------

_BUILD = textwrap.dedent(
    """
    import json, os, shutil, sys, tempfile
    from pathlib import Path
    root, module, repo_module, listing = sys.argv[-4:]
    os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp(prefix="nna-fuzz-user-")
    import bpy
    import addon_utils
    repo_dir = Path(tempfile.mkdtemp(prefix="nna-fuzz-repo-"))
    (repo_dir / "nn_animator").symlink_to(root, target_is_directory=True)
    bpy.context.preferences.extensions.repos.new(
        name=repo_module, module=repo_module, custom_directory=str(repo_dir), source="USER")
    addon_utils.enable(module, default_set=True, handle_error=lambda e: (_ for _ in ()).throw(e))
    import importlib
    cli = importlib.import_module(module + ".addon.cli")
    out = []
    for kind, path in json.load(open(listing)):
        bpy.ops.wm.read_homefile(use_empty=True)
        if not addon_utils.check(module)[1]:
            addon_utils.enable(module, default_set=True)
        try:
            result = sorted(bpy.ops.nna.load_plan(filepath=path))
            message = ""
        except RuntimeError as exc:  # an operator's ERROR report, in background mode
            result, message = ["CANCELLED"], str(exc)
        except Exception as exc:
            result, message = ["EXCEPTION"], f"{type(exc).__name__}: {exc}"
        entry = {"path": path, "kind": kind, "operator": result, "message": message}
        if kind == "refused":
            import contextlib, io
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                rc = cli.main(["build", "--plan", path, "--blend", os.path.join(tempfile.mkdtemp(), "o.blend")])
            entry["cli"] = [rc, err.getvalue()]
        else:
            objs = [o for o in bpy.data.objects if o.get("nna_role") in ("neuron", "synapse")]
            entry["objects"] = len(objs)
            entry["frames"] = [bpy.context.scene.frame_start, bpy.context.scene.frame_end]
        out.append(entry)
    print("RESULT " + json.dumps(out))
    """
)


@pytest.mark.blender
def test_accepted_plan_mutants_build_and_refused_ones_say_the_same(plan_results, tmp_path):
    accepted = [r for r in plan_results if r[2] == 0]
    refused = [r for r in plan_results if r[2] == 2]
    rng = random.Random(SEED)
    sample = rng.sample(accepted, min(N_BUILT, len(accepted))) + rng.sample(refused, 8)
    # and the files that gave tracebacks in nn_animator --plan and the Load plan operator
    text = plan_io.dumps(base_plans()[0])
    for i, bad in enumerate(
        [
            text.replace('"cycles":[1,', f'"cycles":[{2**64},', 1),
            text.replace('"learning_rate":1.0', '"learning_rate":1' + "0" * 400, 1),
            "[" * 100_000,
            text.replace('"seed":1,', '"seed":' + "9" * 5001 + ",", 1),
            text.replace('"preset":"xor"', '"preset":"\\ud800"', 1),
        ]
    ):
        path = tmp_path / f"issue{i}.json"
        path.write_text(bad)
        rc, out, err = run_cli(["check", str(path)])
        assert rc == 2 and text != bad, err
        sample.append((f"issue 9 item 5/6 file {i}", path, rc, out, err))
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps([("accepted" if r[2] == 0 else "refused", str(r[1])) for r in sample]))
    module = ADDON_MODULE if not os.environ.get("NNA_ADDON_MODULE") else f"bl_ext.{REPO_MODULE}.nn_animator"
    cmd = fresh_bpy_command(_BUILD, str(ROOT), module, REPO_MODULE, str(listing))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-3000:] + r.stdout[-2000:]
    results = json.loads(lines[-1][len("RESULT ") :])
    assert len(results) == len(sample)
    by_path = {str(s[1]): s for s in sample}
    for entry in results:
        recipe, _path, _rc, _out, err = by_path[entry["path"]]
        if entry["kind"] == "accepted":
            assert entry["operator"] == ["FINISHED"], (recipe, entry)
            plan = plan_io.load(entry["path"])
            layers = plan["network"]["layers"]
            n_syn = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
            assert entry["objects"] == sum(layers) + n_syn, (recipe, entry)
            assert entry["frames"] == [1, plan["timing"]["frame_end"]], (recipe, entry)
        else:
            want = err.removeprefix("nncore: error: ").strip()
            assert entry["operator"] == ["CANCELLED"], (recipe, entry)
            assert want in entry["message"], (recipe, want, entry["message"])
            rc, cli_err = entry["cli"]
            assert rc == 2 and len(cli_err.splitlines()) == 1 and "Traceback" not in cli_err, (recipe, cli_err)
            assert cli_err.strip().endswith(want), (recipe, want, cli_err)


# --- CSV files ---------------------------------------------------------------------------------------

CSV_BASE = "a,b,a_xor_b\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n"
CELLS = [
    "1e308",
    "-1e308",
    "1e400",
    "nan",
    "inf",
    "-0",
    "1_0",
    "0x10",
    "",
    " ",
    "\x00",
    "\x1b[2J",
    "ä",
    "9" * 5000,
    '"1"',
    '"1',
    "2",
    "-1",
    "0.5",
    "1e-320",
    "O",
    "1,1",
    "\ud800",
]


def csv_mutants(n: int, seed: int = SEED):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rows = [r.split(",") for r in CSV_BASE.strip().split("\n")]
        op = rng.choice(["cell", "cell", "cell", "drop-cell", "add-col", "header", "rows", "text", "no-header"])
        recipe = op
        if op in ("cell", "header"):
            r = 0 if op == "header" else rng.randrange(len(rows))
            c = rng.randrange(len(rows[r]))
            rows[r][c] = rng.choice(CELLS)
            recipe += f" {r},{c} -> {rows[r][c]!r:.20}"
        elif op == "drop-cell":
            rows[rng.randrange(len(rows))].pop()
        elif op == "add-col":
            for row in rows[rng.randrange(2) :]:
                row.append("1")
        elif op == "rows":
            k = rng.choice([0, 1, 2000])
            rows = rows[:1] + rows[1:] * k
            recipe += f" x{k}"
        elif op == "no-header":
            rows = rows[1:]
        text = "\n".join(",".join(r) for r in rows) + "\n"
        data: str | bytes = text
        if op == "text":
            t = rng.choice(["bom", "crlf", "blank", "binary", "nul", "truncate", "quote"])
            recipe += f" {t}"
            data = {
                "bom": "\ufeff" + text,
                "crlf": text.replace("\n", "\r\n"),
                "blank": text.replace("\n", "\n\n  \n"),
                "binary": text.encode()[:10] + b"\xff\xfe" + text.encode()[10:],
                "nul": text[:8] + "\x00" + text[8:],
                "truncate": text[: rng.randrange(len(text))],
                "quote": text.replace("0,1", '"0,1', 1),
            }[t]
        out.append((f"csv mutant {i}: {recipe}", data))
    return out


def test_csv_mutants_are_refused_in_one_line_or_train(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    results = []
    for i, (recipe, data) in enumerate(csv_mutants(N_CSV_MUTANTS)):
        path = tmp_path / f"c{i:03d}.csv"
        _write(path, data)
        out = out_dir / f"p{i:03d}.json"
        argv = ["train", "--preset", "csv", "--csv", str(path), "--cycles", "20", "--show", "2", "--quiet"]
        try:
            rc, stdout, err = run_cli([*argv, "--out", str(out)])
        except BaseException as exc:  # noqa: BLE001
            pytest.fail(f"{recipe}: {type(exc).__name__}: {exc!s:.300}")
        check_outcome(rc, stdout, err, recipe)
        if rc == 0:
            plan_io.load(str(out))
        else:
            assert not out.exists(), recipe
        results.append((recipe, argv, out, rc, err))
    assert sorted(os.listdir(out_dir)) == sorted(r[2].name for r in results if r[3] == 0)  # nothing else
    assert sum(r[3] == 0 for r in results) >= 10 and sum(r[3] == 2 for r in results) >= 50
    rng = random.Random(SEED)
    for recipe, argv, out, rc, err in rng.sample(results, N_SUBPROCESS):
        r = subprocess.run(
            [sys.executable, "-m", "nncore", *argv, "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == rc and r.stderr == err, recipe
        check_outcome(r.returncode, r.stdout, r.stderr, recipe)


# --- arguments ---------------------------------------------------------------------------------------

OPTION_VALUES = {
    "--layers": ["2,,1", "", ",", "2,4,1", "2,0,1", "2,x,1", "2,-4,1", "2,4,1,", "1" * 40, "2," * 40 + "1", "2 ,4, 1"],
    "--show": ["1,,2", "", "0", "-1", "3", "1,2,30", "30,", "1e3", "9" * 25, "2,1", "31"],
    "--query": ["3,,1", "", "1e308,1e308", "nan,0", "1,0", "0.5,0.5", "1,0,1", "1e7,0", "inf,1"],
    "--fps": ["0", "241", "1e3", "nan", "-1", "1", "240", "12"],
    "--lr": ["nan", "inf", "-1", "0", "1e308", "1e-308", "1e400", "0.5", "x"],
    "--batch": ["-1", "0", "2", "100001", "9" * 30, "1.5"],
    "--cycles": ["0", "-5", "1", "5", "x", "1e3", "10000001", "9" * 25],
    "--seed": ["-1", "4294967296", "0", "7", "9" * 30],
    "--examples-shown": ["0", "-1", "1", "3", "100000"],
    "--forward-seconds": ["nan", "inf", "-0", "61", "1e308", "0", "0.1"],
    "--hold-seconds": ["-1", "60", "0"],
    "--state-seconds": ["0", "60", "nan"],
    "--dataset": ["xor", "and", "csv", "nope", "article"],
    "--csv": ["", "/dev/zero", "no/such.csv", ".", "@CSV"],
    "--activation": ["tanh", "relu", "softmax", ""],
    "--max-work": ["0", "-1", "nan", "inf", "1e3", "1e12"],
    "--preset": ["or", "and", "csv", "nope", ""],
    "--bias": [None],
    "--no-bias": [None],
    "--colour": ["red"],
}


def arg_mutants(n: int, seed: int = SEED):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        argv = ["train", "--preset", "xor", "--cycles", "30", "--show", "3", "--fps", "6", "--quiet"]
        for _ in range(rng.choice([1, 1, 2, 3])):
            opt = rng.choice(list(OPTION_VALUES))
            value = rng.choice(OPTION_VALUES[opt])
            argv += [opt] if value is None else [opt, value]
        if rng.random() < 0.05:
            argv.append(rng.choice(["--layers", "--show", "--out"]))  # an option without its value
        out.append((f"argument mutant {i}: {' '.join(argv[10:])}", argv))
    return out


def test_argument_mutants_are_refused_in_one_line_or_train(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text(CSV_BASE)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    results = []
    for i, (recipe, argv) in enumerate(arg_mutants(N_ARG_MUTANTS)):
        argv = [str(csv_path) if a == "@CSV" else a for a in argv]
        out = out_dir / f"p{i:03d}.json"
        full = [*argv, "--out", str(out)] if argv[-1] != "--out" else argv
        try:
            rc, stdout, err = run_cli(full)
        except BaseException as exc:  # noqa: BLE001
            pytest.fail(f"{recipe}: {type(exc).__name__}: {exc!s:.300}")
        check_outcome(rc, stdout, err, recipe)
        if rc == 0:
            plan_io.load(str(out))
        else:
            assert not out.exists(), recipe
        results.append((recipe, full, rc, err))
    assert sum(r[2] == 0 for r in results) >= 20 and sum(r[2] == 2 for r in results) >= 60
    rng = random.Random(SEED)
    for recipe, full, rc, err in rng.sample(results, N_SUBPROCESS):
        r = subprocess.run(
            [sys.executable, "-m", "nncore", *full], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == rc and r.stderr == err, (recipe, r.stderr, err)
        check_outcome(r.returncode, r.stdout, r.stderr, recipe)


# --- schema 2: encoded tables ---------------------------------------------------------------------


def _encoded_tables(doc: dict) -> list[tuple]:
    """Paths (as tuples) of every encoded table of a version 2 plan's JSON."""
    out = []

    def walk(v, path):
        if isinstance(v, dict):
            if "base64" in v:
                out.append(path)
                return
            for k, x in v.items():
                walk(x, (*path, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, (*path, i))

    walk(doc, ())
    return out


def encoded_mutants(n: int, seed: int = SEED + 2):
    """``n`` reproducible mutants of the encoded tables of version 2 plans: (recipe, text)."""
    import numpy as np

    rng = random.Random(seed)
    docs = [json.loads(plan_io.dumps(p)) for p in base_plans()]
    out = []
    for i in range(n):
        doc = copy.deepcopy(docs[i % len(docs)])
        path = rng.choice(_encoded_tables(doc))
        arr = _parent(doc, path + ("x",))
        b64 = arr["base64"]
        op = rng.choice(["dtype", "shape", "shape-huge", "truncate", "extend", "char", "nan", "inf", "pool", "drop"])
        if op == "dtype":
            arr["dtype"] = rng.choice(["float64", "<f4", "int32", "", 4, None, ["float32"]])
        elif op == "shape":
            k, m = arr["shape"]
            arr["shape"] = rng.choice(
                [[m, k], [k + 1, m], [k, m - 1], [k * m], [k, m, 1], [], "2x2", [k, 1.5], [-k, -m]]
            )
        elif op == "shape-huge":
            arr["shape"] = rng.choice([[10**9, 10**9], [2**40, 2], [2**70, 1], [1, 10**12]])
        elif op == "truncate":
            arr["base64"] = b64[: rng.randrange(len(b64))]
        elif op == "extend":
            arr["base64"] = b64 + rng.choice(["A", "AAAA", "====", "\n", " ", b64])
        elif op == "char":
            j = rng.randrange(len(b64))
            arr["base64"] = b64[:j] + rng.choice(["*", "=", "-", "_", "\n", "é", "\x00", "A"]) + b64[j + 1 :]
        elif op in ("nan", "inf"):
            raw = bytearray(base64.b64decode(b64))
            j = 4 * rng.randrange(len(raw) // 4)
            raw[j : j + 4] = np.float32(np.nan if op == "nan" else -np.inf).tobytes()
            arr["base64"] = base64.b64encode(bytes(raw)).decode()
        elif op == "pool":
            _parent(doc, path)[path[-1]] = copy.deepcopy(rng.choice(POOL))
        else:
            del arr[rng.choice(["dtype", "shape", "base64"])]
        out.append((f"encoded mutant {i}: {op} at {'.'.join(map(str, path))}", json.dumps(doc, allow_nan=True)))
    return out


def test_encoded_table_mutants_are_refused_in_one_line_or_accepted():
    """Schema 2 tables: every mutant of an encoded array is refused in one line naming the table
    (or accepted: e.g. a changed byte that is still a finite float32), never a traceback."""
    refused = 0
    for recipe, text in encoded_mutants(300):
        try:
            plan_io.loads(text, name="mutant.json")
        except NNCoreError as exc:
            msg = str(exc)
            assert msg.startswith("plan: ") and "\n" not in msg, (recipe, msg)
            refused += 1
        except Exception as exc:  # pragma: no cover - the failure to report
            raise AssertionError(f"{recipe}: {type(exc).__name__}: {exc}") from None
    assert refused >= 250
