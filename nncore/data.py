"""Training data: the article's seven examples, logic gates, handwritten digits and the user's CSV files.

The digits are the UCI "Optical Recognition of Handwritten Digits" 8x8 set (E. Alpaydin and
C. Kaynak, UCI Machine Learning Repository, CC BY 4.0): 1,797 images of 64 pixels with 17 grey
levels 0..16, shipped as ``data/digits.csv.gz`` (a copy of scikit-learn's file: 64 pixel columns,
then the digit).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import limits
from .errors import NNCoreError

# The article's training set: target = XOR of the first two columns; the third is noise.
ARTICLE_X = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]]
ARTICLE_T = [[0], [1], [1], [1], [1], [0], [0]]

_GATE_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
GATES = {
    "xor": [[0], [1], [1], [0]],
    "and": [[0], [0], [0], [1]],
    "or": [[0], [1], [1], [1]],
}

DATASETS = ("article", "xor", "and", "or", "digits")

DIGITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "digits.csv.gz")
#: The digits' held-out test split: this fraction of the images, drawn with this seed.
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


#: Inputs (and targets) beyond this magnitude are refused: they would overflow the arithmetic.
MAX_INPUT = 1e6


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (examples x inputs) and targets ``T`` (examples x outputs); ``header``: the CSV's
    column names, if it had a header row."""

    name: str
    X: np.ndarray
    T: np.ndarray
    header: tuple[str, ...] = ()
    #: Names of the output classes (one per output) for class data; () otherwise.
    class_names: tuple[str, ...] = ()
    #: A held-out test set (not trained on), or None.
    test_X: np.ndarray | None = None
    test_T: np.ndarray | None = None

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.T.shape[1]

    def __len__(self) -> int:
        return self.X.shape[0]


def builtin(name: str) -> Dataset:
    """One of :data:`DATASETS`."""
    if name == "article":
        return Dataset("article", np.array(ARTICLE_X, float), np.array(ARTICLE_T, float))
    if name in GATES:
        return Dataset(name, np.array(_GATE_X, float), np.array(GATES[name], float))
    if name == "digits":
        return digits()
    raise NNCoreError(f"dataset: {name!r} is not one of {', '.join(DATASETS)}")


@lru_cache(maxsize=1)
def _digits_array() -> np.ndarray:
    with gzip.open(DIGITS_FILE, "rt", encoding="ascii") as f:
        arr = np.loadtxt(f, delimiter=",", dtype=np.float64)
    arr.flags.writeable = False  # shared by every call: digits() indexes copies out of it
    return arr


def digits() -> Dataset:
    """The 8x8 digits: inputs pixel / 16 (0..1), one-hot targets of the 10 classes; a fixed, seeded
    20 % held out as the test set (``test_X``, ``test_T``), the rest (shuffled alike) to train on."""
    arr = _digits_array()
    order = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(arr))
    n_test = int(round(DIGITS_TEST_FRACTION * len(arr)))
    X = arr[order, :64] / 16.0
    T = np.eye(10)[arr[order, 64].astype(int)]
    names = tuple(str(i) for i in range(10))
    return Dataset("digits", X[n_test:], T[n_test:], (), names, X[:n_test], T[:n_test])


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _bad_cell(label: str, line: int, row: list[str], nums: list) -> None:
    for col, (cell, v) in enumerate(zip(row, nums)):
        where = f"csv: {label} line {line} column {col + 1}: {limits.clean_name(cell.strip(), 40)!r}"
        if v is None:
            raise NNCoreError(f"{where} is not a number")
        if not math.isfinite(v):
            raise NNCoreError(f"{where} is not a finite number")
        if abs(v) > MAX_INPUT:
            raise NNCoreError(f"{where} is too large: values must lie within +-{MAX_INPUT:,.0f}")


