"""The RNN language model: one ``nn.Module`` over Elman, LSTM or GRU layers."""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

# Recurrent state: one tuple per layer, each holding (B, H) tensors: (h,) or, for LSTM, (h, c).
State = tuple[tuple[torch.Tensor, ...], ...]

CELLS = ("elman", "lstm", "gru")
NONLINEARITIES = ("sigmoid", "tanh")
INPUTS = ("onehot", "embedding")


@dataclass(frozen=True)
class RNNConfig:
    """Architecture of an :class:`RNNLanguageModel`.

    Examples
    --------
    >>> RNNConfig(cell="elman", nonlinearity="sigmoid", hidden_size=32).cell
    'elman'
    """

    cell: str = "lstm"  # "elman" (h_t = σ(W_hh h_{t-1} + W_hx x_t + b)), "lstm" or "gru"
    nonlinearity: str = "tanh"  # σ of the elman cell: "sigmoid" (the classic formula) or "tanh"
    hidden_size: int = 256  # units per recurrent layer
    num_layers: int = 1  # stacked recurrent layers
    input: str = "onehot"  # "onehot" (x_t is a one-hot vector) or "embedding" (learned vectors)
    embedding_dim: int = 16  # size of the learned input vectors when input == "embedding"
    # Regularisation, in training only (AWD-LSTM, Merity et al. 2017); every mask is "locked":
    # drawn once per string and batch, the same at every time step.
    dropout: float = 0.3  # on the outputs of every recurrent layer (between layers and before the head)
    input_dropout: float = 0.0  # drops whole symbols: a symbol's input vector is zeroed in a string
    weight_dropout: float = 0.3  # DropConnect on the recurrent matrices W_hh, one mask per batch

    def __post_init__(self) -> None:
        _check_choice("cell", self.cell, CELLS)
        _check_choice("nonlinearity", self.nonlinearity, NONLINEARITIES)
        _check_choice("input", self.input, INPUTS)
        for name in ("hidden_size", "num_layers", "embedding_dim"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dropout", "input_dropout", "weight_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


class ElmanLayer(nn.Module):
    """One Elman layer: ``h_t = σ(W_hh h_{t-1} + W_hx x_t + b)`` with σ sigmoid or tanh.

    On a GPU it runs in cuDNN's tanh RNN kernel, which has no sigmoid: since
    σ(a) = (tanh(a/2) + 1)/2, the sigmoid layer is the tanh layer over g = 2h - 1 with the
    weights of :func:`tanh_form`, exact up to rounding. On a CPU the hand-written recurrence of
    :class:`_ElmanRecurrence` is faster (the input projections of all steps are one product).
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str, weight_dropout: float = 0.0) -> None:
        super().__init__()
        self.weight_dropout = weight_dropout
        self.weight_hx = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.empty(hidden_size))
        self.nonlinearity = nonlinearity
        bound = 1.0 / math.sqrt(hidden_size)  # the initialisation of torch.nn.RNN
        for weight in (self.weight_hx, self.weight_hh, self.bias):
            nn.init.uniform_(weight, -bound, bound)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        h0 = x.new_zeros(x.shape[0], self.weight_hh.shape[0]) if state is None else state[0]
        weight_hh = drop_connect(self.weight_hh, self.weight_dropout, self.training)
        step = elman_by_tanh_kernel if x.is_cuda else elman_by_recurrence
        out = step(x, h0, self.weight_hx, weight_hh, self.bias, self.nonlinearity)  # (B, T, H)
        return out, (out[:, -1],)


def elman_by_recurrence(x: torch.Tensor, h0: torch.Tensor, weight_hx: torch.Tensor, weight_hh: torch.Tensor,
                        bias: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    """The Elman layer's outputs (B, T, H) for inputs ``x`` (B, T, I) by :class:`_ElmanRecurrence`."""
    B, T, _ = x.shape
    projected = torch.addmm(bias, x.reshape(B * T, -1), weight_hx.t())
    projected = projected.view(B, T, -1).transpose(0, 1)  # (T, B, H)
    return _ElmanRecurrence.apply(projected, h0, weight_hh, nonlinearity).transpose(0, 1)


def elman_by_tanh_kernel(x: torch.Tensor, h0: torch.Tensor, weight_hx: torch.Tensor, weight_hh: torch.Tensor,
                         bias: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    """The Elman layer's outputs (B, T, H) by torch's tanh RNN kernel (cuDNN on a GPU)."""
    sigmoid = nonlinearity == "sigmoid"
    weights = tanh_form(weight_hx, weight_hh, bias) if sigmoid else (weight_hx, weight_hh, bias)
    g0 = 2 * h0 - 1 if sigmoid else h0
    with _weights_made_per_call():
        out, _ = torch.rnn_tanh(x, g0.unsqueeze(0).contiguous(), [*weights, torch.zeros_like(bias)],
                                True, 1, 0.0, torch.is_grad_enabled(), False, True)  # (B, T, H)
    return (out + 1) / 2 if sigmoid else out


def tanh_form(
    weight_hx: torch.Tensor, weight_hh: torch.Tensor, bias: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The weights of a tanh layer over g = 2h - 1 that computes the sigmoid layer h (W_hx, W_hh, b).

    a/2 = W_hh (g + 1)/4 + W_hx x/2 + b/2, and g_t = tanh(a_t/2) = 2 σ(a_t) - 1.

    Examples
    --------
    >>> w_hx, w_hh, b = tanh_form(torch.ones(1, 1), torch.ones(1, 1), torch.zeros(1))
    >>> w_hx.item(), w_hh.item(), b.item()
    (0.5, 0.25, 0.25)
    """
    return weight_hx / 2, weight_hh / 4, bias / 2 + weight_hh.sum(dim=1) / 4


class _ElmanRecurrence(torch.autograd.Function):
    """``h_t = σ(p_t + W_hh h_{t-1})`` over time-major inputs ``p`` (T, B, H)."""

    @staticmethod
    def forward(ctx, projected, h0, weight_hh, nonlinearity):
        activation = torch.sigmoid if nonlinearity == "sigmoid" else torch.tanh
        out = torch.empty_like(projected)  # (T, B, H)
        w_t = weight_hh.t()
        h = h0
        for t in range(projected.shape[0]):
            torch.addmm(projected[t], h, w_t, out=out[t])
            h = activation(out[t], out=out[t])
        ctx.save_for_backward(out, h0, weight_hh)
        ctx.nonlinearity = nonlinearity
        return out

    @staticmethod
    def backward(ctx, grad_out):
        out, h0, weight_hh = ctx.saved_tensors
        # σ'(a) in terms of h = σ(a): h(1 - h) for sigmoid, 1 - h² for tanh.
        if ctx.nonlinearity == "sigmoid":
            derivative = out * (1 - out)
        else:
            derivative = 1 - out * out
        grad_pre = torch.empty_like(out)  # (T, B, H)
        grad_h = torch.zeros_like(h0)
        for t in range(out.shape[0] - 1, -1, -1):
            grad_h = grad_h + grad_out[t]
            torch.mul(grad_h, derivative[t], out=grad_pre[t])
            grad_h = grad_pre[t] @ weight_hh  # (B, H)
        previous = torch.cat([h0.unsqueeze(0), out[:-1]])  # (T, B, H)
        H = out.shape[-1]
        grad_weight = grad_pre.reshape(-1, H).t() @ previous.reshape(-1, H)  # (H, H)
        return grad_pre, grad_h, grad_weight, None


class TorchLayer(nn.Module):
    """One ``torch.nn.LSTM`` or ``torch.nn.GRU`` layer with the (B, H) state convention."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, weight_dropout: float = 0.0) -> None:
        super().__init__()
        module = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = module(input_size, hidden_size, batch_first=True)
        self.is_lstm = cell == "lstm"
        self.weight_dropout = weight_dropout

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        torch_state = None if state is None else tuple(s.unsqueeze(0) for s in state)
        if torch_state is not None and not self.is_lstm:
            torch_state = torch_state[0]
        if self.training and self.weight_dropout > 0:
            weights = dict(self.rnn.named_parameters())
            weights["weight_hh_l0"] = drop_connect(weights["weight_hh_l0"], self.weight_dropout, True)
            with _weights_made_per_call():
                out, new = functional_call(self.rnn, weights, (x, torch_state))  # out: (B, T, H)
        else:
            out, new = self.rnn(x, torch_state)  # out: (B, T, H)
        new = new if self.is_lstm else (new,)
        return out, tuple(s.squeeze(0) for s in new)


class RNNLanguageModel(nn.Module):
    """Next-symbol language model: input tokens → recurrent layers → logits over the vocabulary.

    ``vocab_size`` counts the output columns (alphabet and end-of-string); input tokens use the
    same indices, the end-of-string index doubling as the start-of-string token.

    Examples
    --------
    >>> model = RNNLanguageModel(RNNConfig(hidden_size=8), vocab_size=4)
    >>> idx = torch.zeros(2, 5, dtype=torch.long)
    >>> logits, loss = model(idx, targets=torch.ones(2, 5, dtype=torch.long))
    >>> tuple(logits.shape), loss.ndim
    ((2, 5, 4), 0)
    """

    def __init__(self, config: RNNConfig, vocab_size: int) -> None:
        super().__init__()
        self.config = config
        self.vocab_size = vocab_size
        if config.input == "embedding":
            self.embedding: nn.Embedding | None = nn.Embedding(vocab_size, config.embedding_dim)
            input_size = config.embedding_dim
        else:
            self.embedding = None
            input_size = vocab_size
        self.layers = nn.ModuleList(
            _make_layer(config, input_size if i == 0 else config.hidden_size) for i in range(config.num_layers)
        )
        self.head = nn.Linear(config.hidden_size, vocab_size)  # W_S (with a bias)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Input vectors of tokens ``idx`` (B, T) → (B, T, I)."""
        if self.embedding is not None:
            return self.embedding(idx)
        return F.one_hot(idx, self.vocab_size).to(self.head.weight.dtype)

    def hidden(self, idx: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Top-layer hidden vectors (B, T, H) and the state after the last step."""
        x = self.embed(idx)  # (B, T, I)
        if self.training and self.config.input_dropout > 0:
            x = x * symbol_mask(idx, self.vocab_size, self.config.input_dropout).unsqueeze(-1)
        new_state = []
        for i, layer in enumerate(self.layers):
            x, layer_state = layer(x, None if state is None else state[i])  # (B, T, H)
            if self.training and self.config.dropout > 0:
                x = x * locked_mask(x, self.config.dropout)
            new_state.append(layer_state)
        return x, tuple(new_state)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        state: State | None = None,
        return_state: bool = False,
    ):
        """Logits (B, T, V) and the mean cross-entropy (nats per predicted token) or None.

        Targets equal to V (the padding index) are masked. With
        ``return_state`` the state after the last step is returned third, for carried BPTT.
        """
        h, new_state = self.hidden(idx, state)  # (B, T, H)
        logits = self.head(h)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, self.vocab_size),
                targets.reshape(-1),
                ignore_index=self.vocab_size,
            )
        if return_state:
            return logits, loss, new_state
        return logits, loss


@contextlib.contextmanager
def _weights_made_per_call() -> Iterator[None]:
    """Silence cuDNN's warning that weights outside one flat buffer are copied at each call:
    weights computed at each call (DropConnect, :func:`tanh_form`) cannot be in one."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous")
        yield


def _make_layer(config: RNNConfig, input_size: int) -> nn.Module:
    if config.cell == "elman":
        return ElmanLayer(input_size, config.hidden_size, config.nonlinearity, config.weight_dropout)
    return TorchLayer(config.cell, input_size, config.hidden_size, config.weight_dropout)


def drop_connect(weight: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``weight`` with each entry zeroed with probability ``p`` (and the rest scaled by 1/(1-p)).

    Examples
    --------
    >>> w = torch.ones(3, 3)
    >>> drop_connect(w, 0.5, training=False) is w
    True
    """
    if not training or p == 0:
        return weight
    return F.dropout(weight, p, training=True)


def locked_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """A dropout mask (B, 1, H) for ``x`` (B, T, H): one mask per string, the same at every step.

    Examples
    --------
    >>> locked_mask(torch.ones(2, 5, 3), 0.5).shape
    torch.Size([2, 1, 3])
    """
    keep = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p)
    return keep / (1 - p)


def symbol_mask(idx: torch.Tensor, vocab_size: int, p: float) -> torch.Tensor:
    """A (B, T) mask that drops whole symbols: a symbol dropped in a string is dropped at every step.

    Examples
    --------
    >>> idx = torch.tensor([[0, 1, 0, 1]])
    >>> m = symbol_mask(idx, 2, 0.5)
    >>> bool(m[0, 0] == m[0, 2]) and bool(m[0, 1] == m[0, 3])
    True
    """
    keep = torch.empty(idx.shape[0], vocab_size, device=idx.device).bernoulli_(1 - p) / (1 - p)  # (B, V)
    return keep.gather(1, idx)  # (B, T)


def map_state(fn, state: State) -> State:
    """Apply ``fn`` to every tensor of a recurrent state (detach, index_select, ``.to``)."""
    return tuple(tuple(fn(t) for t in layer) for layer in state)


def select_rows(state: State, index: torch.Tensor) -> State:
    """The rows ``index`` of every tensor of a recurrent state (beam search, finished samples)."""
    return map_state(lambda t: t.index_select(0, index), state)
