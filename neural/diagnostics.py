"""Inside the model: per-layer hidden states and the flow of gradients through time."""

from __future__ import annotations

import numpy as np
import torch

from neural.model import RNNLanguageModel, State, TorchLayer


def layer_states(model: RNNLanguageModel, idx: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
    """Each layer's state after every step: ``(h,)`` or, for LSTM, ``(h, c)``, each (B, T, H).

    Examples
    --------
    >>> from neural.model import RNNConfig
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=3, num_layers=2), vocab_size=2).eval()
    >>> [tuple(s.shape) for s in layer_states(model, torch.zeros(1, 4, dtype=torch.long))[1]]
    [(1, 4, 3), (1, 4, 3)]
    """
    x = model.embed(idx)  # (B, T, I)
    result = []
    for layer in model.layers:
        if isinstance(layer, TorchLayer) and layer.is_lstm:
            seqs = _lstm_states(layer, x)  # nn.LSTM returns the cell state of the last step only
        else:
            seqs = (layer(x)[0],)
        x = seqs[0]
        result.append(seqs)
    return result


def _lstm_states(layer: TorchLayer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(h, c) after every step, each (B, T, H): h from one pass of the layer, c by replaying its
    gates (torch's order i, f, g, o) from every h_{t-1} at once, then a scan of elementwise steps
    (one pass per step of the whole layer is many times slower). With weight dropout in training
    the gates are random, so the layer is stepped instead."""
    if layer.training and layer.weight_dropout > 0:
        return _stepped_lstm_states(layer, x)
    hs, _ = layer(x)  # (B, T, H)
    rnn = layer.rnn
    previous = torch.cat([torch.zeros_like(hs[:, :1]), hs[:, :-1]], dim=1)  # h_{t-1}; h_{-1} = 0
    gates = (x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0
             + previous @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)  # (B, T, 4H)
    i, f, g, _ = gates.chunk(4, dim=-1)
    i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
    c, cs = torch.zeros_like(hs[:, 0]), []
    for t in range(x.shape[1]):
        c = f[:, t] * c + i[:, t] * g[:, t]
        cs.append(c)
    return hs, torch.stack(cs, dim=1)


def _stepped_lstm_states(layer: TorchLayer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    hs, cs, state = [], [], None
    for t in range(x.shape[1]):
        _, state = layer(x[:, t : t + 1], state)
        hs.append(state[0])
        cs.append(state[1])
    return torch.stack(hs, dim=1), torch.stack(cs, dim=1)  # (B, T, H) each


BLOCK = 4  # vectors in the subspace iteration that estimates each spectral norm
FIRST_STEPS = 20  # its steps at distance 1, from a fixed random start
NEXT_STEPS = 3  # at least, at each further distance d (FIRST_STEPS / d while more)


def gradient_flow(model: RNNLanguageModel, idx: torch.Tensor, max_distance: int, *,
                  lengths: np.ndarray | None = None,
                  stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Sums and counts of ‖∂s_t/∂s_k‖₂ by distance t − k, for inputs ``idx`` (B, T): string b
    is ``idx[b, :lengths[b] + 1]`` (``$ x1..xn``; by default all T), the rest padding.

    ``s_t`` is the flattened state of all layers after input t. The one-step Jacobians come
    from autograd; their products forward from start points k (0, stride, 2 stride, ... of
    each string) give ∂s_t/∂s_k for every t > k. The norms are estimated from below by
    subspace iteration, each distance starting from the previous one's subspace (the
    products' row spaces are nested, so it turns little).
    """
    B, T = idx.shape
    n = np.full(B, T - 1) if lengths is None else np.asarray(lengths)
    sums, counts = np.zeros(max_distance + 1), np.zeros(max_distance + 1)
    sums[0] = counts[0] = int((n + 1).sum())  # ∂s_t/∂s_t is the identity
    if T == 1 or max_distance == 0 or not n.any():
        return sums, counts
    steps = _step_jacobians(model, idx)  # (B, T - 1, S, S): ∂s_j/∂s_{j-1} for j = 1..T-1
    rows, starts, reach = (torch.from_numpy(a) for a in start_points(n, stride))
    product = steps[rows, starts]  # (C, S, S): ∂s_{k+1}/∂s_k, one chain per start point
    basis = torch.randn(product.shape[-1], BLOCK, dtype=product.dtype,
                        generator=torch.Generator().manual_seed(0)).to(product.device)
    norms, basis = _top_singular(product, basis.expand(len(product), -1, -1), FIRST_STEPS)
    for d in range(1, min(int(reach[0]), max_distance) + 1):
        live = int((reach >= d).sum())  # the chains with k + d ≤ n: a prefix
        if d > 1:
            product = steps[rows[:live], starts[:live] + d - 1] @ product[:live]  # ∂s_{k+d}/∂s_k
            norms, basis = _top_singular(product, basis[:live],
                                         max(NEXT_STEPS, FIRST_STEPS // d))
        sums[d] += float(norms.sum())
        counts[d] += live
    return sums, counts


def start_points(lengths: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(string, k, n − k) of the start points 0, stride, ... < n of strings of ``lengths``,
    longest chain first.

    >>> [a.tolist() for a in start_points(np.array([5, 2]), 2)]
    [[0, 0, 1, 0], [0, 2, 0, 4], [5, 3, 2, 1]]
    """
    lengths = np.asarray(lengths)
    rows = np.repeat(np.arange(len(lengths)), (lengths + stride - 1) // stride)
    starts = np.concatenate([np.arange(0, n, stride) for n in lengths] or [np.zeros(0, int)])
    reach = lengths[rows] - starts
    order = np.argsort(-reach, kind="stable")
    return rows[order], starts[order], reach[order]


def _top_singular(matrices: torch.Tensor, basis: torch.Tensor,
                  steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest singular values of matrices (..., S, S) from below, by ``steps`` steps of
    subspace iteration on Mᵀ M from ``basis`` (..., S, k); and the subspace reached."""
    for _ in range(steps):
        basis = torch.linalg.qr(matrices.mT @ (matrices @ basis)).Q
    return torch.linalg.matrix_norm(matrices @ basis, ord=2), basis


def _step_jacobians(model: RNNLanguageModel, idx: torch.Tensor) -> torch.Tensor:
    B, T = idx.shape
    with torch.no_grad():
        states = torch.cat([s for layer in layer_states(model, idx) for s in layer], dim=-1)
    previous = states[:, :-1].reshape(B * (T - 1), -1)  # (B n, S): s_0 .. s_{n-1}
    tokens = idx[:, 1:].reshape(-1, 1)  # (B n, 1): x_1 .. x_n
    shapes = [len(layer) for layer in _empty_state(model)]

    def step(flat: torch.Tensor) -> torch.Tensor:
        _, _, new = model(tokens, state=_unflatten(flat, shapes), return_state=True)
        return torch.cat([t for layer in new for t in layer], dim=-1).sum(dim=0)  # (S,)

    weights = [p for p in model.parameters() if p.requires_grad]
    try:  # no weight gradients: the Jacobian is with respect to the states only
        for p in weights:
            p.requires_grad_(False)
        with torch.enable_grad():
            jacobian = torch.autograd.functional.jacobian(step, previous)  # (S, B n, S)
    finally:
        for p in weights:
            p.requires_grad_(True)
    S = previous.shape[1]
    return jacobian.permute(1, 0, 2).reshape(B, T - 1, S, S)


def _empty_state(model: RNNLanguageModel) -> State:
    per_layer = 2 if model.config.cell == "lstm" else 1
    return tuple((torch.empty(0),) * per_layer for _ in model.layers)


def _unflatten(flat: torch.Tensor, shapes: list[int]) -> State:
    pieces = iter(flat.chunk(sum(shapes), dim=-1))
    return tuple(tuple(next(pieces) for _ in range(count)) for count in shapes)
