"""Keyframe plan files: save, load and validate (the format is in docs/plan-format.md).

Loading validates everything the add-on relies on and reports the first problem as one
line naming the offending field, e.g. ``plan: tracks.neuron_activity.values: row 3 has
7 numbers, expected 8``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from itertools import chain
from typing import Any

import numpy as np

from . import limits, outputs
from .activations import ACTIVATIONS, OUTPUT_ACTIVATIONS
from .errors import NNCoreError
from .network import MAX_LAYER_SIZE
from .timeline import MAX_LOSS_POINTS, PHASES, SCHEMA_VERSION
from .train import MAX_CYCLES, MAX_SHOWN, MAX_WEIGHT

INTERPOLATIONS = ("CONSTANT", "LINEAR")


#: The encoding of a table in schema version 2 (docs/plan-format.md, "Tables").
ARRAY_DTYPE = "float32"
#: Schema versions this module reads (and writes: :func:`dumps`'s ``schema_version``).
READS = (1, SCHEMA_VERSION)
#: The track groups whose values are tables (K rows of N numbers); forward/backward are 1-D.
_TABLE_TRACKS = ("weight", "signal", "error", "bias")
_TEXT_TABLES = ("inputs", "target", "output")


def encode_array(a: Any) -> dict:
    """A table as schema 2 writes it: ``{"dtype": "float32", "shape": [K, N], "base64": ...}``, the
    little-endian float32 bytes in row-major order, base64 (RFC 4648, padded, no line breaks);
    ``-0.0`` is written as ``0.0``. Same array, same text."""
    arr = np.asarray(a, dtype=np.float64)
    f = arr.astype("<f4") + np.float32(0.0)  # round to nearest float32; -0.0 + 0.0 = 0.0
    return {
        "dtype": ARRAY_DTYPE,
        "shape": [int(x) for x in arr.shape],
        "base64": base64.b64encode(np.ascontiguousarray(f, "<f4").tobytes()).decode("ascii"),
    }


def _encodable(v: Any) -> np.ndarray | None:
    """``v`` as a finite 2-D float array within float32's range, or None (left as it is, so that a
    broken plan stays broken in the text and the validator names the problem)."""
    if isinstance(v, np.ndarray):
        arr = v
    elif isinstance(v, list) and v and all(type(r) is list for r in v):
        try:
            arr = np.array(v, dtype=np.float64)
        except (OverflowError, ValueError, TypeError):
            return None
    else:
        return None
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        if not np.isfinite(arr).all() or (arr.size and np.abs(arr).max() > F32):
            return None
    return arr


def _to_rows(v: Any) -> Any:
    """A table as version 1 writes it: rows of numbers rounded to 6 decimals (an array is converted)."""
    if isinstance(v, np.ndarray):
        return (np.round(np.asarray(v, dtype=np.float64), 6) + 0.0).tolist()
    return v


def map_tables(plan: Any, fn) -> Any:
    """A copy of ``plan`` with every table (docs/plan-format.md, "Tables") replaced by ``fn(table)``;
    the dicts and lists on the way are copied (shallow), nothing else. Tolerant of a malformed plan:
    what is not where the format puts it is left alone."""
    if not isinstance(plan, dict):
        return plan
    out = dict(plan)

    def sub(parent: Any, key) -> Any:
        if isinstance(parent, dict) and key in parent:
            parent = dict(parent)
            parent[key] = fn(parent[key])
        return parent

    tr = out.get("training")
    if isinstance(tr, dict):
        out["training"] = sub(sub(tr, "final_outputs"), "targets")
    w = out.get("weights")
    if isinstance(w, dict):
        w = dict(w)
        for key in ("before", "after"):
            if isinstance(w.get(key), list):
                w[key] = [fn(m) for m in w[key]]
        out["weights"] = w
    tracks = out.get("tracks")
    if isinstance(tracks, dict):
        tracks = dict(tracks)
        if "neuron_activity" in tracks:
            tracks["neuron_activity"] = sub(tracks["neuron_activity"], "values")
        groups = tracks.get("synapse_layers")
        if isinstance(groups, list):
            new = []
            for g in groups:
                if isinstance(g, dict):
                    g = dict(g)
                    for name in _TABLE_TRACKS:
                        if name in g:
                            g[name] = sub(g[name], "values")
                new.append(g)
            tracks["synapse_layers"] = new
        text = tracks.get("text")
        if isinstance(text, dict):
            for key in _TEXT_TABLES:
                text = sub(text, key)
            tracks["text"] = text
        out["tracks"] = tracks
    return out


def dumps(plan: dict, schema_version: int = SCHEMA_VERSION) -> str:
    """Deterministic JSON text of a plan (same plan, same bytes).

    ``schema_version`` 2 (the default) writes every table as an encoded float32 array
    (:func:`encode_array`); 1 writes the version 1 text (tables as rows of numbers, 6 decimals), for
    readers that only know version 1. The plan's own ``schema_version`` is replaced by the one written.
    """
    if schema_version not in READS:
        raise ValueError(f"schema_version: {schema_version!r} is not one of {READS}")
    if schema_version == 1:
        doc = map_tables(plan, _to_rows)
    else:

        def encode(v):
            arr = _encodable(v)
            return v if arr is None else encode_array(arr)

        doc = map_tables(plan, encode)
    if isinstance(doc, dict) and "schema_version" in doc:
        doc["schema_version"] = schema_version
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False) + "\n"


def save(plan: dict, path: str, what: str = "output", schema_version: int = SCHEMA_VERSION) -> None:
    """Validate ``plan`` and write it to ``path`` atomically (checked, verified, then renamed), as
    ``schema_version`` (2 by default; 1 for readers that only know version 1)."""
    # validate a copy whose tables become arrays (the caller's plan is not changed), so each table
    # is converted from lists once, for both the checks and the encoding
    doc = map_tables(plan, lambda v: v)
    validate_json(doc, arrays=True)
    final = outputs.check_file(path, what)
    outputs.write_bytes(final, dumps(doc, schema_version).encode("ascii"), what)


def load(path: str) -> dict:
    """Read and validate a plan file (a regular file of at most ``limits.MAX_PLAN_BYTES``)."""
    data = limits.read_file(path, limits.MAX_PLAN_BYTES, "plan")
    return loads(data, name=os.path.basename(os.fspath(path)) or "plan")


def loads(text: str | bytes, name: str = "plan") -> dict:
    """Parse and validate a plan's JSON text (``str`` or UTF-8 ``bytes``; a BOM is fine).

    Version 1 and 2 plans give the same structure: every table (docs/plan-format.md, "Tables") is a
    2-D numpy float64 array (a version 2 table holds float32 values), everything else as in the JSON.
    """
    return validate_json(parse(text, name), arrays=True)


def parse(text: str | bytes, name: str = "plan") -> Any:
    """The JSON value of a plan's text, parsed within the limits (no validation of its content).

    Before parsing: the size (:data:`~nncore.limits.MAX_PLAN_BYTES`), the nesting depth
    (:data:`~nncore.limits.MAX_JSON_DEPTH`) and the count of items (commas) are checked, so no
    input can exhaust the stack or the memory. While parsing, integers beyond 64 bits and
    NaN/Infinity are kept as markers the validator names by field (a float beyond float64 reads
    as inf, which it names too).
    """
    label = limits.clean_name(name, 120)
    if isinstance(text, str):
        text = text.removeprefix("\ufeff")
        if len(text) > limits.MAX_PLAN_BYTES:
            raise NNCoreError(
                f"plan: {label}: {limits.fmt(len(text))} characters is over the limit of "
                f"{limits.fmt(limits.MAX_PLAN_BYTES)} bytes"
            )
        data = text.encode("utf-8", "surrogatepass")
    elif isinstance(text, (bytes, bytearray, memoryview)):
        data = bytes(text)
        if len(data) > limits.MAX_PLAN_BYTES:
            raise NNCoreError(
                f"plan: {label}: {limits.fmt(len(data))} bytes is over the limit of "
                f"{limits.fmt(limits.MAX_PLAN_BYTES)} bytes"
            )
        data = data.removeprefix(b"\xef\xbb\xbf")
        text = limits.decode_text(data, "plan", label)
    else:
        raise NNCoreError(f"plan: {label}: expected JSON text, got {type(text).__name__}")
    _prescan(data, label)
    # Numbers are parsed natively (fast); a float beyond float64 becomes inf, which the validator
    # names by field. Only a text with a run of 21+ digits goes through the (slower) integer hook:
    # it keeps integers beyond 64 bits as markers (and int() of 4,300+ digits would raise).
    hooks: dict = {"parse_constant": _parse_constant}
    if _has_long_digits(data):
        hooks["parse_int"] = _parse_int
    try:
        return json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        raise NNCoreError(
            f"plan: {label} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:  # pragma: no cover - the prescan refuses deep nesting first
        raise NNCoreError(f"plan: {label}: lists and objects nested too deeply") from None


# --- parsing within limits -----------------------------------------------------------------------


class _BigInt(int):
    """An integer beyond 64 bits as read (its value is out of every range, 2**64 with the sign)."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, -(2**64) if text.startswith("-") else 2**64)
        obj.text = text
        return obj

    def __repr__(self) -> str:
        digits = len(self.text.lstrip("-"))
        return self.text if digits <= 24 else f"a {digits:,}-digit number"

    __str__ = __repr__


