"""nncore keyframe plans: determinism, JSON round trip, validation messages and the plan's content."""

from __future__ import annotations

import copy
import json
import os
from bisect import bisect_right

import numpy as np
import pytest

from nncore import plan as plan_io
from nncore.errors import NNCoreError
from nncore.network import NetworkSpec, apply_update, backward, forward, init_params
from nncore.presets import load_dataset, make_plan, settings_for
from nncore.timeline import MAX_LOSS_POINTS, PHASES, SCHEMA_VERSION, Timing
from nncore.train import shown_examples, spaced_cycles

# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article_plan():
    return make_plan(settings_for("article"))


def small_settings():
    return settings_for("xor", cycles=120, show=4)


@pytest.fixture(scope="module")
def small_plan():
    return make_plan(small_settings())


@pytest.fixture(scope="module")
def csv_settings(tmp_path_factory):
    """25 examples (so 10 are shown per cycle), relu hidden, biases, online: the kernel path."""
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (25, 3))
    T = np.stack([X[:, 0] * X[:, 1], 1 - X[:, 2]], axis=1)
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    lines = ["a,b,c,t1,t2"] + [",".join(f"{v:.6f}" for v in row) for row in np.hstack([X, T])]
    path.write_text("\n".join(lines) + "\n")
    return settings_for("csv", csv=str(path), layers=(3, 5, 2), activation="relu", cycles=300, show=5)


# Plans whose every shown step we replay with plain numpy.
REPLAYED = {
    "xor-small": small_settings,
    "deep-tanh-minibatch": lambda: settings_for(
        "xor",
        layers=(2, 3, 3, 1),
        activation="tanh",
        batch=2,
        learning_rate=0.3,
        cycles=400,
        show=6,
        timing=Timing(fps=10, forward_seconds=0.1, backward_seconds=0.1, hold_seconds=0.0, state_seconds=0.5),
    ),
    "article-600-fullbatch": lambda: settings_for("article", cycles=600, batch=0, learning_rate=0.5, show=(1, 2, 600)),
    "article-1000-online": lambda: settings_for("article", cycles=1000, show=(2, 10, 20, 50, 100, 1000)),
}


# --- a numpy replay of training -------------------------------------------------------------------


def replay(s, max_cycle=None):
    """Train settings ``s`` with the plain numpy path; everything about each shown example."""
    spec = NetworkSpec(tuple(s.layers), s.activation, bias=s.bias)
    ds = load_dataset(s)
    shown = spaced_cycles(s.show, s.cycles) if isinstance(s.show, int) else list(s.show)
    show_ex = set(shown_examples(len(ds), s.examples_shown))
    n = len(ds)
    batch = n if s.batch == 0 else min(s.batch, n)
    params = init_params(spec, s.seed)
    last = s.cycles if max_cycle is None else max_cycle
    errors = np.zeros(last)
    steps = {}
    for c in range(1, last + 1):
        tot = 0.0
        for start in range(0, n, batch):
            sl = slice(start, start + batch)
            acts = forward(spec, params, ds.X[sl])
            err, deltas = backward(spec, params, acts, ds.T[sl])
            tot += float(np.abs(err).sum())
            before = params.copy()
            apply_update(params, acts, deltas, s.learning_rate)
            if c in shown:
                rows = [r for r in range(err.shape[0]) if start + r in show_ex]
                for r in rows:
                    steps[(c, start + r)] = {
                        "acts": [a[r] for a in acts],
                        "deltas": [d[r] for d in deltas],
                        "before": before,
                        # a batch's update is shown once, on its last shown example
                        "after": params.copy() if r == rows[-1] else before,
                    }
        errors[c - 1] = tot / (n * spec.layers[-1])
    return {"spec": spec, "steps": steps, "mean_error": errors, "final": params, "shown": shown}


