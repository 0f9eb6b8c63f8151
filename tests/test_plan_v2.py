"""Plan schema version 2: tables as base64 little-endian float32 arrays (docs/plan-format.md, "Tables")."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import pytest

from nncore import limits
from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.presets import make_plan, settings_for

ACT = ("tracks", "neuron_activity", "values")
W0 = ("tracks", "synapse_layers", 0, "weight", "values")


@pytest.fixture(scope="module")
def plan():
    return make_plan(settings_for("xor", cycles=120, show=4))


@pytest.fixture(scope="module")
def doc(plan):
    """The version 2 JSON of the plan, parsed (tables are array objects)."""
    return json.loads(plan_io.dumps(plan))


def _at(d, path):
    for k in path:
        d = d[k]
    return d


def _put(d, path, v):
    _at(d, path[:-1])[path[-1]] = v


def _load(doc) -> dict:
    return plan_io.loads(json.dumps(doc), name="v2.json")


def _refused(doc, *words):
    with pytest.raises(NNCoreError) as exc:
        _load(doc)
    msg = str(exc.value)
    assert msg.startswith("plan: ") and "\n" not in msg, msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


def test_writer_writes_version_2_with_encoded_tables(plan, doc):
    assert doc["schema_version"] == 2
    arr = _at(doc, ACT)
    assert arr["dtype"] == "float32" and arr["shape"] == [len(_at(plan, ACT)), len(_at(plan, ACT)[0])]
    raw = base64.b64decode(arr["base64"], validate=True)
    got = np.frombuffer(raw, "<f4").reshape(arr["shape"])
    assert np.array_equal(got, np.asarray(_at(plan, ACT), np.float64).astype(np.float32))
    for path in (
        ("training", "final_outputs"),
        ("training", "targets"),
        ("weights", "before", 0),
        ("weights", "after", 1),
        W0,
        ("tracks", "synapse_layers", 1, "signal", "values"),
        ("tracks", "synapse_layers", 1, "error", "values"),
        ("tracks", "text", "inputs"),
        ("tracks", "text", "target"),
        ("tracks", "text", "output"),
    ):
        assert set(_at(doc, path)) == {"dtype", "shape", "base64"}, path
    # 1-D lists and the steps stay plain JSON
    assert isinstance(_at(doc, ("tracks", "synapse_layers", 0, "forward", "values")), list)
    assert isinstance(doc["steps"][0]["activations"][0], list) and isinstance(doc["loss"]["mean_error"], list)
    text = plan_io.dumps(plan)
    assert text.isascii() and text.endswith("\n") and text.count("\n") == 1


def test_deterministic_and_round_trip(plan):
    text = plan_io.dumps(plan)
    assert plan_io.dumps(copy.deepcopy(plan)) == text
    back = plan_io.loads(text)
    assert plan_io.dumps(back) == text  # same plan, same bytes, through a load too
    a = np.asarray(_at(plan, W0), np.float64)
    b = _at(back, W0)
    assert isinstance(b, np.ndarray) and b.dtype == np.float64 and b.shape == a.shape
    assert np.all(np.abs(b - a) <= 6e-8 * np.abs(a))  # float32: relative change below 2**-24
    plan_io.validate(back)  # a loaded plan (arrays) validates again, as the add-on does


def test_negative_zero_written_as_zero():
    enc = plan_io.encode_array([[-0.0, 1.0]])
    assert np.frombuffer(base64.b64decode(enc["base64"]), "<f4").tobytes() == np.float32([0.0, 1.0]).tobytes()


def test_version_1_still_loads_into_the_same_structure(plan):
    v1_text = plan_io.dumps(plan, schema_version=1)
    assert json.loads(v1_text)["schema_version"] == 1 and '"base64"' not in v1_text
    v1 = plan_io.loads(v1_text)
    v2 = plan_io.loads(plan_io.dumps(plan))
    assert v1["schema_version"] == 1
    for path in (ACT, W0, ("weights", "after", 0), ("training", "targets"), ("tracks", "text", "inputs")):
        a, b = _at(v1, path), _at(v2, path)
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
        assert np.allclose(a, b, rtol=1e-7, atol=0)
    assert np.array_equal(_at(v1, W0), np.asarray(_at(plan, W0)))  # version 1 is exact
    # a version 1 file with an encoded array is refused
    bad = json.loads(v1_text)
    _put(bad, ACT, plan_io.encode_array(_at(plan, ACT)))
    _refused(bad, "tracks.neuron_activity.values", "schema_version 2")


def test_v2_reader_accepts_rows_too(plan):
    doc = json.loads(plan_io.dumps(plan, schema_version=1))
    doc["schema_version"] = 2
    _load(doc)


def test_version_3_is_refused(doc):
    d = copy.deepcopy(doc)
    d["schema_version"] = 3
    _refused(d, "schema_version", "3 is not supported", "1 and 2")


def test_bad_base64(doc):
    d = copy.deepcopy(doc)
    s = _at(d, ACT)["base64"]
    _at(d, ACT)["base64"] = "*" + s[1:]
    _refused(d, "tracks.neuron_activity.values.base64", "not valid base64")
    d = copy.deepcopy(doc)
    _at(d, ACT)["base64"] = "\u00e9" + s[1:]
    _refused(d, "tracks.neuron_activity.values.base64", "not valid base64")
    d = copy.deepcopy(doc)
    _at(d, ACT)["base64"] = 12
    _refused(d, "tracks.neuron_activity.values.base64", "must be a string")


def test_wrong_dtype(doc):
    for dtype in ("float64", "<f4", 4, None):
        d = copy.deepcopy(doc)
        _at(d, W0)["dtype"] = dtype
        _refused(d, "tracks.synapse_layers[0].weight.values.dtype", '"float32"')


def test_wrong_shape(doc):
    k, n = _at(doc, W0)["shape"]
    for shape, words in (
        ([k, n + 1], [f"is {k} x {n + 1}, expected {k} x {n}"]),
        ([n, k], [f"expected {k} x {n}"]),
        ([k * n], ["two whole numbers"]),
        ([k, "4"], ["two whole numbers"]),
        ([k, True], ["two whole numbers"]),
        ("3x4", ["two whole numbers"]),
    ):
        d = copy.deepcopy(doc)
        _at(d, W0)["shape"] = shape
        _refused(d, "tracks.synapse_layers[0].weight.values.shape", *words)
    d = copy.deepcopy(doc)
    del _at(d, W0)["shape"]
    _refused(d, "tracks.synapse_layers[0].weight.values.shape", "missing")


def test_byte_length_mismatch(doc):
    s = _at(doc, W0)["base64"]
    for text in (s[:-4], s + "AAAA"):
        d = copy.deepcopy(doc)
        _at(d, W0)["base64"] = text
        _refused(d, "weight.values.base64", f"has {len(text):,} characters, expected {len(s):,}")
    # the right length, but padding in the middle
    d = copy.deepcopy(doc)
    _at(d, W0)["base64"] = "AA==" + s[4:]
    _refused(d, "weight.values.base64", "not valid base64")


def test_non_finite_inside_the_array(doc, plan):
    for bad in (np.nan, np.inf, -np.inf):
        a = np.asarray(_at(plan, ("tracks", "synapse_layers", 0, "signal", "values")), np.float64).copy()
        a[2, 1] = bad
        d = copy.deepcopy(doc)
        raw = a.astype("<f4").tobytes()
        _put(
            d,
            ("tracks", "synapse_layers", 0, "signal", "values"),
            dict(_at(d, W0), base64=base64.b64encode(raw).decode()),
        )
        _at(d, ("tracks", "synapse_layers", 0, "signal", "values"))["shape"] = list(a.shape)
        _refused(d, "tracks.synapse_layers[0].signal.values", "row 3 entry 2", "not finite")


def test_range_inside_the_array(doc, plan):
    a = np.asarray(_at(plan, ("tracks", "synapse_layers", 0, "error", "values")), np.float64).copy()
    a[0, 0] = 2.0
    d = copy.deepcopy(doc)
    _put(d, ("tracks", "synapse_layers", 0, "error", "values"), plan_io.encode_array(a))
    _refused(d, "tracks.synapse_layers[0].error.values", "row 1 entry 1", "not in [0, 1]")
    w = np.asarray(_at(plan, ("weights", "after", 0)), np.float64).copy()
    w[1, 0] = 2e6
    d = copy.deepcopy(doc)
    _put(d, ("weights", "after", 0), plan_io.encode_array(w))
    _refused(d, "weights.after[0]", "row 2 entry 1", "not in [-1e+06, 1e+06]")


def test_size_is_checked_before_decoding(doc, monkeypatch):
    """A declared shape beyond the plan's size limit is refused before its base64 is even read (the
    shape must match the layout anyway; here the limit is lowered so the layout's own shape is over)."""
    decoded = []
    real = plan_io.binascii.a2b_base64
    monkeypatch.setattr(plan_io.binascii, "a2b_base64", lambda *a, **k: decoded.append(bytes(a[0])) or real(*a, **k))
    hit = False
    for lim in range(1, 200):  # the limit at which the first table (training.final_outputs) is over
        monkeypatch.setattr(limits, "MAX_PLAN_VALUES", lim)
        with pytest.raises(NNCoreError) as exc:
            _load(doc)
        if str(exc.value).startswith("plan: training.final_outputs: the plan holds more than"):
            hit = True
            break
        decoded.clear()
    assert hit and not decoded
    monkeypatch.setattr(limits, "MAX_PLAN_VALUES", 6_000_000)
    # a huge declared shape: refused by the layout, nothing decoded
    d = copy.deepcopy(doc)
    _at(d, ACT)["shape"] = [10**9, 10**9]
    _refused(d, "tracks.neuron_activity.values.shape", "expected")
    d = copy.deepcopy(doc)
    _at(d, ACT)["shape"] = [2**70, 7]
    _refused(d, "tracks.neuron_activity.values.shape")
    assert _at(doc, ACT)["base64"].encode() not in decoded  # earlier tables were decoded, this one not