class _BigFloat(float):
    """NaN or Infinity as read (JSON has neither; kept to name its field)."""

    def __new__(cls, text: str, value: float):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 24 else self.text[:12] + "..." + self.text[-8:]

    __str__ = __repr__


_BIG = (_BigInt, _BigFloat)


def _parse_int(text: str) -> int:
    if len(text) > 20:  # beyond 64 bits for sure (and int() of 4,300+ digits raises)
        return _BigInt(text)
    v = int(text)
    if not -(2**63) <= v < 2**63:
        return _BigInt(text)
    return v


def _parse_constant(text: str) -> float:
    return _BigFloat(text, float(text))


_LONG_DIGITS = re.compile(rb"[0-9]{21}")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _has_long_digits(data: bytes) -> bool:
    """Whether ``data`` holds a run of 21+ digits (as ``_LONG_DIGITS.search``, 30x faster on big plans:
    every digit becomes ``0``, then a plain substring search)."""
    return b"0" * 21 in data.translate(_DIGITS_TO_ZERO)


_CHUNK = 1 << 22
_QUOTE, _BACKSLASH = 34, 92
_SPECIAL = np.zeros(256, bool)
_SPECIAL[[34, 92, 91, 93, 123, 125]] = True
_DELTA = np.zeros(256, np.int64)
_DELTA[[91, 123]] = 1
_DELTA[[93, 125]] = -1


