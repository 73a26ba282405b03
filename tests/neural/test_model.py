"""The model: the Elman cell against torch.nn.RNN, gradcheck, shapes and the masked loss."""

import pytest
import torch
from torch import nn

from neural import RNNConfig, RNNLanguageModel
from neural.model import ElmanLayer, elman_by_recurrence, elman_by_tanh_kernel


def _copy_into_rnn(model: RNNLanguageModel) -> nn.RNN:
    config = model.config
    rnn = nn.RNN(model.vocab_size, config.hidden_size, config.num_layers, batch_first=True)
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            getattr(rnn, f"weight_ih_l{i}").copy_(layer.weight_hx)
            getattr(rnn, f"weight_hh_l{i}").copy_(layer.weight_hh)
            getattr(rnn, f"bias_ih_l{i}").copy_(layer.bias)
            getattr(rnn, f"bias_hh_l{i}").zero_()
    return rnn


def test_elman_tanh_equals_torch_rnn():
    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(cell="elman", hidden_size=7, num_layers=2, dropout=0, weight_dropout=0),
                           vocab_size=5)
    rnn = _copy_into_rnn(model)
    idx = torch.randint(0, 5, (3, 9))
    h0 = torch.randn(2, 3, 7)
    ours, state = model.hidden(idx, tuple((h,) for h in h0))
    theirs, h_n = rnn(model.embed(idx), h0)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(torch.stack([s[0] for s in state]), h_n, rtol=1e-5, atol=1e-6)
    ours.sum().backward()
    theirs.sum().backward()
    torch.testing.assert_close(
        model.layers[0].weight_hh.grad, rnn.weight_hh_l0.grad, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_elman_gradcheck_float64(nonlinearity):
    torch.manual_seed(1)
    layer = ElmanLayer(3, 4, nonlinearity).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)

    def run(x, h0, w_hx, w_hh, b):
        weights = {"weight_hx": w_hx, "weight_hh": w_hh, "bias": b}
        out, (h_n,) = torch.func.functional_call(layer, weights, (x, (h0,)))
        return out, h_n

    params = [
        p.detach().clone().requires_grad_()
        for p in (layer.weight_hx, layer.weight_hh, layer.bias)
    ]
    assert torch.autograd.gradcheck(run, (x, h0, *params))


@pytest.mark.parametrize("nonlinearity", ["sigmoid", "tanh"])
def test_the_gpu_form_of_the_elman_layer_equals_the_cpu_form(nonlinearity):
    # the GPU runs the layer in torch's tanh kernel (sigmoid through tanh_form); here both on the CPU
    torch.manual_seed(4)
    inputs = [torch.randn(3, 6, 4, dtype=torch.float64), torch.rand(3, 5, dtype=torch.float64),
              torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 5, dtype=torch.float64),
              torch.randn(5, dtype=torch.float64)]
    results = []
    for form in (elman_by_recurrence, elman_by_tanh_kernel):
        leaves = [t.clone().requires_grad_() for t in inputs]
        out = form(*leaves, nonlinearity)
        (out * torch.linspace(-1, 1, out.numel(), dtype=torch.float64).view_as(out)).sum().backward()
        results.append([out, *(leaf.grad for leaf in leaves)])
    for got, expected in zip(*results, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_sigmoid_cell_is_the_formula():
    torch.manual_seed(2)
    layer = ElmanLayer(2, 3, "sigmoid")
    x = torch.randn(1, 4, 2)
    out, _ = layer(x)
    h = torch.zeros(1, 3)
    for t in range(4):
        h = torch.sigmoid(layer.weight_hh @ h[0] + layer.weight_hx @ x[0, t] + layer.bias)[None]
        torch.testing.assert_close(out[:, t], h)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("input_kind", ["onehot", "embedding"])
def test_forward_shapes_and_masked_loss(cell, input_kind):
    torch.manual_seed(3)
    config = RNNConfig(cell=cell, hidden_size=6, num_layers=2, input=input_kind, dropout=0.1)
    model = RNNLanguageModel(config, vocab_size=4).eval()
    idx = torch.randint(0, 4, (2, 5))
    targets = torch.randint(0, 4, (2, 5))
    logits, loss = model(idx, targets)
    assert logits.shape == (2, 5, 4)
    padded = targets.clone()
    padded[1, 3:] = 4  # the padding index
    expected = nn.functional.cross_entropy(logits[padded < 4], targets[padded < 4])
    torch.testing.assert_close(model(idx, padded)[1], expected)
    assert model(idx)[1] is None


def test_loss_decreases():
    torch.manual_seed(4)
    model = RNNLanguageModel(RNNConfig(hidden_size=16, dropout=0, weight_dropout=0), vocab_size=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    idx = torch.tensor([[2, 0, 1, 0, 1, 0]])
    targets = torch.tensor([[0, 1, 0, 1, 0, 2]])
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        _, loss = model(idx, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    "field, value", [("cell", "transformer"), ("hidden_size", 0), ("dropout", 1.0)]
)
def test_bad_config(field, value):
    with pytest.raises(ValueError, match=field):
        RNNConfig(**{field: value})


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_regularisation_acts_in_training_only(cell):
    torch.manual_seed(0)
    config = RNNConfig(cell=cell, hidden_size=8, dropout=0.5, input_dropout=0.5, weight_dropout=0.5)
    model = RNNLanguageModel(config, vocab_size=4)
    idx = torch.randint(0, 4, (5, 7))
    model.eval()
    first, second = model(idx)[0], model(idx)[0]
    torch.testing.assert_close(first, second)
    model.train()
    assert not torch.allclose(model(idx)[0], model(idx)[0])


def test_locked_dropout_keeps_one_mask_for_every_step():
    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(hidden_size=16, dropout=0.5), vocab_size=3).train()
    h, _ = model.hidden(torch.zeros(4, 6, dtype=torch.long))
    dropped = h == 0  # (B, T, H): a unit dropped at one step is dropped at every step
    assert dropped.any() and bool((dropped == dropped[:, :1]).all())


def test_weight_dropout_masks_the_recurrent_matrix_and_its_gradient():
    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(cell="elman", hidden_size=8, weight_dropout=0.5), vocab_size=3).train()
    _, loss = model(torch.randint(0, 3, (4, 5)), torch.randint(0, 3, (4, 5)))
    loss.backward()
    grad = model.layers[0].weight_hh.grad
    assert (grad == 0).float().mean() > 0.3  # dropped entries get no gradient


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_cell_states_replayed_from_the_gates_equal_stepping_the_layer(layers):
    from neural.diagnostics import _stepped_lstm_states, layer_states

    torch.manual_seed(0)
    model = RNNLanguageModel(RNNConfig(cell="lstm", hidden_size=6, num_layers=layers),
                             vocab_size=4).eval()
    idx = torch.randint(0, 4, (3, 9))
    with torch.no_grad():
        fast = layer_states(model, idx)
        x = model.embed(idx)
        for layer, (h, c) in zip(model.layers, fast, strict=True):
            reference = _stepped_lstm_states(layer, x)
            assert torch.allclose(h, reference[0], atol=1e-6)
            assert torch.allclose(c, reference[1], atol=1e-6)
            x = reference[0]