def at(track: dict, frame: int) -> np.ndarray:
    """A track's value at ``frame``, the way Blender reads F-curves (CONSTANT/LINEAR per key)."""
    frames = track["frames"]
    values = np.asarray(track["values"], dtype=np.float64)
    i = bisect_right(frames, frame) - 1
    if i < 0:
        return values[0]
    if i + 1 < len(frames) and track["interpolation"][i] == "LINEAR":
        t = (frame - frames[i]) / (frames[i + 1] - frames[i])
        return values[i] + t * (values[i + 1] - values[i])
    return values[i]


# --- determinism and the JSON round trip ------------------------------------------------------


def test_same_settings_same_bytes(article_plan):
    again = make_plan(settings_for("article"))
    assert plan_io.dumps(again) == plan_io.dumps(article_plan)


def test_same_settings_same_bytes_small(small_plan):
    assert plan_io.dumps(make_plan(small_settings())) == plan_io.dumps(small_plan)
    other_seed = make_plan(settings_for("xor", cycles=120, show=4, seed=2))
    assert plan_io.dumps(other_seed) != plan_io.dumps(small_plan)


def test_dumps_is_plain_json(small_plan):
    text = plan_io.dumps(small_plan)
    assert text.endswith("\n") and text.count("\n") == 1
    assert text.isascii()
    assert "NaN" not in text and "Infinity" not in text and "-0.0," not in text


def test_round_trip(tmp_path, article_plan):
    path = tmp_path / "article.plan.json"
    plan_io.save(article_plan, str(path))
    text = plan_io.dumps(article_plan)
    # tables are float32 in version 2: what is read back writes the same bytes
    assert plan_io.dumps(plan_io.load(str(path))) == text
    assert plan_io.dumps(plan_io.loads(text)) == text
    # version 1 reads back exactly (tables as float64 arrays)
    v1 = plan_io.loads(plan_io.dumps(article_plan, schema_version=1))
    assert v1["schema_version"] == 1 and plan_io.dumps(v1, schema_version=1) == plan_io.dumps(article_plan, 1)
    assert os.listdir(tmp_path) == ["article.plan.json"]  # no temporary file left behind
    plan_io.save(article_plan, str(path))  # overwriting is fine
    assert path.read_text() == plan_io.dumps(article_plan)