def test_in_memory_arrays_are_validated(plan):
    p = copy.deepcopy(plan)
    _put(p, W0, np.asarray(_at(plan, W0), np.float32))
    plan_io.validate(p)
    bad = np.asarray(_at(plan, W0), np.float64).copy()
    bad[0, 0] = np.nan
    _put(p, W0, bad)
    with pytest.raises(NNCoreError, match=r"weight\.values: row 1 entry 1: nan is not finite"):
        plan_io.validate(p)
    _put(p, W0, bad[:, :-1])
    with pytest.raises(NNCoreError, match=r"weight\.values: has shape"):
        plan_io.validate(p)
    # dumps of a plan holding arrays: both versions
    _put(p, W0, np.asarray(_at(plan, W0), np.float64))
    assert plan_io.dumps(p) == plan_io.dumps(plan)
    assert plan_io.dumps(p, 1) == plan_io.dumps(plan, 1)


def test_save_writes_version_2_and_1(tmp_path, plan):
    plan_io.save(plan, str(tmp_path / "a.json"))
    plan_io.save(plan, str(tmp_path / "b.json"), schema_version=1)
    assert json.loads((tmp_path / "a.json").read_text())["schema_version"] == 2
    assert json.loads((tmp_path / "b.json").read_text())["schema_version"] == 1
    a, b = plan_io.load(str(tmp_path / "a.json")), plan_io.load(str(tmp_path / "b.json"))
    assert np.allclose(_at(a, ACT), _at(b, ACT), rtol=1e-7, atol=0)
    with pytest.raises(ValueError):
        plan_io.dumps(plan, schema_version=3)