def _prescan(data: bytes, label: str) -> None:
    """Refuse too deep nesting and too many items before parsing (no recursion, bounded memory).

    Works on the bytes, chunk by chunk, looking only at quotes, backslashes and brackets: a quote
    after an even run of backslashes opens or closes a string; brackets outside strings change
    the depth. Valid JSON is measured exactly; for anything else only the bounds matter (json.loads
    then says what is wrong).
    """
    max_items = 2 * limits.MAX_PLAN_VALUES + 1_000_000
    if data.count(b",") > max_items:
        raise NNCoreError(
            f"plan: {label}: holds more than {limits.fmt(max_items)} items, over the limit of "
            f"{limits.fmt(limits.MAX_PLAN_VALUES)} numbers"
        )
    if data.count(b"[") + data.count(b"{") <= limits.MAX_JSON_DEPTH:
        return
    depth, in_string, carry = 0, 0, 0  # carry: backslashes at the end of the previous chunk
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK]
        a = np.frombuffer(chunk, np.uint8)
        pos = np.flatnonzero(_SPECIAL[a])
        ch = a[pos]
        is_bs = ch == _BACKSLASH
        is_q = ch == _QUOTE
        if carry or is_bs.any():
            # the run of backslashes right before each special character
            joined = np.zeros(pos.size, bool)
            joined[1:] = is_bs[:-1] & (pos[:-1] == pos[1:] - 1)
            run_start = np.maximum.accumulate(np.where(is_bs & ~joined, pos, -1))
            before = np.zeros(pos.size, np.int64)
            before[1:] = np.where(joined[1:], pos[:-1] - run_start[:-1] + 1, 0)
            leading = len(chunk) - len(chunk.lstrip(b"\\"))
            before[pos == leading] += carry
            is_q &= before % 2 == 0
        inside = (in_string + np.cumsum(is_q) - is_q) % 2 == 1
        delta = np.where(inside, 0, _DELTA[ch])
        in_string = (in_string + int(is_q.sum())) % 2
        trailing = len(chunk) - len(chunk.rstrip(b"\\"))
        carry = carry + trailing if trailing == len(chunk) else trailing
        if delta.size:
            curve = depth + np.cumsum(delta)
            if int(curve.max()) > limits.MAX_JSON_DEPTH:
                raise NNCoreError(
                    f"plan: {label}: lists and objects nested more than {limits.MAX_JSON_DEPTH} deep (the limit)"
                )
            depth = int(curve[-1])


# --- validation ----------------------------------------------------------------------------------

F32 = limits.FLOAT32_MAX
_NUMBER_TYPES = frozenset((int, float))
_TYPE_NAMES = {bool: "true or false", str: "a string", list: "a list", dict: "an object", type(None): "null"}


def _fail(path: str, msg: str):
    raise NNCoreError(f"plan: {path}: {msg}")


def _show(v: Any) -> str:
    """A short, printable description of a value for a message."""
    if isinstance(v, _BIG):
        return repr(v)
    if isinstance(v, (bool, str, type(None), list, dict)):
        if isinstance(v, str):
            return limits.clean_name(repr(v) if len(v) <= 30 else repr(v[:30]) + "...", 40)
        if isinstance(v, bool):
            return "true" if v else "false"
        return _TYPE_NAMES[type(v)]
    return limits.clean_name(repr(v), 40)


def _is_int(v: Any) -> bool:
    return type(v) is int or (isinstance(v, int) and not isinstance(v, (bool, _BigInt)))


def _is_number(v: Any) -> bool:
    return type(v) in _NUMBER_TYPES or (isinstance(v, (int, float)) and not isinstance(v, (bool, *_BIG)))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _get(obj: Any, path: str, key: str) -> Any:
    if not isinstance(obj, dict):
        _fail(path or "plan", f"must be an object, got {_show(obj)}")
    if key not in obj:
        _fail(_join(path, key), "missing")
    return obj[key]


def _obj(parent: dict, path: str, key: str) -> dict:
    v = _get(parent, path, key)
    if not isinstance(v, dict):
        _fail(_join(path, key), f"must be an object, got {_show(v)}")
    return v


def _list(parent: dict, path: str, key: str) -> list:
    v = _get(parent, path, key)
    if not isinstance(v, list):
        _fail(_join(path, key), f"must be a list, got {_show(v)}")
    return v


def _bool(parent: dict, path: str, key: str) -> bool:
    v = _get(parent, path, key)
    if not isinstance(v, bool):
        _fail(_join(path, key), f"must be true or false, got {_show(v)}")
    return v


def _int(parent: dict, path: str, key: str, lo: int, hi: int) -> int:
    v = _get(parent, path, key)
    full = _join(path, key)
    if not _is_int(v):
        if isinstance(v, _BigInt):
            _fail(full, f"{v!r} is out of range ({lo:,}..{hi:,})")
        _fail(full, f"must be a whole number, got {_show(v)}")
    if not lo <= v <= hi:
        _fail(full, f"{v} is not in {lo:,}..{hi:,}")
    return int(v)


def _float(parent: dict, path: str, key: str, lo: float, hi: float, lo_open: bool = False) -> float:
    v = _get(parent, path, key)
    full = _join(path, key)
    if not _is_number(v):
        if isinstance(v, _BIG):
            _fail(full, f"must be a finite number within float32's range (|x| <= 3.4e38), got {v!r}")
        _fail(full, f"must be a finite number, got {_show(v)}")
    try:
        x = float(v)
    except OverflowError:
        x = math.inf
    if not (math.isfinite(x) and abs(x) <= F32):
        _fail(full, f"must be a finite number within float32's range (|x| <= 3.4e38), got {_show(v)}")
    if x < lo or x > hi or (lo_open and x == lo):
        _fail(full, f"{x:g} is not in {'(' if lo_open else '['}{lo:g}, {hi:g}]")
    return x


def _text(parent: dict, path: str, key: str, max_len: int) -> str:
    v = _get(parent, path, key)
    full = _join(path, key)
    if not isinstance(v, str):
        _fail(full, f"must be a string, got {_show(v)}")
    _check_text(v, full, max_len)
    return v


def _check_text(v: str, full: str, max_len: int) -> None:
    if len(v) > max_len:
        _fail(full, f"is {len(v):,} characters long, over the limit of {max_len}")
    for c in v:
        if not c.isprintable():
            kind = "a lone surrogate" if 0xD800 <= ord(c) <= 0xDFFF else "an unprintable character"
            _fail(full, f"holds {kind} (U+{ord(c):04X})")