def test_save_refuses_an_invalid_plan(tmp_path, small_plan):
    bad = copy.deepcopy(small_plan)
    del bad["steps"]
    with pytest.raises(NNCoreError, match="steps: missing"):
        plan_io.save(bad, str(tmp_path / "p.json"))
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_nothing(tmp_path, small_plan, monkeypatch):
    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plan_io.os, "replace", fail)
    with pytest.raises(NNCoreError, match="cannot write .*No space left"):
        plan_io.save(small_plan, str(tmp_path / "p.json"))
    assert os.listdir(tmp_path) == []

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(plan_io.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        plan_io.save(small_plan, str(tmp_path / "p.json"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "where, message",
    [("missing/p.json", "folder .* does not exist"), (".", "is a folder")],
)
def test_save_to_a_bad_place(tmp_path, small_plan, where, message):
    with pytest.raises(NNCoreError, match=message):
        plan_io.save(small_plan, str(tmp_path / where))
    assert os.listdir(tmp_path) == []


def test_load_problems(tmp_path):
    with pytest.raises(NNCoreError, match="no such file"):
        plan_io.load(str(tmp_path / "nope.json"))
    with pytest.raises(NNCoreError, match="is a folder"):
        plan_io.load(str(tmp_path))
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(NNCoreError, match="not a text file"):
        plan_io.load(str(binary))


# --- malformed plans: each gets its own message naming the field ------------------------------


def _set(path):
    """A mutation setting a nested field: _set(("timing", "fps"))(plan, value)."""

    def apply(plan, value):
        obj = plan
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return apply


def _del(*path):
    def apply(plan):
        obj = plan
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]

    return apply


def _swap_frames(plan):
    f = plan["tracks"]["neuron_activity"]["frames"]
    f[1], f[2] = f[2], f[1]


def _short_row(plan):
    plan["tracks"]["neuron_activity"]["values"][2].pop()


def _short_weight_row(plan):
    plan["tracks"]["synapse_layers"][1]["weight"]["values"][0].append(0.5)


def _bad_interp(plan):
    plan["tracks"]["synapse_layers"][0]["weight"]["interpolation"][1] = "BEZIER"


def _drop_group(plan):
    plan["tracks"]["synapse_layers"].pop()


def _extra_group(plan):
    groups = plan["tracks"]["synapse_layers"]
    groups.append(copy.deepcopy(groups[-1]))


def _steps_reversed_frames(plan):
    plan["steps"][0]["forward_frames"].reverse()


def _frame_past_end(plan):
    plan["tracks"]["neuron_activity"]["frames"][-1] = plan["timing"]["frame_end"] + 5


def _nan_value(plan):
    plan["tracks"]["synapse_layers"][0]["signal"]["values"][0][0] = float("nan")


def _interp_count(plan):
    plan["tracks"]["synapse_layers"][0]["forward"]["interpolation"].pop()


def _shared_values_as_rows(plan):
    tr = plan["tracks"]["synapse_layers"][0]["forward"]
    tr["values"] = [[v] for v in tr["values"]]


def _step_not_object(plan):
    plan["steps"][1] = 3


MALFORMED = [
    # (id, mutation of a valid plan or raw text, words the message must contain)
    ("not-json", "{not json", ["not valid JSON", "line 1"]),
    ("not-object", "[1, 2, 3]", ["JSON object"]),
    ("missing-schema-version", _del("schema_version"), ["schema_version", "missing"]),
    ("wrong-schema-version", lambda p: _set(("schema_version",))(p, 3), ["schema_version", "3", "not supported"]),
    ("schema-version-type", lambda p: _set(("schema_version",))(p, "1"), ["schema_version", "whole number"]),
    ("missing-network", _del("network"), ["network", "missing"]),
    ("missing-cycles", _del("training", "cycles"), ["training.cycles", "missing"]),
    ("missing-weight-track", _del("tracks", "synapse_layers", 0, "weight"), ["tracks.synapse_layers[0].weight"]),
    ("missing-values", _del("tracks", "neuron_activity", "values"), ["tracks.neuron_activity.values", "missing"]),
    ("fps-type", lambda p: _set(("timing", "fps"))(p, "24"), ["timing.fps", "whole number"]),
    ("bias-type", lambda p: _set(("network", "bias"))(p, "yes"), ["network.bias", "true or false"]),
    ("lr-type", lambda p: _set(("training", "learning_rate"))(p, "fast"), ["training.learning_rate", "number"]),
    ("steps-type", lambda p: _set(("steps",))(p, {}), ["steps", "must be a list"]),
    ("step-not-object", _step_not_object, ["steps[1]", "must be an object"]),
    ("tracks-type", lambda p: _set(("tracks",))(p, []), ["tracks", "must be an object"]),
    ("layers-too-few", lambda p: _set(("network", "layers"))(p, [2]), ["network.layers", "two layers"]),
    ("bad-activation", lambda p: _set(("network", "activations"))(p, ["sigmoid", "swish"]), ["network.activations"]),
    ("short-row", _short_row, ["tracks.neuron_activity.values", "row 3", "expected 7"]),
    ("long-weight-row", _short_weight_row, ["tracks.synapse_layers[1].weight.values", "row 1", "expected 4"]),
    ("shared-as-rows", _shared_values_as_rows, ["tracks.synapse_layers[0].forward.values", "1-D"]),
    ("frames-not-increasing", _swap_frames, ["tracks.neuron_activity.frames", "strictly increasing"]),
    ("step-frames-reversed", _steps_reversed_frames, ["steps[0].forward_frames", "strictly increasing"]),
    ("frame-past-end", _frame_past_end, ["tracks.neuron_activity.frames", "must lie in"]),
    ("bad-interpolation", _bad_interp, ["tracks.synapse_layers[0].weight.interpolation", "'BEZIER'"]),
    ("interpolation-count", _interp_count, ["tracks.synapse_layers[0].forward.interpolation", "entries"]),
    ("too-few-synapse-layers", _drop_group, ["tracks.synapse_layers", "1 groups, expected 2"]),
    ("too-many-synapse-layers", _extra_group, ["tracks.synapse_layers", "3 groups, expected 2"]),
    ("nan-value", _nan_value, ["tracks.synapse_layers[0].signal.values", "not finite"]),
    ("neuron-count", lambda p: _set(("neurons", "count"))(p, 9), ["neurons.count", "9"]),
    ("query-width", lambda p: _set(("query", "inputs"))(p, [1.0]), ["query.inputs", "expected 2"]),
    ("step-cycle-range", lambda p: _set(("steps", 0, "cycle"))(p, 10**6), ["steps[0].cycle", "1000000"]),
    ("phase-range", lambda p: _set(("tracks", "text", "phase", 0))(p, 7), ["tracks.text.phase"]),
]


def _broken_text(base: dict, mutation) -> str:
    if isinstance(mutation, str):
        return mutation
    plan = copy.deepcopy(base)
    mutation(plan)
    return json.dumps(plan)


@pytest.mark.parametrize("mutation, words", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_plan_is_named(small_plan, mutation, words):
    text = _broken_text(small_plan, mutation)
    with pytest.raises(NNCoreError) as exc:
        plan_io.loads(text, name="bad.json")
    msg = str(exc.value)
    assert msg.startswith("plan: ") and "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_malformed_plans_get_distinct_messages(small_plan):
    messages = []
    for _, mutation, _ in MALFORMED:
        with pytest.raises(NNCoreError) as exc:
            plan_io.loads(_broken_text(small_plan, mutation))
        messages.append(str(exc.value))
    assert len(set(messages)) == len(messages)


def test_small_plan_is_valid(small_plan):
    plan_io.validate(small_plan)
    assert small_plan["schema_version"] == SCHEMA_VERSION == 2


# --- the plan's content ---------------------------------------------------------------------------


def check_layout(plan: dict) -> None:
    """Frames: before, steps, after, query; in order, without gaps, within frame_start..frame_end."""
    tm = plan["timing"]
    layers = plan["network"]["layers"]
    n_seg = len(layers) - 1
    F, B, H, S = tm["forward_frames"], tm["backward_frames"], tm["hold_frames"], tm["state_frames"]
    fps = tm["fps"]
    assert F == max(round(tm["forward_seconds"] * fps), n_seg)
    assert B == max(round(tm["backward_seconds"] * fps), n_seg)
    assert H == round(tm["hold_seconds"] * fps)
    assert S == max(round(tm["state_seconds"] * fps), 1)
    lo, hi = tm["frame_start"], tm["frame_end"]
    assert lo == 1
    st = plan["states"]
    assert (st["before"]["frame_start"], st["before"]["frame_end"]) == (1, S)
    frame = S + 1
    keys = []
    for step in plan["steps"]:
        s = step["frame_start"]
        assert s == frame
        fb, gb = step["forward_frames"], step["backward_frames"]
        assert len(fb) == len(gb) == n_seg + 1
        assert fb[0] == s and fb[-1] == gb[0] == s + F and gb[-1] == s + F + B
        assert fb == [s + round(F * k / n_seg) for k in range(n_seg + 1)]
        assert all(b > a for a, b in zip(fb, fb[1:])) and all(b > a for a, b in zip(gb, gb[1:]))
        assert step["frame_end"] == s + F + B + H
        keys.append((step["cycle"], step["example"]))
        frame = step["frame_end"] + 1
    assert keys == sorted(set(keys))  # steps ordered by cycle, then example
    assert (st["after"]["frame_start"], st["after"]["frame_end"]) == (frame, frame + S - 1)
    q = st["query"]
    assert q["frame_start"] == frame + S
    assert q["frame_end"] == hi == q["frame_start"] + F + S - 1
    assert q["forward_frames"][0] == q["frame_start"] and q["forward_frames"][-1] == q["frame_start"] + F

    tracks = [plan["tracks"]["neuron_activity"]]
    for g in plan["tracks"]["synapse_layers"]:
        tracks += [g[name] for name in ("weight", "signal", "forward", "backward", "error", "bias") if name in g]
    for tr in tracks:
        f = tr["frames"]
        assert f[0] >= lo and f[-1] == hi  # every animated group is held to the last frame
        assert all(b > a for a, b in zip(f, f[1:]))
        assert set(tr["interpolation"]) <= {"CONSTANT", "LINEAR"}
    text = plan["tracks"]["text"]
    assert text["phase"] == [0] + [1] * len(plan["steps"]) + [2, 3]
    assert text["frames"] == [1] + [s["frame_start"] for s in plan["steps"]] + [
        st["after"]["frame_start"],
        q["frame_start"],
    ]
    assert text["cycle"][1:-2] == [s["cycle"] for s in plan["steps"]]
    assert text["example"] == [-1] + [s["example"] for s in plan["steps"]] + [-1, -1]
    assert len(PHASES) == 4


def check_counts_and_indexing(plan: dict) -> None:
    tr = plan["training"]
    layers = plan["network"]["layers"]
    assert tr["shown_examples"] == shown_examples(tr["examples"])
    assert len(plan["steps"]) == len(tr["shown_cycles"]) * len(tr["shown_examples"])
    assert [(s["cycle"], s["example"]) for s in plan["steps"]] == [
        (c, e) for c in tr["shown_cycles"] for e in tr["shown_examples"]
    ]
    assert plan["neurons"]["count"] == sum(layers)
    assert plan["neurons"]["layer"] == [k for k, n in enumerate(layers) for _ in range(n)]
    assert plan["neurons"]["index"] == [i for n in layers for i in range(n)]
    for k, g in enumerate(plan["tracks"]["synapse_layers"]):
        nk = layers[k]
        p = np.arange(nk * layers[k + 1])
        assert g["layer"] == k
        assert g["source"] == (p % nk).tolist() and g["target"] == (p // nk).tolist()  # row-major j * n_k + i
        assert ("bias" in g) == plan["network"]["bias"]


def check_loss(plan: dict, mean_error=None) -> None:
    loss = plan["loss"]
    C = plan["training"]["cycles"]
    lc = loss["cycles"]
    assert len(lc) <= MAX_LOSS_POINTS and len(lc) == len(loss["mean_error"]) == len(loss["frames"])
    assert lc[0] == 1 and lc[-1] == C
    assert all(b > a for a, b in zip(lc, lc[1:]))
    if C <= MAX_LOSS_POINTS:
        assert lc == list(range(1, C + 1))
    else:
        assert lc[:10] == list(range(1, 11))  # denser early
    f = loss["frames"]
    assert all(b >= a for a, b in zip(f, f[1:]))
    step_starts = {s["cycle"]: s["frame_start"] for s in reversed(plan["steps"])}  # first step of each cycle
    shown = plan["training"]["shown_cycles"]
    for c, frame in zip(lc, f):
        later = [x for x in shown if x >= c]
        expected = step_starts[later[0]] if later else plan["states"]["after"]["frame_start"]
        assert frame == expected, c
    assert loss["mean_error"][-1] == pytest.approx(plan["training"]["final_mean_error"], abs=1e-6)
    if mean_error is not None:
        known = [i for i, c in enumerate(lc) if c <= len(mean_error)]
        want = [mean_error[lc[i] - 1] for i in known]
        np.testing.assert_allclose([loss["mean_error"][i] for i in known], want, atol=1e-6)


def check_against_replay(plan: dict, rp: dict) -> None:
    """Weights, activations, deltas and error glow of every replayed step agree with the plan."""
    layers = plan["network"]["layers"]
    n_seg = len(layers) - 1
    groups = plan["tracks"]["synapse_layers"]
    act_track = plan["tracks"]["neuron_activity"]
    bias = plan["network"]["bias"]
    checked = 0
    for step in plan["steps"]:
        key = (step["cycle"], step["example"])
        if key not in rp["steps"]:
            continue
        want = rp["steps"][key]
        checked += 1
        s, gb, fb = step["frame_start"], step["backward_frames"], step["forward_frames"]
        for k in range(n_seg):
            before = want["before"].weights[k].ravel()
            after = want["after"].weights[k].ravel()
            w = groups[k]["weight"]
            np.testing.assert_allclose(at(w, s), before, atol=2e-6)  # forward pass: old weights
            np.testing.assert_allclose(at(w, gb[-1]), after, atol=2e-6)  # backward end: new weights
            np.testing.assert_allclose(at(w, step["frame_end"]), after, atol=2e-6)
            m = n_seg - 1 - k  # backward segment m moves synapse layer S - 1 - m, top layer first
            np.testing.assert_allclose(at(w, gb[m]), before, atol=2e-6)
            np.testing.assert_allclose(at(w, gb[m + 1]), after, atol=2e-6)
            if gb[m + 1] - gb[m] >= 2:
                mid = gb[m] + (gb[m + 1] - gb[m]) // 2
                t = (mid - gb[m]) / (gb[m + 1] - gb[m])
                np.testing.assert_allclose(at(w, mid), before + t * (after - before), atol=4e-6)
            if bias:
                np.testing.assert_allclose(at(groups[k]["bias"], s), want["before"].biases[k], atol=2e-6)
                np.testing.assert_allclose(at(groups[k]["bias"], gb[-1]), want["after"].biases[k], atol=2e-6)
            # forward segment k: signal = sender's output, progress 0 -> 1
            sig = np.repeat(want["acts"][k][None, :], layers[k + 1], axis=0).ravel()
            np.testing.assert_allclose(at(groups[k]["signal"], s), sig, atol=2e-6)
            assert float(at(groups[k]["forward"], fb[k])) == 0.0
            assert float(at(groups[k]["forward"], fb[k + 1])) == 1.0
            assert float(at(groups[k]["backward"], gb[m])) == 0.0
            assert float(at(groups[k]["backward"], gb[m + 1])) == 1.0
        for k in range(len(layers)):
            np.testing.assert_allclose(step["activations"][k], want["acts"][k], atol=2e-6)
        for k in range(n_seg):
            np.testing.assert_allclose(step["deltas"][k], want["deltas"][k], atol=2e-6)
        np.testing.assert_allclose(step["output"], want["acts"][-1], atol=2e-6)
        np.testing.assert_allclose(step["error"], step["target"] - want["acts"][-1], atol=4e-6)
        # neurons light up layer by layer during the forward pass
        np.testing.assert_allclose(at(act_track, s)[: layers[0]], want["acts"][0], atol=2e-6)
        assert np.all(at(act_track, s)[layers[0] :] == 0)  # only the inputs are lit at the start
        np.testing.assert_allclose(at(act_track, fb[-1]), np.concatenate(want["acts"]), atol=2e-6)
    assert checked == len(rp["steps"]) and checked > 0


def check_error_glow(plan: dict, rp: dict) -> None:
    """Error glow = sqrt(|delta of the target neuron| / the largest |delta| of that layer over all steps)."""
    layers = plan["network"]["layers"]
    for k, g in enumerate(plan["tracks"]["synapse_layers"]):
        ref = max(float(np.abs(st["deltas"][k]).max()) for st in rp["steps"].values())
        vals = np.asarray(g["error"]["values"])
        assert vals.min() >= 0 and vals.max() <= 1
        assert vals.max() == pytest.approx(1.0, abs=1e-6)
        for step in plan["steps"]:
            want = np.repeat(
                np.sqrt(np.abs(rp["steps"][(step["cycle"], step["example"])]["deltas"][k]) / ref), layers[k]
            )
            np.testing.assert_allclose(at(g["error"], step["frame_start"]), want, atol=2e-6)
        for state in ("before", "after"):  # idle: no error glows
            assert np.all(at(g["error"], plan["states"][state]["frame_start"]) == 0)


def check_all(plan: dict, rp: dict) -> None:
    """Every plan-content check against an independent numpy replay."""
    check_layout(plan)
    check_counts_and_indexing(plan)
    check_loss(plan, rp["mean_error"])
    check_against_replay(plan, rp)
    check_error_glow(plan, rp)


@pytest.mark.parametrize("name", list(REPLAYED))
def test_plan_content_against_numpy_replay(name):
    s = REPLAYED[name]()
    plan = make_plan(s)
    plan_io.validate(plan)
    rp = replay(s)
    check_all(plan, rp)
    np.testing.assert_allclose(plan["weights"]["after"][0], rp["final"].weights[0], atol=2e-6)
    np.testing.assert_allclose(
        np.ravel(plan["training"]["final_outputs"]),
        np.ravel(forward(rp["spec"], rp["final"], load_dataset(s).X)[-1]),
        atol=2e-6,
    )


def test_plan_content_many_examples(csv_settings):
    plan = make_plan(csv_settings)
    assert plan["training"]["examples"] == 25
    assert plan["training"]["shown_examples"] == shown_examples(25)
    assert len(plan["steps"]) == 5 * 10
    rp = replay(csv_settings)
    check_all(plan, rp)
    assert plan["network"]["activations"] == ["relu", "sigmoid"]
    assert plan["query"]["inputs"] == plan["steps"][0]["inputs"]  # no query given: the first example


def test_article_plan_content(article_plan):
    plan = article_plan
    check_layout(plan)
    check_counts_and_indexing(plan)
    assert len(plan["steps"]) == 13 * 7
    rp = replay(settings_for("article"), max_cycle=500)  # numpy is slow: replay the first 500 cycles
    check_loss(plan, rp["mean_error"])
    check_against_replay(plan, rp)
    # the last step ends with the trained weights
    last = plan["steps"][-1]
    for k, g in enumerate(plan["tracks"]["synapse_layers"]):
        np.testing.assert_allclose(at(g["weight"], last["backward_frames"][-1]), np.ravel(plan["weights"]["after"][k]))
        np.testing.assert_allclose(at(g["weight"], plan["timing"]["frame_end"]), np.ravel(plan["weights"]["after"][k]))
        np.testing.assert_allclose(at(g["weight"], 1), np.ravel(plan["weights"]["before"][k]))
    # the article's figures, as the plan carries them
    assert plan["query"] == {"inputs": [1.0, 1.0, 0.0], "outputs": [pytest.approx(0.0133, abs=5e-5)]}
    assert plan["training"]["shown_cycles"] == [2, 10, 20, 50, 100, 200, 300, 400, 500, 1000, 2500, 12500, 60000]
    assert plan["timing"]["frame_end"] == 48 + 91 * 31 + 48 + 12 + 48
    assert plan["preset"] == "article" and plan["generator"].startswith("nncore ")
    q = plan["states"]["query"]
    np.testing.assert_allclose(
        at(plan["tracks"]["neuron_activity"], q["forward_frames"][-1])[-1], plan["query"]["outputs"][0]
    )
    assert np.all(at(plan["tracks"]["neuron_activity"], plan["states"]["after"]["frame_start"]) == 0)


def test_loss_is_thinned_for_long_runs(article_plan):
    lc = article_plan["loss"]["cycles"]
    assert len(lc) <= MAX_LOSS_POINTS
    gaps = np.diff(lc)
    assert gaps[-1] > 100 * gaps[0]  # geometric: sparse late


def test_text_track_carries_the_step(small_plan):
    text = small_plan["tracks"]["text"]
    for i, step in enumerate(small_plan["steps"], start=1):
        assert text["inputs"][i] == step["inputs"]
        assert text["target"][i] == step["target"]
        assert text["output"][i] == step["output"]
        assert text["error"][i] == pytest.approx(float(np.mean(np.abs(step["error"]))), abs=2e-6)
    assert text["output"][-1] == small_plan["query"]["outputs"]
    assert text["mean_error"][-2] == pytest.approx(small_plan["training"]["final_mean_error"], abs=1e-6)


# --- softmax plans: accuracy, optional fields -----------------------------------------------------


@pytest.fixture(scope="module")
def softmax_plan(tmp_path_factory):
    rng = np.random.default_rng(2)
    c = rng.integers(0, 3, 30)
    X = np.array([[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]])[c] + 0.2 * rng.standard_normal((30, 2))
    path = tmp_path_factory.mktemp("softmax") / "blobs.csv"
    rows = ["x,y,red,green,blue"] + [
        ",".join(f"{v:.4f}" for v in x) + "," + ",".join("1" if k == ci else "0" for k in range(3))
        for x, ci in zip(X, c)
    ]
    path.write_text("\n".join(rows) + "\n")
    s = settings_for(
        "csv", csv=str(path), layers=(2, 5, 3), output_activation="softmax", learning_rate=0.1, cycles=50, show=3
    )
    return make_plan(s)


def test_softmax_plan_records_accuracy(softmax_plan):
    from nncore.presets import describe

    p = plan_io.loads(plan_io.dumps(softmax_plan))
    assert p["network"]["activations"] == ["sigmoid", "softmax"]
    tr = p["training"]
    assert 0.9 < tr["final_accuracy"] <= 1.0
    assert len(p["loss"]["accuracy"]) == len(p["loss"]["cycles"])
    assert p["loss"]["accuracy"][-1] == tr["final_accuracy"]
    text = p["tracks"]["text"]
    assert len(text["accuracy"]) == len(text["frames"]) and text["accuracy"][0] == 0.0
    assert text["accuracy"][-1] == tr["final_accuracy"]
    assert tr["class_names"] == ["red", "green", "blue"]  # the one-hot columns' header names
    assert "test_accuracy" not in tr and "target" not in p["query"]
    assert f"accuracy {tr['final_accuracy'] * 100:.1f}%" in describe(p)


def test_sigmoid_plans_have_no_accuracy(small_plan, article_plan):
    for p in (small_plan, article_plan):
        assert not {"final_accuracy", "test_accuracy", "test_examples", "class_names"} & set(p["training"])
        assert "accuracy" not in p["loss"] and "target" not in p["query"]
        assert "accuracy" not in p["tracks"]["text"]


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda p: p["loss"].__setitem__("accuracy", p["loss"]["accuracy"][:-1]), "loss.accuracy"),
        (lambda p: p["loss"]["accuracy"].__setitem__(0, 1.5), "loss.accuracy"),
        (lambda p: p["training"].__setitem__("final_accuracy", -0.1), "training.final_accuracy"),
        (lambda p: p["training"].__setitem__("class_names", ["a", "b"]), "training.class_names"),
        (lambda p: p["training"].__setitem__("test_accuracy", 0.5), "test_examples"),
        (lambda p: p["query"].__setitem__("target", [1.0]), "query.target"),
        (lambda p: p["tracks"]["text"]["accuracy"].pop(), "tracks.text.accuracy"),
        (lambda p: p["network"].__setitem__("activations", ["softmax", "softmax"]), "network.activations"),
    ],
)
def test_softmax_plan_fields_are_validated(softmax_plan, mutate, words):
    p = copy.deepcopy(softmax_plan)
    mutate(p)
    with pytest.raises(NNCoreError, match=words.replace(".", r"\.")):
        plan_io.validate(p)


def test_accuracy_refused_on_a_sigmoid_plan(small_plan):
    p = copy.deepcopy(small_plan)
    p["loss"]["accuracy"] = [0.5] * len(p["loss"]["cycles"])
    with pytest.raises(NNCoreError, match="only a softmax network"):
        plan_io.validate(p)


def test_long_digit_scan_matches_the_regex():
    from nncore.plan import _LONG_DIGITS, _has_long_digits

    rng = np.random.default_rng(0)
    cases = [b"1" * 21, b"1" * 20, b"x" + b"0" * 21 + b"y", b"1." + b"9" * 20, b"9" * 10 + b"," + b"9" * 11]
    for _ in range(300):
        n = int(rng.integers(0, 60))
        cases.append(bytes(rng.choice(list(b"0123456789.,-e[] "), n, p=[0.09] * 10 + [0.1 / 7] * 7).tolist()))
    for c in cases:
        assert _has_long_digits(c) == bool(_LONG_DIGITS.search(c)), c
