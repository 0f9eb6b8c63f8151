"""A dense feed-forward network: its shape, weights and the numpy maths of one step.

Conventions (the same as the 2015 original):

* ``weights[k]`` joins layer ``k`` to layer ``k + 1`` and has shape
  ``(size[k + 1], size[k])``: row ``j`` holds the synapses *into* neuron ``j``.
* Weights are drawn from ``numpy.random.RandomState(seed)``, uniform in
  ``[-scale, scale)``, layer by layer in row-major order; biases (if any) are drawn
  after all the weights, so a bias-free network matches the original draw for draw.
* The error of an example is ``target - output``; the delta of a neuron is its error
  times the activation's derivative; the error reaching a lower neuron is carried
  back through the weights *before* their update; a weight then moves by
  ``learning_rate * input_signal * delta``. For a batch the changes are summed.
  This is plain gradient descent on ``E = 0.5 * sum((target - output) ** 2)``.
* A softmax output layer goes with the cross-entropy loss ``E = -sum(target * log(output))``:
  its delta is the error ``target - output`` itself (``-dE/dz``), the rest is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import activations as act
from .errors import NNCoreError
from .limits import MAX_LAYERS

MAX_LAYER_SIZE = 4096


@dataclass(frozen=True)
class NetworkSpec:
    """Shape and activations of a network."""

    layers: tuple[int, ...]
    activation: str = "sigmoid"
    output_activation: str = ""  # "" = same as hidden, or sigmoid when hidden is relu; or softmax
    bias: bool = False

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if len(layers) > MAX_LAYERS:
            raise NNCoreError(f"layers: {len(layers)} layers is over the limit of {MAX_LAYERS}")
        for i, n in enumerate(layers):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise NNCoreError(f"layers: layer {i + 1} has size {n!r}; sizes must be integers >= 1")
            if n > MAX_LAYER_SIZE:
                raise NNCoreError(f"layers: layer {i + 1} has {n} neurons; at most {MAX_LAYER_SIZE}")
        if len(layers) < 2:
            raise NNCoreError(f"layers: need at least an input and an output layer, got {len(layers)} layer(s)")
        object.__setattr__(self, "layers", tuple(int(n) for n in layers))
        if self.activation not in act.ACTIVATIONS:
            raise NNCoreError(f"activation: {self.activation!r} is not one of {', '.join(act.ACTIVATIONS)}")
        out = self.output_activation or ("sigmoid" if self.activation == "relu" else self.activation)
        if out not in act.OUTPUT_ACTIVATIONS:
            raise NNCoreError(
                f"output activation: {out!r} must be sigmoid, tanh or softmax (relu is for hidden layers only)"
            )
        if out == "softmax" and layers[-1] < 2:
            raise NNCoreError("output activation: softmax needs at least 2 output neurons (one per class)")
        object.__setattr__(self, "output_activation", out)

    @property
    def layer_activations(self) -> tuple[str, ...]:
        """Activation of every non-input layer, in order."""
        n = len(self.layers) - 1
        return (self.activation,) * (n - 1) + (self.output_activation,)

    @property
    def n_synapses(self) -> int:
        return sum(a * b for a, b in zip(self.layers[:-1], self.layers[1:]))

    @property
    def n_neurons(self) -> int:
        return sum(self.layers)


@dataclass
class Params:
    """Weights (and biases) of a network; ``biases`` is empty when the net has none."""

    weights: list[np.ndarray]
    biases: list[np.ndarray] = field(default_factory=list)

    def copy(self) -> Params:
        return Params([w.copy() for w in self.weights], [b.copy() for b in self.biases])

    def flat(self) -> np.ndarray:
        """All weights, layer by layer row-major, then all biases."""
        parts = [w.ravel() for w in self.weights] + [b.ravel() for b in self.biases]
        return np.concatenate(parts)

    def set_flat(self, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        i = 0
        for arr in self.weights + self.biases:
            arr[...] = values[i : i + arr.size].reshape(arr.shape)
            i += arr.size

    def is_finite(self, limit: float) -> bool:
        return all(bool(np.all(np.abs(a) <= limit)) for a in self.weights + self.biases)


def init_params(spec: NetworkSpec, seed: int, scale: float = 1.0) -> Params:
    """Seeded uniform weights in ``[-scale, scale)``; zero-free biases likewise."""
    rs = np.random.RandomState(seed)
    sizes = spec.layers
    weights = [scale * (2.0 * rs.random_sample((b, a)) - 1.0) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [scale * (2.0 * rs.random_sample(b) - 1.0) for b in sizes[1:]] if spec.bias else []
    return Params(weights, biases)


def forward(spec: NetworkSpec, params: Params, x: np.ndarray) -> list[np.ndarray]:
    """Activations of every layer (the input first) for inputs ``x`` (1-D or 2-D batch)."""
    out = [np.asarray(x, dtype=np.float64)]
    for k, name in enumerate(spec.layer_activations):
        z = out[-1] @ params.weights[k].T
        if params.biases:
            z = z + params.biases[k]
        out.append(act.forward(name, z))
    return out


def backward(
    spec: NetworkSpec, params: Params, acts: list[np.ndarray], target: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Error ``target - output`` and the delta of every non-input layer.

    ``deltas[k]`` belongs to layer ``k + 1``. Works for one example or a batch (rows).
    """
    names = spec.layer_activations
    error = np.asarray(target, dtype=np.float64) - acts[-1]
    deltas = [None] * len(names)
    # softmax with cross-entropy: the delta is the error itself (its derivative term is 1)
    d = error if names[-1] == "softmax" else error * act.derivative(names[-1], acts[-1])
    deltas[-1] = d
    for k in range(len(names) - 1, 0, -1):
        d = (d @ params.weights[k]) * act.derivative(names[k - 1], acts[k])
        deltas[k - 1] = d
    return error, deltas


def apply_update(params: Params, acts: list[np.ndarray], deltas: list[np.ndarray], lr: float) -> None:
    """Move every weight by ``lr * input_signal * delta`` (summed over a batch)."""
    for k, d in enumerate(deltas):
        a = acts[k]
        if d.ndim == 1:
            params.weights[k] += lr * np.outer(d, a)
            if params.biases:
                params.biases[k] += lr * d
        else:
            params.weights[k] += lr * (d.T @ a)
            if params.biases:
                params.biases[k] += lr * d.sum(axis=0)


def loss_and_gradients(spec: NetworkSpec, params: Params, X: np.ndarray, T: np.ndarray):
    """``E = 0.5 * sum((T - Y) ** 2)`` (softmax: ``-sum(T * log(Y))``) and ``dE/dW``, ``dE/db``
    (for checks and tests)."""
    acts = forward(spec, params, X)
    error, deltas = backward(spec, params, acts, T)
    if spec.output_activation == "softmax":
        loss = -float(np.sum(np.asarray(T) * np.log(np.maximum(acts[-1], 1e-300))))
    else:
        loss = 0.5 * float(np.sum(error**2))
    gw = [-(d.T @ acts[k]) for k, d in enumerate(deltas)]
    gb = [-d.sum(axis=0) for d in deltas] if params.biases else []
    return loss, gw, gb
