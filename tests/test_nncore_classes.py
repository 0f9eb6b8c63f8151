"""Class targets in a CSV: ``--target-column NAME`` or ``--classes N`` (one column of class indices,
made one-hot, softmax output); one-hot targets still work; bad class values get one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import nncore_cli as _main

from nncore import plan as plan_io
from nncore.data import load_csv
from nncore.errors import NNCoreError
from nncore.presets import describe, make_plan, settings_for


def _blobs(n=45, seed=3):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, n)
    X = np.array([[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]])[c] + 0.2 * rng.standard_normal((n, 2))
    return X, c


@pytest.fixture
def class_csv(tmp_path):
    """label in the middle column (for --target-column) and a copy with it last (for --classes)."""
    X, c = _blobs()
    mid = tmp_path / "mid.csv"
    mid.write_text("x,label,y\n" + "".join(f"{x:.4f},{ci},{y:.4f}\n" for (x, y), ci in zip(X, c)))
    last = tmp_path / "last.csv"
    last.write_text("".join(f"{x:.4f},{y:.4f},{ci}\n" for (x, y), ci in zip(X, c)))
    onehot = tmp_path / "onehot.csv"
    onehot.write_text(
        "".join(
            f"{x:.4f},{y:.4f}," + ",".join("1" if k == ci else "0" for k in range(3)) + "\n" for (x, y), ci in zip(X, c)
        )
    )
    return mid, last, onehot, X, c


def test_class_column_by_name_and_last_are_one_hot(class_csv):
    mid, last, onehot, X, c = class_csv
    a = load_csv(str(mid), 2, 3, target_column="label")
    b = load_csv(str(last), 2, 3, classes=3)
    h = load_csv(str(onehot), 2, 3)
    for ds in (a, b):
        np.testing.assert_allclose(ds.X, np.round(X, 4))
        np.testing.assert_array_equal(ds.T, np.eye(3)[c])
        assert ds.class_names == ("0", "1", "2")
    assert a.header == ("x", "y", "0", "1", "2")
    np.testing.assert_array_equal(h.T, np.eye(3)[c])


def test_class_plans_equal_one_hot_plans_but_for_names(class_csv, tmp_path):
    mid, last, onehot, _, _ = class_csv
    kw = dict(layers=(2, 4, 3), learning_rate=0.1, cycles=40, show=3)
    by_name = make_plan(settings_for("csv", csv=str(mid), target_column="label", **kw))
    by_last = make_plan(settings_for("csv", csv=str(last), classes=3, **kw))
    hot = make_plan(settings_for("csv", csv=str(onehot), output_activation="softmax", **kw))
    for p in (by_name, by_last, hot):
        plan_io.validate(p)
        assert p["network"]["activations"] == ["sigmoid", "softmax"]
        assert p["training"]["final_accuracy"] > 0.9
    assert by_last["training"]["class_names"] == ["0", "1", "2"]
    assert "class_names" not in hot["training"]  # no header: no names
    strip = lambda p: {k: v for k, v in p["training"].items() if k not in ("dataset", "class_names", "header")}  # noqa: E731
    assert strip(by_name) == strip(by_last) == strip(hot)
    assert by_name["tracks"] == by_last["tracks"] == hot["tracks"]


def test_cli_classes_end_to_end(class_csv, tmp_path):
    _, last, _, _, _ = class_csv
    out = tmp_path / "p.json"
    argv = ["train", "--preset", "csv", "--csv", str(last), "--classes", "3", "--layers", "2,4,3"]
    rc, text, err = _main([*argv, "--lr", "0.1", "--cycles", "40", "--quiet", "--out", str(out)])
    assert rc == 0, err
    plan = json.loads(out.read_text())
    assert plan["training"]["class_names"] == ["0", "1", "2"]
    assert "accuracy" in text and describe(plan) in text


BAD = [
    ("2,0\n1,3\n", ["--classes", "3"], ["last.csv line 2 column 2", "class 3", "0..2"]),
    ("2,0\n1,-1\n", ["--classes", "3"], ["line 2", "class -1"]),
    ("2,0.5\n1,1\n", ["--classes", "3"], ["line 1", "class 0.5", "whole number"]),
    ("2,0\n1,1\n", ["--classes", "2"], ["classes: 2 classes", "3 neurons"]),
    ("2,0\n1,1\n", ["--classes", "1"], ["--classes", "at least 2"]),
    ("2,0\n1,1\n", ["--target-column", "label"], ["no header row", "label"]),
    ("a,b\n2,0\n1,1\n", ["--target-column", "label"], ["no column 'label'", "a, b"]),
    ("a,label\n2,0\n1,7\n", ["--target-column", "label"], ["line 3 column 2", "class 7"]),
    ("2,0,1\n1,1,1\n", ["--classes", "3"], ["3 columns", "needs 2 (1 inputs + 1 class column)"]),
]


@pytest.mark.parametrize("text, opts, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_classes_one_line(tmp_path, text, opts, words):
    path = tmp_path / "last.csv"
    path.write_text(text)
    out = tmp_path / "p.json"
    argv = ["train", "--preset", "csv", "--csv", str(path), "--layers", "1,2,3", *opts, "--quiet", "--out", str(out)]
    rc, _, err = _main(argv)
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()


def test_one_hot_targets_for_softmax_must_sum_to_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("0,1,1\n1,0,0\n")
    with pytest.raises(NNCoreError, match="summing to 2"):
        make_plan(settings_for("csv", csv=str(path), layers=(1, 2, 2), output_activation="softmax", cycles=5))


def test_classes_only_for_csv():
    with pytest.raises(NNCoreError, match="only for CSV"):
        make_plan(settings_for("xor", classes=2, layers=(2, 4, 2), cycles=5))
