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
    hs, cs, state = [], [], None
    for t in range(x.shape[1]):
        _, state = layer(x[:, t : t + 1], state)
        hs.append(state[0])
        cs.append(state[1])
    return torch.stack(hs, dim=1), torch.stack(cs, dim=1)  # (B, T, H) each


def gradient_flow(model: RNNLanguageModel, idx: torch.Tensor, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums and counts of ‖∂s_t/∂s_k‖₂ by distance t − k, for inputs ``idx`` (B, n+1).

    ``s_t`` is the flattened state of all layers after input t. The one-step Jacobians come
    from autograd; their products along each string give every ∂s_t/∂s_k.
    """
    B, T = idx.shape
    sums, counts = np.zeros(max_distance + 1), np.zeros(max_distance + 1)
    sums[0] = counts[0] = B * T  # ∂s_t/∂s_t is the identity
    n = T - 1
    if n == 0 or max_distance == 0:
        return sums, counts
    steps = _step_jacobians(model, idx)  # (B, n, S, S): ∂s_j/∂s_{j-1} for j = 1..n
    product = steps  # product[:, k] = ∂s_{k+d}/∂s_k, for d = 1
    for d in range(1, min(n, max_distance) + 1):
        if d > 1:
            product = steps[:, d - 1 :] @ product[:, :-1]
        norms = torch.linalg.matrix_norm(product, ord=2)  # (B, n - d + 1)
        sums[d] += float(norms.sum())
        counts[d] += norms.numel()
    return sums, counts


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

    with torch.enable_grad():
        jacobian = torch.autograd.functional.jacobian(step, previous)  # (S, B n, S)
    S = previous.shape[1]
    return jacobian.permute(1, 0, 2).reshape(B, T - 1, S, S)


def _empty_state(model: RNNLanguageModel) -> State:
    per_layer = 2 if model.config.cell == "lstm" else 1
    return tuple((torch.empty(0),) * per_layer for _ in model.layers)


def _unflatten(flat: torch.Tensor, shapes: list[int]) -> State:
    pieces = iter(flat.chunk(sum(shapes), dim=-1))
    return tuple(tuple(next(pieces) for _ in range(count)) for count in shapes)
