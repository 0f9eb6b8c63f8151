"""Training data: the article's seven examples, logic gates, and the user's CSV files."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (examples x inputs) and targets ``T`` (examples x outputs)."""

    name: str
    X: np.ndarray
    T: np.ndarray

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


def load_csv(path: str, n_inputs: int, n_outputs: int) -> Dataset:
    """Read a CSV of numbers: ``n_inputs`` input columns then ``n_outputs`` target columns.

    A first row that is not all numbers is taken as a header. Every problem gets its own
    one-line message naming the file and, where it applies, the line.
    """
    label = os.path.basename(path) or path
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: drop a BOM (Excel)
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(fh)) if any(c.strip() for c in r)]
    except FileNotFoundError:
        raise NNCoreError(f"csv: {path}: no such file") from None
    except IsADirectoryError:
        raise NNCoreError(f"csv: {path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise NNCoreError(f"csv: {path}: not a text file (UTF-8 expected)") from None
    except OSError as exc:
        raise NNCoreError(f"csv: {path}: cannot read ({exc.strerror})") from None
    except csv.Error as exc:
        raise NNCoreError(f"csv: {path}: {exc}") from None
    if not rows:
        raise NNCoreError(f"csv: {label} is empty")

    def numbers(row):
        try:
            return [float(c) for c in row]
        except ValueError:
            return None

    if numbers(rows[0][1]) is None:
        rows = rows[1:]  # header
        if not rows:
            raise NNCoreError(f"csv: {label} has a header but no data rows")
    width = n_inputs + n_outputs
    values = []
    for line, row in rows:
        if len(row) != len(rows[0][1]):
            raise NNCoreError(
                f"csv: {label} line {line}: ragged row, {len(row)} columns "
                f"where the first data row has {len(rows[0][1])}"
            )
        for col, cell in enumerate(row):
            try:
                v = float(cell)
            except ValueError:
                raise NNCoreError(
                    f"csv: {label} line {line} column {col + 1}: {cell.strip()!r} is not a number"
                ) from None
            if not math.isfinite(v):
                raise NNCoreError(f"csv: {label} line {line} column {col + 1}: {cell.strip()!r} is not a finite number")
        values.append([float(c) for c in row])
    have = len(values[0])
    if have != width:
        raise NNCoreError(
            f"csv: {label} has {have} columns but the network needs {width} ({n_inputs} inputs + {n_outputs} targets)"
        )
    arr = np.array(values, dtype=np.float64)
    return Dataset(label, arr[:, :n_inputs], arr[:, n_inputs:])


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