def load_csv(path: str, n_inputs: int, n_outputs: int, target_column: str = "", classes: int = 0) -> Dataset:
    """Read a CSV of numbers: ``n_inputs`` input columns then ``n_outputs`` target columns.

    A first row without any number is taken as a header (its names are kept); a first row that
    mixes numbers and other text is refused as a typo. Limits (nncore.limits): a regular file of at
    most MAX_CSV_BYTES, MAX_CSV_ROWS rows, MAX_CSV_COLUMNS columns, MAX_CSV_CELLS cells, every
    value finite and within +-MAX_INPUT. Every problem gets its own one-line message naming the
    file and, where it applies, the line and column.

    Class targets: with ``target_column`` (a header name) or ``classes`` (= ``n_outputs``; the last
    column) one column holds class indices 0..n_outputs-1, the others are the inputs; the targets
    become one-hot rows and the class names ``"0"``..``"N-1"`` (the header, if any, keeps the input
    columns' names followed by the class names).
    """
    if target_column or classes:
        if classes and classes != n_outputs:
            raise NNCoreError(f"classes: {classes} classes but the network's output layer has {n_outputs} neurons")
        n_classes, n_outputs = n_outputs, 1
    data = limits.read_file(path, limits.MAX_CSV_BYTES, "csv")
    label = limits.clean_name(os.path.basename(os.fspath(path)) or os.fspath(path), limits.MAX_FILE_NAME)
    text = limits.decode_text(data, "csv", label)
    if "\0" in text:
        raise NNCoreError(f"csv: {label} holds a NUL character: not a text file")
    width = n_inputs + n_outputs
    header: tuple[str, ...] = ()
    values: list[list[float]] = []
    lines: list[int] = []
    first_width = 0
    cells = 0
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            line = i + 1
            if not any(c.strip() for c in row):
                continue  # blank line
            if len(row) > limits.MAX_CSV_COLUMNS:
                raise NNCoreError(
                    f"csv: {label} line {line}: {len(row):,} columns, over the limit of {limits.MAX_CSV_COLUMNS:,}"
                )
            nums = [_number(c) for c in row]
            if not values and not header and any(v is None for v in nums):
                if any(v is not None for v in nums):
                    col = next(k for k, v in enumerate(nums) if v is None)
                    cell = limits.clean_name(row[col].strip(), 40)
                    raise NNCoreError(
                        f"csv: {label} line {line} column {col + 1}: {cell!r} is not a number, but other cells "
                        f"of this first row are: a typo? (a header row has no numbers)"
                    )
                header = tuple(limits.clean_name(c.strip(), limits.MAX_NAME) for c in row)
                continue
            if not values:
                first_width = len(row)
                if header and len(header) != first_width:
                    raise NNCoreError(
                        f"csv: {label} line {line}: {first_width} columns where the header has {len(header)}"
                    )
            if len(row) != first_width:
                raise NNCoreError(
                    f"csv: {label} line {line}: ragged row, {len(row)} columns "
                    f"where the first data row has {first_width}"
                )
            if len(values) >= limits.MAX_CSV_ROWS:
                raise NNCoreError(f"csv: {label}: more than {limits.MAX_CSV_ROWS:,} data rows, over the limit")
            cells += len(row)
            if cells > limits.MAX_CSV_CELLS:
                raise NNCoreError(
                    f"csv: {label}: more than {limits.MAX_CSV_CELLS:,} cells (rows x columns), over the limit"
                )
            if None in nums or not all(map(math.isfinite, nums)) or max(map(abs, nums)) > MAX_INPUT:
                _bad_cell(label, line, row, nums)
            values.append(nums)
            lines.append(line)
    except csv.Error as exc:
        raise NNCoreError(f"csv: {label}: {exc}") from None
    if not values:
        if header:
            raise NNCoreError(f"csv: {label} has a header but no data rows")
        raise NNCoreError(f"csv: {label} is empty")
    width = n_inputs + n_outputs
    if first_width != width:
        what = "1 class column" if target_column or classes else f"{n_outputs} targets"
        raise NNCoreError(
            f"csv: {label} has {first_width} columns but the network needs {width} ({n_inputs} inputs + {what})"
        )
    arr = np.array(values, dtype=np.float64)
    if target_column or classes:
        return _classes(label, arr, header, lines, target_column, n_classes)
    return Dataset(label, arr[:, :n_inputs], arr[:, n_inputs:], header)


def _classes(label: str, arr: np.ndarray, header: tuple, lines: list, column: str, n: int) -> Dataset:
    """Inputs and one-hot targets from the class column (``column`` by header name, else the last)."""
    if column:
        shown = limits.clean_name(column, 40)
        if not header:
            raise NNCoreError(f"target column: {label} has no header row to find {shown!r} in")
        if column not in header:
            names = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
            raise NNCoreError(f"target column: {label} has no column {shown!r} (its header: {names})")
        col = header.index(column)
    else:
        col = arr.shape[1] - 1
    cls = arr[:, col]
    bad = (cls != np.round(cls)) | (cls < 0) | (cls >= n)
    if bad.any():
        r = int(np.argmax(bad))
        raise NNCoreError(
            f"csv: {label} line {lines[r]} column {col + 1}: class {cls[r]:g} is not a whole number 0..{n - 1}"
        )
    names = tuple(str(i) for i in range(n))
    if header:
        header = tuple(h for i, h in enumerate(header) if i != col) + names
    X = np.delete(arr, col, axis=1)
    return Dataset(label, X, np.eye(n)[cls.astype(int)], header, names)


def check_fits(ds: Dataset, layers: tuple[int, ...], output_activation: str) -> None:
    """The data's widths match the network and the targets lie in the output's range."""
    from .activations import OUTPUT_RANGE

    if ds.n_inputs != layers[0]:
        raise NNCoreError(f"data: {ds.name} has {ds.n_inputs} inputs but the network's input layer has {layers[0]}")
    if ds.n_outputs != layers[-1]:
        raise NNCoreError(
            f"data: {ds.name} has {ds.n_outputs} target(s) but the network's output layer has {layers[-1]}"
        )
    lo, hi = OUTPUT_RANGE[output_activation]
    bad = (ds.T < lo) | (ds.T > hi)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise NNCoreError(
            f"data: {ds.name} example {r + 1} has target {ds.T[r, c]:g}, outside the {output_activation} "
            f"output's range [{lo:g}, {hi:g}]"
        )
    if output_activation == "softmax":
        sums = ds.T.sum(axis=1)
        off = np.abs(sums - 1.0) > 1e-6
        if off.any():
            r = int(np.argmax(off))
            raise NNCoreError(
                f"data: {ds.name} example {r + 1} has targets summing to {sums[r]:g}; a softmax output needs "
                "one-hot targets (or a class column: --target-column NAME or --classes N)"
            )
