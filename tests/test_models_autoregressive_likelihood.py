"""The autoregressive models' likelihoods and samplers against independent oracles.

- Exact enumeration: on a tiny D, p(x) summed over all configurations is 1 (the chain rule
  normalises only if the masks are right), and sample frequencies match p(x) (chi-square).
- The registry's formulas (`fvsbn-conditional`, `nade-conditionals`, `made-mask`,
  `pixelcnn-mask`, `attention-causal`, `bits-per-dim`) computed in numpy.
- torch's scaled_dot_product_attention(is_causal=True).
- Likelihood sanity: NLL >= 0 on binary data, all-zero logits give exactly D ln 2.
- A mixture over MADE orderings is logsumexp of log-likelihoods; averaged logits are not a
  normalised density.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cheatsheet.models.autoregressive_common import bernoulli_log_prob
from cheatsheet.models.fvsbn import FVSBN
from cheatsheet.models.made import MADE, made_degrees
from cheatsheet.models.nade import NADE
from cheatsheet.models.pixelcnn import GatedPixelCNN, PixelCNN, causal_mask
from cheatsheet.models.pixelrnn import PixelRNN
from cheatsheet.models.transformer import (
    CausalSelfAttention,
    PixelTransformer,
    TransformerConfig,
    causal_attention,
)
from cheatsheet.models.wavenet import WaveNet
from formulas import get


def randomise(model: torch.nn.Module, scale: float = 1.0) -> torch.nn.Module:
    """Random weights and biases everywhere, so the distribution is far from uniform."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
    return model


def all_binary(dims: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=dims)))


def chi_square_p_value(samples: torch.Tensor, configurations: torch.Tensor, log_p) -> float:
    """Pearson's test of the sample counts against n p(x); cells with expected count < 5 are
    pooled (the test's usual validity condition)."""
    from scipy.stats import chi2

    n = len(samples)
    probabilities = log_p.exp().double().numpy()
    index = {tuple(c.tolist()): i for i, c in enumerate(configurations)}
    counts = np.zeros(len(configurations))
    for row in samples.flatten(1).tolist():
        counts[index[tuple(row)]] += 1
    expected = n * probabilities
    big = expected >= 5
    observed = np.append(counts[big], counts[~big].sum())
    expected = np.append(expected[big], expected[~big].sum())
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    statistic = ((observed - expected) ** 2 / expected).sum()
    return float(chi2.sf(statistic, len(observed) - 1))


# Tiny models over D = 6 binary dimensions (images 2x3 grey or 1x2 RGB).
TINY = {
    "fvsbn": (lambda: FVSBN(6), (6,)),
    "nade": (lambda: NADE(6, 5, order="random", seed=2), (6,)),
    "made": (lambda: MADE(6, (12, 12), order="random", seed=3), (6,)),
    "pixelcnn": (lambda: PixelCNN(1, 2, 3, features=8, blocks=1, first_kernel=3), (1, 2, 3)),
    "pixelcnn-rgb": (lambda: PixelCNN(3, 1, 2, features=12, blocks=1, first_kernel=3), (3, 1, 2)),
    "gated-pixelcnn": (lambda: GatedPixelCNN(1, 2, 3, features=8, layers=2), (1, 2, 3)),
    "gated-pixelcnn-rgb": (lambda: GatedPixelCNN(3, 1, 2, features=6, layers=2), (3, 1, 2)),
    "pixelrnn": (lambda: PixelRNN(1, 2, 3, features=8, layers=1, first_kernel=3), (1, 2, 3)),
    "pixelrnn-rgb": (lambda: PixelRNN(3, 1, 2, features=6, layers=1, first_kernel=3), (3, 1, 2)),
    "transformer": (
        lambda: PixelTransformer(TransformerConfig(6, n_layer=1, n_head=2, n_embd=8)),
        (6,),
    ),
    "made-order-agnostic": (
        lambda: MADE(6, (12, 12), num_masks=3, order_agnostic=True, seed=4),
        (6,),
    ),
}


def log_prob(model, x):
    return model.log_prob_mixture(x) if isinstance(model, MADE) else model(x)


@pytest.mark.parametrize("name", TINY)
def test_enumeration_sums_to_one_and_samples_match_probabilities(name):
    factory, shape = TINY[name]
    torch.manual_seed(0)
    model = randomise(factory(), scale=0.8).double()
    configurations = all_binary(6).double()
    log_p = log_prob(model, configurations.view(-1, *shape)).detach()
    assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-9)
    assert log_p.exp().max() > 3 / 64, "randomised model should be far from uniform"
    samples = model.sample(6000).double()
    assert samples.shape == (6000, *shape)
    assert chi_square_p_value(samples.view(6000, -1), configurations, log_p) > 1e-4


