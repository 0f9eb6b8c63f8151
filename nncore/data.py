"""Training data: the article's seven examples, logic gates, and the user's CSV files."""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass

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

DATASETS = ("article", "xor", "and", "or")


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
    raise NNCoreError(f"dataset: {name!r} is not one of {', '.join(DATASETS)}")


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


def load_csv(path: str, n_inputs: int, n_outputs: int) -> Dataset:
    """Read a CSV of numbers: ``n_inputs`` input columns then ``n_outputs`` target columns.

    A first row without any number is taken as a header (its names are kept); a first row that
    mixes numbers and other text is refused as a typo. Limits (nncore.limits): a regular file of at
    most MAX_CSV_BYTES, MAX_CSV_ROWS rows, MAX_CSV_COLUMNS columns, MAX_CSV_CELLS cells, every
    value finite and within +-MAX_INPUT. Every problem gets its own one-line message naming the
    file and, where it applies, the line and column.
    """
    data = limits.read_file(path, limits.MAX_CSV_BYTES, "csv")
    label = limits.clean_name(os.path.basename(os.fspath(path)) or os.fspath(path), limits.MAX_FILE_NAME)
    text = limits.decode_text(data, "csv", label)
    if "\0" in text:
        raise NNCoreError(f"csv: {label} holds a NUL character: not a text file")
    width = n_inputs + n_outputs
    header: tuple[str, ...] = ()
    values: list[list[float]] = []
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
    except csv.Error as exc:
        raise NNCoreError(f"csv: {label}: {exc}") from None
    if not values:
        if header:
            raise NNCoreError(f"csv: {label} has a header but no data rows")
        raise NNCoreError(f"csv: {label} is empty")
    if first_width != width:
        raise NNCoreError(
            f"csv: {label} has {first_width} columns but the network needs {width} "
            f"({n_inputs} inputs + {n_outputs} targets)"
        )
    arr = np.array(values, dtype=np.float64)
    return Dataset(label, arr[:, :n_inputs], arr[:, n_inputs:], header)


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
