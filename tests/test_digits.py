"""The digits preset: the shipped UCI 8x8 set, its held-out split, and a network that learns to read
it (> 90 % on digits it has not seen) in a few seconds."""

from __future__ import annotations

import gzip
import time

import numpy as np
import pytest

from nncore import plan as plan_io
from nncore.data import DIGITS_FILE, builtin
from nncore.presets import check_buildable, describe, make_plan, settings_for


@pytest.fixture(scope="module")
def digits_run():
    t0 = time.perf_counter()
    plan = make_plan(settings_for("digits"))
    return plan, time.perf_counter() - t0


def test_the_shipped_file_is_the_uci_set():
    with gzip.open(DIGITS_FILE, "rt") as f:
        arr = np.loadtxt(f, delimiter=",")
    assert arr.shape == (1797, 65)
    assert arr[:, :64].min() == 0 and arr[:, :64].max() == 16
    assert sorted(set(arr[:, 64].astype(int))) == list(range(10))


def test_split_is_fixed_disjoint_and_scaled():
    a, b = builtin("digits"), builtin("digits")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.test_X, b.test_X)
    assert (len(a), len(a.test_X)) == (1438, 359)  # 20 % held out
    assert a.X.min() == 0.0 and a.X.max() == 1.0  # pixel / 16
    np.testing.assert_array_equal(a.T.sum(axis=1), 1.0)
    train_rows = {r.tobytes() for r in a.X}
    held = [r.tobytes() in train_rows for r in a.test_X]
    # the UCI set has a few identical images; the split itself is by index, so almost none repeat
    assert sum(held) <= 5
    assert a.class_names == tuple("0123456789")


def test_digits_preset_trains_fast_and_reads_unseen_digits(digits_run):
    plan, seconds = digits_run
    tr = plan["training"]
    print(f"digits: {seconds:.2f} s, train accuracy {tr['final_accuracy']:.3f}, test {tr['test_accuracy']:.3f}")
    assert seconds < 5
    assert tr["test_accuracy"] > 0.90
    assert tr["test_examples"] == 359 and tr["examples"] == 1438
    assert plan["network"] == {"layers": [64, 16, 10], "activations": ["sigmoid", "softmax"], "bias": True}
    assert tr["class_names"] == list("0123456789")
    assert len(plan["loss"]["accuracy"]) == tr["cycles"]
    # the new situation is the first held-out digit, with its target
    held = builtin("digits")
    np.testing.assert_allclose(plan["query"]["inputs"], held.test_X[0])
    assert plan["query"]["target"] == held.test_T[0].tolist()
    assert "test accuracy" in describe(plan) and "new situation (64 inputs) ->" in describe(plan)


def test_digits_plan_is_valid_small_and_deterministic(digits_run):
    plan, _ = digits_run
    text = plan_io.dumps(plan)
    assert len(text) < 3_000_000
    plan_io.loads(text)
    assert plan_io.dumps(make_plan(settings_for("digits"))) == text
    check_buildable(settings_for("digits"))


def test_digits_dataset_with_other_layers_is_softmax_by_default():
    plan = make_plan(settings_for("xor", dataset="digits", layers=(64, 8, 10), learning_rate=0.1, batch=32, cycles=3))
    assert plan["network"]["activations"] == ["sigmoid", "softmax"]
    assert plan["training"]["test_examples"] == 359 and "target" in plan["query"]