def test_wavenet_enumeration_and_windowed_sampling_match():
    """3 levels, 5 steps (243 sequences); receptive field 3 < 5, so sampling uses its window."""
    torch.manual_seed(0)
    model = randomise(WaveNet(3, 4, 6, layers_per_stack=1, stacks=1), scale=0.7).double()
    assert model.receptive_field == 3
    sequences = torch.tensor(list(itertools.product(range(3), repeat=5)))
    log_p = model(sequences.unsqueeze(1)).detach()
    assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-9)
    samples = model.sample(8000, 5)[:, 0]
    p_value = chi_square_p_value(samples.double(), sequences.double(), log_p)
    assert p_value > 1e-4


def test_made_mixture_is_logsumexp_and_averaged_logits_are_not_a_density():
    torch.manual_seed(0)
    model = randomise(MADE(5, (16, 16), num_masks=4, order_agnostic=True, seed=1)).double()
    x = all_binary(5).double()
    per_mask = []
    for k in range(4):
        model.set_mask(k)
        per_mask.append(model(x).detach().numpy())
    mixture = np.log(np.mean(np.exp(np.stack(per_mask)), axis=0))  # numpy, by definition
    np.testing.assert_allclose(model.log_prob_mixture(x).detach().numpy(), mixture, atol=1e-12)
    # Each component is normalised, and so is the mixture...
    for log_pk in per_mask:
        assert np.log(np.exp(log_pk).sum()) == pytest.approx(0.0, abs=1e-9)
    # ...but the product of "conditionals" from averaged logits is not a density.
    averaged_logits = torch.stack(
        [model.set_mask(k) or model.logits(x).detach() for k in range(4)]
    ).mean(0)
    total = bernoulli_log_prob(averaged_logits, x).exp().sum().item()
    assert abs(total - 1.0) > 1e-3


# --------------------------------------------------------------------------------------------
# Likelihood sanity


def _final_layers(model):
    if isinstance(model, FVSBN):
        return [model.weight, model.bias]
    if isinstance(model, NADE):
        return [model.V, model.c]
    if isinstance(model, MADE):
        return list(model.layers[-1].parameters())
    if isinstance(model, PixelTransformer):
        return list(model.head.parameters())
    if isinstance(model, WaveNet):
        return list(model.output[-1].parameters())
    return list(model.head[-1].parameters())


@pytest.mark.parametrize("name", [n for n in TINY if n != "made-order-agnostic"])
def test_all_zero_logits_score_exactly_d_ln2_and_nll_is_nonnegative(name):
    factory, shape = TINY[name]
    torch.manual_seed(0)
    model = randomise(factory()).double()
    x = torch.bernoulli(torch.full((32, *shape), 0.4, dtype=torch.float64))
    assert (-model(x) >= 0).all()  # a probability mass is at most 1
    with torch.no_grad():
        for parameter in _final_layers(model):
            parameter.zero_()
    assert torch.equal(model.logits(x), torch.zeros_like(x))
    torch.testing.assert_close(-model(x), torch.full((32,), 6 * math.log(2), dtype=torch.float64))


def test_wavenet_zero_logits_score_t_ln_k_and_bits_per_dim_match_the_registry():
    model = WaveNet(8, 4, 6, layers_per_stack=2, stacks=1).double()
    with torch.no_grad():
        for parameter in _final_layers(model):
            parameter.zero_()
    x = torch.randint(8, (5, 1, 10))
    nll = -model(x)
    torch.testing.assert_close(nll, torch.full((5,), 10 * math.log(8), dtype=torch.float64))
    bpd = get("bits-per-dim").evaluate(nll=nll.detach().numpy(), dims=10)
    np.testing.assert_allclose(bpd, 3.0)  # log2(8) bits per step


# --------------------------------------------------------------------------------------------
# The registry's formulas


def test_fvsbn_conditionals_equal_the_registry():
    model = randomise(FVSBN(7)).double()
    x = torch.bernoulli(torch.full((10, 7), 0.5, dtype=torch.float64))
    expected = get("fvsbn-conditional").evaluate(
        alpha0=model.bias.detach().numpy(), alpha=model.weight.detach().numpy(), x=x.numpy()
    )
    np.testing.assert_allclose(torch.sigmoid(model.logits(x)).detach().numpy(), expected)


def test_nade_conditionals_equal_the_registry():
    model = randomise(NADE(7, 5)).double()  # raster order: the registry's order
    x = torch.bernoulli(torch.full((10, 7), 0.5, dtype=torch.float64))
    parameters = {name: p.detach().numpy() for name, p in model.named_parameters()}
    expected = get("nade-conditionals").evaluate(x=x.numpy(), **parameters)
    np.testing.assert_allclose(torch.sigmoid(model.logits(x)).detach().numpy(), expected)