class _Count:
    """Numbers seen so far (the plan size limit); also what is being validated: the plan's schema
    ``version`` and whether tables are replaced by their arrays (``arrays``: loading)."""

    def __init__(self, version: int = SCHEMA_VERSION, arrays: bool = False) -> None:
        self.n = 0
        self.version = version
        self.arrays = arrays

    def add(self, n: int, path: str) -> None:
        self.n += n
        if self.n > limits.MAX_PLAN_VALUES:
            _fail(path, f"the plan holds more than {limits.fmt(limits.MAX_PLAN_VALUES)} numbers (the limit)")


def _bad_number(items: list, path: str, what: str) -> None:
    """Name the first item of ``items`` that is not a finite float32 number (slow path)."""
    for i, x in enumerate(items):
        if not _is_number(x):
            if isinstance(x, _BIG):
                _fail(path, f"{what} {i + 1}: {x!r} is not finite or beyond float32's range (|x| <= 3.4e38)")
            _fail(path, f"{what} {i + 1} must be a number, got {_show(x)}")
        try:
            ok = math.isfinite(x) and abs(float(x)) <= F32
        except OverflowError:
            ok = False
        if not ok:
            _fail(path, f"{what} {i + 1}: {_show(x)} is not finite or beyond float32's range (|x| <= 3.4e38)")


def _floats(v: Any, path: str, n: int | None, count: _Count, lo: float = -F32, hi: float = F32) -> list:
    """A flat list of ``n`` finite numbers within [lo, hi] (no numpy: these lists are short)."""
    if not isinstance(v, list):
        _fail(path, f"must be a list of numbers, got {_show(v)}")
    if n is not None and len(v) != n:
        _fail(path, f"has {len(v)} numbers, expected {n}")
    count.add(len(v), path)
    if not set(map(type, v)) <= _NUMBER_TYPES:
        for i, x in enumerate(v):
            if isinstance(x, list):
                _fail(path, f"must be a flat (1-D) list of numbers; entry {i + 1} is a list")
        _bad_number(v, path, "entry")
    try:
        finite = all(map(math.isfinite, v))
    except OverflowError:  # an int beyond float (only through the Python API)
        finite = False
    if not finite:
        _bad_number(v, path, "entry")
    if v and (min(v) < lo or max(v) > hi):
        i = next(i for i, x in enumerate(v) if x < lo or x > hi)
        _fail(path, f"entry {i + 1}: {_show(v[i])} is not in [{lo:g}, {hi:g}]")
    return v


def _rows(v: Any, path: str, k: int | None, n: int, count: _Count, lo: float = -F32, hi: float = F32) -> np.ndarray:
    """``k`` rows of ``n`` finite numbers within [lo, hi], as a float array."""
    if not isinstance(v, list):
        _fail(path, f"must be a list of rows of numbers, got {_show(v)}")
    if k is not None and len(v) != k:
        _fail(path, f"has {len(v)} rows, expected {k}")
    count.add(len(v) * n, path)
    for r, row in enumerate(v):
        if type(row) is not list:
            _fail(path, f"row {r + 1} must be a list of {n} numbers (2-D), got {_show(row)}")
        if len(row) != n:
            _fail(path, f"row {r + 1} has {len(row)} numbers, expected {n}")
    if not set(map(type, chain.from_iterable(v))) <= _NUMBER_TYPES:
        for r, row in enumerate(v):
            if not set(map(type, row)) <= _NUMBER_TYPES:
                _bad_number(row, f"{path}", f"row {r + 1} entry")
    try:
        arr = np.array(v, dtype=np.float64).reshape(len(v), n)
    except (OverflowError, ValueError, TypeError):
        arr = None
    if arr is None or not np.isfinite(arr).all() or (arr.size and np.abs(arr).max() > F32):
        for r, row in enumerate(v):
            _bad_number(row, path, f"row {r + 1} entry")
        _fail(path, "holds a number that is not finite")  # pragma: no cover
    if arr.size and (arr.min() < lo or arr.max() > hi):
        r, c = np.argwhere((arr < lo) | (arr > hi))[0]
        _fail(path, f"row {r + 1} entry {c + 1}: {arr[r, c]:g} is not in [{lo:g}, {hi:g}]")
    return arr


def _check_values(arr: np.ndarray, path: str, lo: float, hi: float) -> None:
    """Every entry of a 2-D array finite and within [lo, hi] (vectorised; names the first bad one)."""
    if not arr.size:
        return
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(arr) | (np.abs(arr) > F32)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        _fail(
            path,
            f"row {r + 1} entry {c + 1}: {float(arr[r, c])!r} is not finite or beyond float32's range (|x| <= 3.4e38)",
        )
    if arr.min() < lo or arr.max() > hi:
        r, c = np.argwhere((arr < lo) | (arr > hi))[0]
        _fail(path, f"row {r + 1} entry {c + 1}: {float(arr[r, c]):g} is not in [{lo:g}, {hi:g}]")


def _decode(v: dict, path: str, k: int, n: int, count: _Count) -> np.ndarray:
    """An encoded table (schema 2): its dtype, shape and base64 length are checked against the
    expected layout and the plan's size limit before anything is decoded."""
    dtype = _get(v, path, "dtype")
    if dtype != ARRAY_DTYPE or type(dtype) is not str:
        _fail(f"{path}.dtype", f'must be "{ARRAY_DTYPE}", got {_show(dtype)}')
    shape = _get(v, path, "shape")
    if type(shape) is not list or len(shape) != 2 or not all(_is_int(x) and not isinstance(x, bool) for x in shape):
        _fail(f"{path}.shape", f"must be a list of two whole numbers [rows, columns], got {_show(shape)}")
    if shape != [k, n]:
        _fail(f"{path}.shape", f"is {shape[0]} x {shape[1]}, expected {k} x {n}")
    count.add(k * n, path)
    text = _get(v, path, "base64")
    if not isinstance(text, str):
        _fail(f"{path}.base64", f"must be a string, got {_show(text)}")
    n_bytes = 4 * k * n
    want = 4 * -(-n_bytes // 3)
    if len(text) != want:
        _fail(
            f"{path}.base64",
            f"has {len(text):,} characters, expected {want:,} (the base64 of {k} x {n} float32 numbers, "
            f"{n_bytes:,} bytes)",
        )
    try:
        raw = binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except UnicodeEncodeError:
        _fail(f"{path}.base64", "is not valid base64 (a character outside A-Z a-z 0-9 + / =)")
    except binascii.Error as exc:
        _fail(f"{path}.base64", f"is not valid base64 ({limits.clean_name(str(exc), 80)})")
    if len(raw) != n_bytes:
        _fail(f"{path}.base64", f"decodes to {len(raw):,} bytes, expected {n_bytes:,} ({k} x {n} float32 numbers)")
    return np.frombuffer(raw, "<f4").reshape(k, n)


def _table(
    parent: Any, key: Any, path: str, k: int, n: int, count: _Count, lo: float = -F32, hi: float = F32
) -> np.ndarray:
    """A table of ``k`` rows of ``n`` finite numbers within [lo, hi]: rows of numbers (both
    versions), an encoded array (version 2) or, in memory, a 2-D numpy array. Returns it as a
    float64 array, which replaces it in ``parent`` when loading (``count.arrays``)."""
    v = parent[key]
    if isinstance(v, dict):
        if count.version < 2:
            _fail(path, "an encoded array needs schema_version 2 (version 1 holds rows of numbers)")
        f32 = _decode(v, path, k, n, count)
        _check_values(f32, path, lo, hi)
        arr = f32.astype(np.float64)
    elif isinstance(v, np.ndarray):
        if v.ndim != 2 or v.shape != (k, n):
            got = " x ".join(map(str, v.shape)) if v.ndim else "a scalar"
            _fail(path, f"has shape {got}, expected {k} x {n}")
        if v.dtype.kind not in "fiu":
            _fail(path, f"must hold numbers, got an array of {v.dtype}")
        count.add(k * n, path)
        arr = v if v.dtype == np.float64 else v.astype(np.float64)
        _check_values(arr, path, lo, hi)
    else:
        arr = _rows(v, path, k, n, count, lo, hi)
    if count.arrays:
        parent[key] = arr
    return arr


def _ints(
    v: Any, path: str, lo: int, hi: int, count: _Count, length: int | None = None, max_len: int | None = None
) -> list:
    """A list of whole numbers within lo..hi (range-checked before any conversion)."""
    if not isinstance(v, list):
        _fail(path, f"must be a list of whole numbers, got {_show(v)}")
    if max_len is not None and len(v) > max_len:
        _fail(path, f"has {len(v):,} entries, over the limit of {max_len:,}")
    if length is not None and len(v) != length:
        _fail(path, f"has {len(v)} entries, expected {length}")
    count.add(len(v), path)
    if not set(map(type, v)) <= {int}:
        for i, x in enumerate(v):
            if not _is_int(x):
                if isinstance(x, _BigInt):
                    _fail(path, f"entry {i + 1}: {x!r} is out of range ({lo:,}..{hi:,})")
                _fail(path, f"entry {i + 1} must be a whole number, got {_show(x)}")
    if v and (min(v) < lo or max(v) > hi):
        i = next(i for i, x in enumerate(v) if not lo <= x <= hi)
        _fail(path, f"entry {i + 1}: {v[i]} is not in {lo:,}..{hi:,}")
    return v


def _increasing(v: list, path: str, what: str = "frames") -> None:
    if any(b <= a for a, b in zip(v, v[1:])):
        i = next(i for i, (a, b) in enumerate(zip(v, v[1:])) if b <= a)
        _fail(path, f"{what} must be strictly increasing (entry {i + 2}: {v[i + 1]} after {v[i]})")


def _frames(v: Any, path: str, lo: int, hi: int, count: _Count) -> list:
    if not isinstance(v, list) or not v:
        _fail(path, "must be a non-empty list of frames" if isinstance(v, list) else f"must be a list, got {_show(v)}")
    f = _ints(v, path, -(2**63), 2**63 - 1, count, max_len=limits.MAX_KEYS_PER_TRACK)
    if min(f) < lo or max(f) > hi:
        _fail(path, f"frames must lie in {lo}..{hi}, got {min(f)}..{max(f)}")
    _increasing(f, path)
    return f


def _expect(v: list, want: list, path: str, what: str) -> None:
    if v != want:
        i = next((i for i, (a, b) in enumerate(zip(v, want)) if a != b), min(len(v), len(want)))
        got = v[i] if i < len(v) else "nothing"
        exp = want[i] if i < len(want) else "nothing"
        _fail(path, f"must be {what}: entry {i + 1} is {got}, expected {exp}")


def _track(
    parent: dict, path: str, key: str, n_items: int | None, end: int, count: _Count, lo: float = -F32, hi: float = F32
) -> list:
    """A keyframe track; ``n_items`` None: one value per key shared by the group. Returns its frames."""
    tr = _obj(parent, path, key)
    p = f"{path}.{key}"
    frames = _frames(_get(tr, p, "frames"), f"{p}.frames", 1, end, count)
    if frames[-1] != end:
        _fail(f"{p}.frames", f"the last key must be at frame_end {end}, got {frames[-1]}")
    interp = _list(tr, p, "interpolation")
    if len(interp) != len(frames):
        _fail(f"{p}.interpolation", f"has {len(interp)} entries, expected {len(frames)}")
    if not all(type(x) is str for x in interp) or not set(interp) <= set(INTERPOLATIONS):
        bad = next(x for x in interp if not (type(x) is str and x in INTERPOLATIONS))
        _fail(f"{p}.interpolation", f"{_show(bad)} is not one of {', '.join(INTERPOLATIONS)}")
    values = _get(tr, p, "values")
    if n_items is None:
        if isinstance(values, list) and any(isinstance(x, list) for x in values):
            _fail(f"{p}.values", "expected 1-D numbers (one per key, shared by the group), got rows")
        _floats(values, f"{p}.values", len(frames), count, lo, hi)
    else:
        _table(tr, "values", f"{p}.values", len(frames), n_items, count, lo, hi)
    return frames


def _layout(F: int, B: int, H: int, Sf: int, S: int, N: int, E: int = 0):
    """The documented timeline: (step starts, after start, query start, frame_end); ``E`` extra
    frames hold the new situation at the end (timing.end_frames, from fitting to a duration)."""
    length = F + B + H + 1
    starts = [Sf + 1 + i * length for i in range(N)]
    after = Sf + 1 + N * length
    query = after + Sf
    return starts, after, query, query + F + Sf - 1 + E


def validate(plan: Any) -> None:
    """Raise :class:`NNCoreError` naming the first field that is missing, of the wrong type, out of
    range, out of order or not numbered as documented (docs/plan-format.md)."""
    validate_json(plan)


def validate_json(plan: Any, arrays: bool = False) -> dict:
    """:func:`validate`, returning the plan; ``arrays``: replace every table by its float64 array
    (what :func:`loads` returns), else the plan is not changed."""
    if not isinstance(plan, dict):
        raise NNCoreError("plan: the file must hold a JSON object")
    version = _get(plan, "", "schema_version")
    if isinstance(version, bool) or not _is_int(version):
        _fail("schema_version", f"must be a whole number, got {_show(version)}")
    if version not in READS:
        _fail(
            "schema_version", f"{_show(version)} is not supported (this version reads {' and '.join(map(str, READS))})"
        )
    count = _Count(int(version), arrays)
    _text(plan, "", "generator", limits.MAX_NAME)
    _text(plan, "", "preset", limits.MAX_NAME)

    # network
    net = _obj(plan, "", "network")
    layers = _ints(
        _get(net, "network", "layers"), "network.layers", 1, MAX_LAYER_SIZE, count, max_len=limits.MAX_LAYERS
    )
    if len(layers) < 2:
        _fail("network.layers", "needs at least two layers, each of size 1 or more")
    S = len(layers) - 1
    n0, n_out, n_neurons = layers[0], layers[-1], sum(layers)
    acts = _list(net, "network", "activations")
    if (
        len(acts) != S
        or not all(type(a) is str and a in ACTIVATIONS for a in acts[:-1])
        or not (type(acts[-1]) is str and acts[-1] in ACTIVATIONS + OUTPUT_ACTIVATIONS)
    ):
        _fail("network.activations", f"must list {S} of {', '.join(ACTIVATIONS)} (softmax: the output layer only)")
    if len(set(acts[:-1])) > 1:
        _fail("network.activations", "hidden layers must share one activation")
    if acts[-1] not in OUTPUT_ACTIVATIONS:
        _fail("network.activations", f"the output layer's must be {' or '.join(OUTPUT_ACTIVATIONS)}, got {acts[-1]}")
    bias = _bool(net, "network", "bias")

    # training
    tr = _obj(plan, "", "training")
    _text(tr, "training", "dataset", limits.MAX_FILE_NAME)
    examples = _int(tr, "training", "examples", 1, limits.MAX_EXAMPLES)
    _float(tr, "training", "learning_rate", 0.0, F32, lo_open=True)
    _int(tr, "training", "batch", 0, limits.MAX_EXAMPLES)
    cycles = _int(tr, "training", "cycles", 1, MAX_CYCLES)
    _int(tr, "training", "seed", 0, 2**32 - 1)
    shown = _ints(_get(tr, "training", "shown_cycles"), "training.shown_cycles", 1, cycles, count, max_len=MAX_SHOWN)
    if not shown:
        _fail("training.shown_cycles", "is empty")
    _increasing(shown, "training.shown_cycles", "shown cycles")
    shown_ex = _ints(
        _get(tr, "training", "shown_examples"), "training.shown_examples", 0, examples - 1, count, max_len=examples
    )
    if not shown_ex:
        _fail("training.shown_examples", "is empty")
    _increasing(shown_ex, "training.shown_examples", "shown examples")
    _float(tr, "training", "final_mean_error", 0.0, F32)
    for key in ("final_outputs", "targets"):
        _get(tr, "training", key)
        _table(tr, key, f"training.{key}", examples, n_out, count)
    if "header" in tr:
        header = _list(tr, "training", "header")
        if len(header) != n0 + n_out:
            _fail("training.header", f"has {len(header)} names, expected {n0 + n_out}")
        for i, h in enumerate(header):
            if not isinstance(h, str):
                _fail(f"training.header[{i}]", f"must be a string, got {_show(h)}")
            _check_text(h, f"training.header[{i}]", limits.MAX_NAME)
    softmax = acts[-1] == "softmax"
    for key in ("final_accuracy", "test_accuracy"):  # optional: softmax networks only
        if key in tr:
            if not softmax:
                _fail(f"training.{key}", "only a softmax network has an accuracy")
            _float(tr, "training", key, 0.0, 1.0)
    if ("test_accuracy" in tr) != ("test_examples" in tr):
        _fail("training", "test_accuracy and test_examples go together")
    if "test_examples" in tr:
        _int(tr, "training", "test_examples", 1, limits.MAX_EXAMPLES)
    if "class_names" in tr:
        names = _list(tr, "training", "class_names")
        if len(names) != n_out:
            _fail("training.class_names", f"has {len(names)} names, expected {n_out} (one per output)")
        for i, h in enumerate(names):
            if not isinstance(h, str):
                _fail(f"training.class_names[{i}]", f"must be a string, got {_show(h)}")
            _check_text(h, f"training.class_names[{i}]", limits.MAX_NAME)
    N = len(shown) * len(shown_ex)
    if N > limits.MAX_STEPS:
        _fail(
            "training",
            f"{len(shown)} shown cycles x {len(shown_ex)} shown examples = {N:,} steps, "
            f"over the limit of {limits.MAX_STEPS:,}",
        )

    # timing
    tm = _obj(plan, "", "timing")
    fps = _int(tm, "timing", "fps", 1, 240)
    secs = {k: _float(tm, "timing", f"{k}_seconds", 0.0, 60.0) for k in ("forward", "backward", "hold", "state")}
    want = {
        "forward": max(int(round(secs["forward"] * fps)), S),
        "backward": max(int(round(secs["backward"] * fps)), S),
        "hold": int(round(secs["hold"] * fps)),
        "state": max(int(round(secs["state"] * fps)), 1),
    }
    got = {}
    for k, w in want.items():
        got[k] = _int(tm, "timing", f"{k}_frames", 0, limits.MAX_FRAME)
        if got[k] != w:
            _fail(f"timing.{k}_frames", f"{got[k]} does not match {k}_seconds x fps (expected {w})")
    F, B, H, Sf = want["forward"], want["backward"], want["hold"], want["state"]
    start = _int(tm, "timing", "frame_start", -(2**63), 2**63 - 1)
    if start != 1:
        _fail("timing.frame_start", f"must be 1, got {start}")
    end = _int(tm, "timing", "frame_end", 1, limits.MAX_FRAME)
    E = _int(tm, "timing", "end_frames", 0, limits.MAX_FRAME) if "end_frames" in tm else 0  # optional
    starts, after_start, query_start, want_end = _layout(F, B, H, Sf, S, N, E)
    if end != want_end:
        _fail("timing.frame_end", f"{end} does not match the timeline's layout (expected {want_end:,})")

    # query and weights
    q = _obj(plan, "", "query")
    _floats(_get(q, "query", "inputs"), "query.inputs", n0, count)
    _floats(_get(q, "query", "outputs"), "query.outputs", n_out, count)
    if "target" in q:  # optional: the query is a held-out example with a known answer
        _floats(_get(q, "query", "target"), "query.target", n_out, count)
    w = _obj(plan, "", "weights")
    for key in ("before", "after"):
        mats = _list(w, "weights", key)
        if len(mats) != S:
            _fail(f"weights.{key}", f"has {len(mats)} matrices, expected {S}")
        for k in range(S):
            _table(mats, k, f"weights.{key}[{k}]", layers[k + 1], layers[k], count, -MAX_WEIGHT, MAX_WEIGHT)

    # loss curve
    loss = _obj(plan, "", "loss")
    lc = _ints(_get(loss, "loss", "cycles"), "loss.cycles", 1, cycles, count, max_len=MAX_LOSS_POINTS)
    if not lc or lc[0] != 1 or lc[-1] != cycles:
        _fail("loss.cycles", f"must run from 1 to training.cycles ({cycles})")
    _increasing(lc, "loss.cycles", "cycles")
    _floats(_get(loss, "loss", "mean_error"), "loss.mean_error", len(lc), count, lo=0.0)
    if "accuracy" in loss:  # optional: softmax networks only
        if not softmax:
            _fail("loss.accuracy", "only a softmax network has an accuracy")
        _floats(_get(loss, "loss", "accuracy"), "loss.accuracy", len(lc), count, lo=0.0, hi=1.0)
    lf = _ints(_get(loss, "loss", "frames"), "loss.frames", 1, end, count, length=len(lc))
    if any(b < a for a, b in zip(lf, lf[1:])):
        _fail("loss.frames", "frames must not decrease")

    # states
    states = _obj(plan, "", "states")
    want_states = {
        "before": (1, Sf),
        "after": (after_start, after_start + Sf - 1),
        "query": (query_start, end),
    }
    for name, (a, b) in want_states.items():
        st = _obj(states, "states", name)
        got_a = _int(st, f"states.{name}", "frame_start", 1, end)
        got_b = _int(st, f"states.{name}", "frame_end", 1, end)
        if (got_a, got_b) != (a, b):
            _fail(f"states.{name}", f"frames {got_a}..{got_b} do not match the timeline's layout (expected {a}..{b})")
    qf = _ints(
        _get(states["query"], "states.query", "forward_frames"),
        "states.query.forward_frames",
        1,
        end,
        count,
        length=S + 1,
    )
    _expect(
        qf,
        [query_start + int(round(F * k / S)) for k in range(S + 1)],
        "states.query.forward_frames",
        "the documented segment boundaries",
    )

    # steps
    steps = _list(plan, "", "steps")
    if len(steps) != N:
        _fail("steps", f"has {len(steps):,} steps, expected {N:,} (shown cycles x shown examples)")
    E = len(shown_ex)
    for i, st in enumerate(steps):
        p = f"steps[{i}]"
        if not isinstance(st, dict):
            _fail(p, f"must be an object, got {_show(st)}")
        c = _int(st, p, "cycle", 1, cycles)
        if c != shown[i // E]:
            _fail(f"{p}.cycle", f"{c} does not follow training.shown_cycles (expected {shown[i // E]})")
        ex = _int(st, p, "example", 0, examples - 1)
        if ex != shown_ex[i % E]:
            _fail(f"{p}.example", f"{ex} does not follow training.shown_examples (expected {shown_ex[i % E]})")
        s = starts[i]
        a = _int(st, p, "frame_start", 1, end)
        b = _int(st, p, "frame_end", 1, end)
        if (a, b) != (s, s + F + B + H):
            _fail(p, f"frames {a}..{b} do not match the timeline's layout (expected {s}..{s + F + B + H})")
        for key, first in (("forward_frames", s), ("backward_frames", s + F)):
            ff = _ints(_get(st, p, key), f"{p}.{key}", a, b, count, length=S + 1)
            _increasing(ff, f"{p}.{key}")
            span = F if key == "forward_frames" else B
            _expect(
                ff,
                [first + int(round(span * k / S)) for k in range(S + 1)],
                f"{p}.{key}",
                "the documented segment boundaries",
            )
        _floats(_get(st, p, "inputs"), f"{p}.inputs", n0, count)
        for key in ("target", "output", "error"):
            _floats(_get(st, p, key), f"{p}.{key}", n_out, count)
        for key, sizes in (("activations", layers), ("deltas", layers[1:])):
            rows = _list(st, p, key)
            if len(rows) != len(sizes):
                _fail(f"{p}.{key}", f"has {len(rows)} layers, expected {len(sizes)}")
            for k, (row, n) in enumerate(zip(rows, sizes)):
                _floats(row, f"{p}.{key}[{k}]", n, count)

    # neurons
    neurons = _obj(plan, "", "neurons")
    n_count = _int(neurons, "neurons", "count", 1, 2**63 - 1)
    if n_count != n_neurons:
        _fail("neurons.count", f"{n_count} does not match the layers' total {n_neurons}")
    nl = _ints(_get(neurons, "neurons", "layer"), "neurons.layer", 0, S, count, length=n_neurons)
    _expect(nl, [k for k, n in enumerate(layers) for _ in range(n)], "neurons.layer", "each neuron's layer, in order")
    ni = _ints(_get(neurons, "neurons", "index"), "neurons.index", 0, MAX_LAYER_SIZE - 1, count, length=n_neurons)
    _expect(ni, [i for n in layers for i in range(n)], "neurons.index", "each neuron's index within its layer")

    # tracks
    tracks = _obj(plan, "", "tracks")
    _track(tracks, "tracks", "neuron_activity", n_neurons, end, count)
    groups = _list(tracks, "tracks", "synapse_layers")
    if len(groups) != S:
        _fail("tracks.synapse_layers", f"has {len(groups)} groups, expected {S}")
    for k, g in enumerate(groups):
        p = f"tracks.synapse_layers[{k}]"
        if not isinstance(g, dict):
            _fail(p, f"must be an object, got {_show(g)}")
        if _int(g, p, "layer", 0, S - 1) != k:
            _fail(f"{p}.layer", f"must be {k}")
        n_syn = layers[k] * layers[k + 1]
        src = _ints(_get(g, p, "source"), f"{p}.source", 0, layers[k] - 1, count, length=n_syn)
        dst = _ints(_get(g, p, "target"), f"{p}.target", 0, layers[k + 1] - 1, count, length=n_syn)
        idx = np.arange(n_syn)
        if not np.array_equal(np.asarray(src, np.int64), idx % layers[k]):
            _expect(src, (idx % layers[k]).tolist(), f"{p}.source", "the documented numbering p % n_k")
        if not np.array_equal(np.asarray(dst, np.int64), idx // layers[k]):
            _expect(dst, (idx // layers[k]).tolist(), f"{p}.target", "the documented numbering p // n_k")
        _track(g, p, "weight", n_syn, end, count, -MAX_WEIGHT, MAX_WEIGHT)
        _track(g, p, "signal", n_syn, end, count)
        _track(g, p, "error", n_syn, end, count, 0.0, 1.0)
        for name in ("forward", "backward"):
            _track(g, p, name, None, end, count, 0.0, 1.0)
        if bias:
            _track(g, p, "bias", layers[k + 1], end, count, -MAX_WEIGHT, MAX_WEIGHT)

    text = _obj(tracks, "tracks", "text")
    tp = "tracks.text"
    K = N + 3
    tf = _ints(_get(text, tp, "frames"), f"{tp}.frames", 1, end, count, length=K)
    _increasing(tf, f"{tp}.frames")
    _expect(tf, [1, *starts, after_start, query_start], f"{tp}.frames", "the frames of before, each step, after, query")
    phase = _ints(_get(text, tp, "phase"), f"{tp}.phase", 0, len(PHASES) - 1, count, length=K)
    _expect(phase, [0] + [1] * N + [2, 3], f"{tp}.phase", f"indices into {', '.join(PHASES)}")
    step_cycles = [st["cycle"] for st in steps]
    cyc = _ints(_get(text, tp, "cycle"), f"{tp}.cycle", 0, cycles, count, length=K)
    _expect(cyc, [0, *step_cycles, cycles, cycles], f"{tp}.cycle", "0, each step's cycle, then training.cycles")
    exs = _ints(_get(text, tp, "example"), f"{tp}.example", -1, examples - 1, count, length=K)
    _expect(exs, [-1, *[st["example"] for st in steps], -1, -1], f"{tp}.example", "-1, each step's example, -1, -1")
    for key, n in (("inputs", n0), ("target", n_out), ("output", n_out)):
        _get(text, tp, key)
        _table(text, key, f"{tp}.{key}", K, n, count)
    for key in ("error", "mean_error"):
        _floats(_get(text, tp, key), f"{tp}.{key}", K, count, lo=0.0)
    if "accuracy" in text:  # optional: softmax networks only
        if not softmax:
            _fail(f"{tp}.accuracy", "only a softmax network has an accuracy")
        _floats(_get(text, tp, "accuracy"), f"{tp}.accuracy", K, count, lo=0.0, hi=1.0)
    return plan