def test_made_masks_equal_the_registry():
    model = MADE(6, (10, 10), seed=7)
    degrees = made_degrees(6, (10, 10), torch.arange(6), torch.Generator().manual_seed(7))
    made_mask = get("made-mask").evaluate
    for layer, (m_in, m_out) in enumerate(zip(degrees[:-1], degrees[1:])):
        np.testing.assert_array_equal(
            model.layers[layer].masks[0].numpy(), made_mask(m_in=m_in, m_out=m_out)
        )
    np.testing.assert_array_equal(
        model.layers[-1].masks[0].numpy(),
        made_mask(m_in=degrees[-1], m_out=degrees[0], output=True),
    )


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_pixelcnn_mask_equals_the_registry_up_to_channel_grouping(mask_type):
    """Ours: channel c has colour c mod 3; the registry: contiguous thirds. Sorting the
    channels by colour turns one into the other."""
    out_channels, in_channels = 9, 6
    ours = causal_mask(out_channels, in_channels, (5, 5), mask_type, colours=3)
    by_colour_out = torch.argsort(torch.arange(out_channels) % 3, stable=True)
    by_colour_in = torch.argsort(torch.arange(in_channels) % 3, stable=True)
    registry = get("pixelcnn-mask").evaluate(
        kernel=5, in_channels=in_channels, out_channels=out_channels, mask_type=mask_type
    )
    np.testing.assert_array_equal(ours[by_colour_out][:, by_colour_in].numpy(), registry)


# --------------------------------------------------------------------------------------------
# Attention


@given(
    batch=st.integers(1, 3),
    heads=st.integers(1, 4),
    length=st.integers(1, 12),
    width=st.integers(1, 16),
)
def test_causal_attention_equals_torch_sdpa(batch, heads, length, width):
    generator = torch.Generator().manual_seed(batch * 1000 + heads * 100 + length + width)
    q, k, v = (
        torch.randn(batch, heads, length, width, generator=generator, dtype=torch.float64)
        for _ in range(3)
    )
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(causal_attention(q, k, v), expected)


def test_causal_attention_on_device_equals_torch_sdpa(device):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 9, 8, device=device) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(causal_attention(q, k, v), expected, atol=1e-5, rtol=1e-5)


def test_single_head_self_attention_equals_the_registry():
    torch.manual_seed(0)
    attention = CausalSelfAttention(TransformerConfig(5, n_head=1, n_embd=6)).double()
    with torch.no_grad():
        attention.qkv.bias.zero_()
        attention.projection.bias.zero_()
    X = torch.randn(1, 5, 6, dtype=torch.float64)
    W_Q, W_K, W_V = (w.T.numpy() for w in attention.qkv.weight.detach().split(6))
    W_O = attention.projection.weight.detach().T.numpy()
    expected = get("attention-causal").evaluate(X=X[0].numpy(), W_Q=W_Q, W_K=W_K, W_V=W_V) @ W_O
    np.testing.assert_allclose(attention(X)[0].detach().numpy(), expected, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Training


TRAINABLE = {
    "fvsbn": lambda: FVSBN(16),
    "nade": lambda: NADE(16, 16),
    "made": lambda: MADE(16, (32, 32), num_masks=2, connectivity_agnostic=True),
    "pixelcnn": lambda: PixelCNN(1, 4, 4, features=16, blocks=1, first_kernel=3),
    "gated-pixelcnn": lambda: GatedPixelCNN(1, 4, 4, features=8, layers=2),
    "pixelrnn": lambda: PixelRNN(1, 4, 4, features=8, layers=1, first_kernel=3),
    "transformer": lambda: PixelTransformer(TransformerConfig(16, n_layer=1, n_head=2, n_embd=16)),
    "wavenet": lambda: WaveNet(16, 8, 8, layers_per_stack=3, stacks=1),
}


@pytest.mark.parametrize("name", TRAINABLE)
def test_loss_goes_down_on_a_fixed_batch_without_nans(name, device):
    torch.manual_seed(0)
    model = TRAINABLE[name]().to(device)
    if name == "wavenet":
        batch = torch.randint(4, (8, 1, 24), device=device) * 3  # few levels in use: learnable
    else:
        image = (torch.arange(16) % 3 == 0).float()  # a fixed pattern plus noise
        flips = torch.bernoulli(torch.full((16, 16), 0.1))
        batch = (image - flips).abs()
        if isinstance(model, PixelCNN | GatedPixelCNN | PixelRNN):
            batch = batch.view(16, 1, 4, 4)
        batch = batch.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(60):
        if isinstance(model, MADE):
            model.set_mask(step)
        loss = -model(batch).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])
