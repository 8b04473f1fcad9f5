"""The autoregressive property, checked by autograd: d logit_d / d x_j == 0 exactly for every
input j that is not before d in the model's order; the PixelCNN blind spot (shown) and the
Gated PixelCNN's lack of one; MADE's mask product; WaveNet's receptive field.

Oracles: torch.autograd (Jacobians and input gradients), a boolean propagation of the kernel
footprints (receptive fields), the registry's `wavenet-receptive-field`.
"""

from __future__ import annotations

import pytest
import torch

from cheatsheet.models.fvsbn import FVSBN
from cheatsheet.models.made import MADE
from cheatsheet.models.nade import NADE
from cheatsheet.models.pixelcnn import GatedPixelCNN, PixelCNN, raster_order
from cheatsheet.models.pixelrnn import PixelRNN
from cheatsheet.models.transformer import PixelTransformer, TransformerConfig
from cheatsheet.models.wavenet import WaveNet


def jacobian(function, x: torch.Tensor) -> torch.Tensor:
    """(D_out, D_in) sum of |per-example Jacobians| of a (B, ...) -> (B, ...) map over a batch
    (several inputs, so that a ReLU that happens to be off cannot hide a connection)."""
    dims = x[0].numel()
    total = torch.zeros(dims, dims, dtype=x.dtype, device=x.device)
    for example in x.split(1):
        matrix = torch.autograd.functional.jacobian(function, example)
        total += matrix.reshape(dims, dims).abs()
    return total


def assert_autoregressive(matrix: torch.Tensor, order: torch.Tensor) -> None:
    """Output d may depend on input j only if order[j] < order[d]; something must depend."""
    allowed = order[None, :] < order[:, None]  # [d, j]
    leaks = (matrix != 0) & ~allowed
    assert not leaks.any(), f"outputs see the present or future: {leaks.nonzero()[:5].tolist()}"
    last = int(order.argmax())
    assert (matrix[last] != 0).any(), "the last output depends on nothing: a vacuous model"


def _seeded(model: torch.nn.Module, device: str) -> torch.nn.Module:
    return model.double().to(device)


VECTOR_MODELS = {
    "fvsbn": lambda: FVSBN(6),
    "nade-raster": lambda: NADE(6, 8),
    "nade-random-order": lambda: NADE(6, 8, order="random", seed=3),
    "made-raster": lambda: MADE(6, (16, 16)),
    "made-random-order": lambda: MADE(6, (16, 16), order="random", seed=1),
    "transformer": lambda: PixelTransformer(TransformerConfig(6, n_layer=2, n_head=2, n_embd=8)),
}


@pytest.mark.parametrize("name", VECTOR_MODELS)
def test_vector_models_are_autoregressive(name, device):
    torch.manual_seed(0)
    model = _seeded(VECTOR_MODELS[name](), device)
    if isinstance(model, FVSBN):  # its zero init would make the check vacuous
        torch.nn.init.normal_(model.weight)
    x = torch.rand(4, 6, dtype=torch.float64, device=device)
    order = torch.empty(6, dtype=torch.long)
    if isinstance(model, NADE):
        order[model.permutation.cpu()] = torch.arange(6)
    elif isinstance(model, MADE):
        order[model.orderings[0].cpu()] = torch.arange(6)
    else:
        order = torch.arange(6)
    assert_autoregressive(jacobian(model.logits, x).cpu(), order)


@pytest.mark.parametrize(
    "options",
    [
        {"num_masks": 4, "order_agnostic": True},
        {"num_masks": 4, "connectivity_agnostic": True},
        {"num_masks": 3, "order_agnostic": True, "connectivity_agnostic": True},
    ],
)
def test_made_every_mask_set_is_autoregressive_in_its_own_order(options):
    torch.manual_seed(0)
    model = MADE(7, (20, 20), seed=5, **options).double()
    x = torch.rand(4, 7, dtype=torch.float64)
    orderings = set()
    for k in range(model.num_masks):
        model.set_mask(k)
        order = torch.empty(7, dtype=torch.long)
        order[model.orderings[k]] = torch.arange(7)
        orderings.add(tuple(model.orderings[k].tolist()))
        assert_autoregressive(jacobian(model.logits, x), order)
    if options.get("order_agnostic"):
        assert len(orderings) > 1, "order-agnostic training must use several orderings"


@pytest.mark.parametrize("num_masks, agnostic", [(1, {}), (5, {"order_agnostic": True})])
def test_made_mask_product_is_strictly_lower_triangular_in_the_ordering(num_masks, agnostic):
    model = MADE(9, (30, 25, 30), num_masks=num_masks, seed=2, **agnostic)
    for k in range(num_masks):
        ordering = model.orderings[k]
        # Rows and columns in generation order: entry [a, b] = paths from x_(b) to x_hat_(a).
        product = model.connectivity(k)[ordering][:, ordering]
        assert torch.equal(product, torch.tril(product, diagonal=-1))
        # Not vacuous: most allowed connections exist with hidden layers this wide.
        assert (product != 0).sum() > 0.5 * 9 * 8 / 2


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"order": "random"},
        {"num_masks": 3, "order_agnostic": True, "connectivity_agnostic": True},
    ],
)
def test_made_direct_connection_keeps_every_mask_set_autoregressive(options):
    """The direct input-to-output layer (Germain et al. 2015, section 4) is masked strictly
    lower-triangular in each mask set's ordering: the autograd Jacobian of the logits (direct
    weights made non-zero, else the check would be vacuous) never leaks, and the direct path
    alone (hidden path zeroed) reaches every allowed pair, as an FVSBN does."""
    torch.manual_seed(0)
    model = MADE(7, (20, 20), seed=5, direct=True, **options).double()
    torch.nn.init.normal_(model.direct.weight)
    x = torch.rand(4, 7, dtype=torch.float64)
    for k in range(model.num_masks):
        model.set_mask(k)
        assert model.direct.mask_index == k
        order = torch.empty(7, dtype=torch.long)
        order[model.orderings[k]] = torch.arange(7)
        assert_autoregressive(jacobian(model.logits, x), order)
    with torch.no_grad():
        model.layers[-1].weight.zero_()  # only the direct path is left
    for k in range(model.num_masks):
        model.set_mask(k)
        order = torch.empty(7, dtype=torch.long)
        order[model.orderings[k]] = torch.arange(7)
        allowed = order[None, :] < order[:, None]
        assert torch.equal(jacobian(model.logits, x) != 0, allowed)


def test_made_direct_connection_starts_at_plain_made():
    """Zero-initialised, the direct layer changes nothing until it is trained."""
    torch.manual_seed(0)
    plain = MADE(6, (16, 16), num_masks=2, order_agnostic=True, seed=3)
    torch.manual_seed(0)
    direct = MADE(6, (16, 16), num_masks=2, order_agnostic=True, seed=3, direct=True)
    x = torch.bernoulli(torch.full((5, 6), 0.5))
    assert torch.equal(plain.log_prob_mixture(x), direct.log_prob_mixture(x))
    assert direct.direct.bias is None


IMAGE_MODELS = {
    "pixelcnn": lambda c: PixelCNN(c, 3, 3, features=12, blocks=2, first_kernel=3),
    "gated-pixelcnn": lambda c: GatedPixelCNN(c, 3, 3, features=12, layers=3),
    "pixelrnn": lambda c: PixelRNN(c, 3, 3, features=12, layers=2, first_kernel=3),
}


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_image_models_follow_raster_order_and_rgb_within_a_pixel(name, channels, device):
    torch.manual_seed(0)
    model = _seeded(IMAGE_MODELS[name](channels), device)
    x = torch.rand(4, channels, 3, 3, dtype=torch.float64, device=device)
    matrix = jacobian(model.logits, x).cpu()
    order = raster_order(channels, 3, 3)
    assert_autoregressive(matrix, order)
    if channels == 3:  # B of a pixel sees R and G of the same pixel; R sees neither
        index = lambda c: int((torch.arange(27).view(3, 3, 3))[c, 1, 1])  # centre pixel
        assert matrix[index(2), index(0)] != 0 and matrix[index(2), index(1)] != 0
        assert matrix[index(1), index(0)] != 0
        assert matrix[index(0), index(1)] == 0 and matrix[index(0), index(2)] == 0


def test_transformer_causality_in_the_embedding_space():
    """Position t's output reads embeddings 0..t only (BOS and x_1..x_t)."""
    torch.manual_seed(0)
    config = TransformerConfig(5, n_layer=2, n_head=2, n_embd=8)
    model = PixelTransformer(config).double()
    h = torch.randn(1, 5, 8, dtype=torch.float64)

    def through_blocks(embeddings):
        for block in model.blocks:
            embeddings = block(embeddings)
        return model.head(model.ln_f(embeddings)).squeeze(-1)

    matrix = torch.autograd.functional.jacobian(through_blocks, h)[0, :, 0]  # (T, T, D)
    influence = matrix.abs().sum(-1)
    assert torch.equal(influence != 0, torch.ones(5, 5, dtype=torch.bool).tril())


@pytest.mark.parametrize("stacks, layers", [(1, 2), (2, 3)])
def test_wavenet_is_causal_with_the_registry_receptive_field(stacks, layers, device):
    from formulas import get

    torch.manual_seed(0)
    model = _seeded(WaveNet(4, 6, 8, layers_per_stack=layers, stacks=stacks), device)
    length = model.receptive_field + 6
    x = torch.rand(1, 4, length, dtype=torch.float64, device=device)
    matrix = torch.autograd.functional.jacobian(model.logits, x)[0, :, :, 0]  # (K, T, K, T)
    influence = (matrix.abs().sum((0, 2)) != 0).cpu()  # [t_out, t_in]
    t_out, t_in = torch.meshgrid(torch.arange(length), torch.arange(length), indexing="ij")
    lag = t_out - t_in
    # Causal, and exactly the receptive field: the input conv (dilation 1) plus the blocks.
    dilations = [1] + [2**layer for _ in range(stacks) for layer in range(layers)]
    field = int(get("wavenet-receptive-field").evaluate(kernel=2, dilations=dilations))
    assert model.receptive_field == field
    assert torch.equal(influence, (lag >= 1) & (lag <= field))


# --------------------------------------------------------------------------------------------
# Blind spot


def reachable_pixels(footprints: list[torch.Tensor], size: int, row: int, col: int):
    """Pixels that can influence (row, col) through the given kernels (last layer first):
    a boolean dilation by each footprint, an oracle independent of the network's weights."""
    reached = torch.zeros(size, size, dtype=torch.bool)
    reached[row, col] = True
    for footprint in footprints:
        half_h, half_w = footprint.shape[0] // 2, footprint.shape[1] // 2
        grown = torch.zeros_like(reached)
        for i, j in reached.nonzero().tolist():
            for a, b in footprint.nonzero().tolist():
                source = (i + a - half_h, j + b - half_w)
                if 0 <= source[0] < size and 0 <= source[1] < size:
                    grown[source] = True
        reached = grown
    return reached


def input_gradient_support(model, size: int, row: int, col: int) -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.rand(16, 1, size, size, dtype=torch.float64, requires_grad=True)
    model.logits(x)[:, 0, row, col].sum().backward()
    return x.grad.abs().sum(0)[0] != 0


SIZE, ROW, COL, LAYERS = 9, 5, 4, 3


def earlier_in_window() -> torch.Tensor:
    """Earlier pixels (raster order) inside the LAYERS x (2 LAYERS + 1) receptive-field window
    of three 3x3 layers above and beside (ROW, COL)."""
    i, j = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    in_window = (ROW - i <= LAYERS) & ((j - COL).abs() <= LAYERS)
    earlier = (i < ROW) | ((i == ROW) & (j < COL))
    return in_window & earlier


def test_plain_pixelcnn_has_a_blind_spot_with_exactly_zero_gradient():
    torch.manual_seed(0)
    model = PixelCNN(1, SIZE, SIZE, features=8, blocks=LAYERS - 1, first_kernel=3, residual=False)
    model = model.double()
    support = input_gradient_support(model, SIZE, ROW, COL)
    mask_a = model.input_conv.mask[0, 0]
    mask_b = model.blocks[0][0].mask[0, 0]
    expected = reachable_pixels([mask_b] * (LAYERS - 1) + [mask_a], SIZE, ROW, COL)
    assert torch.equal(support, expected)
    blind_spot = earlier_in_window() & ~support
    # The textbook picture: above-right of the pixel, e.g. one row up and two columns right.
    assert blind_spot[ROW - 1, COL + 2] and blind_spot[ROW - 2, COL + 3]
    assert blind_spot.sum() >= 3


def test_gated_pixelcnn_sees_every_earlier_pixel_of_its_receptive_field():
    torch.manual_seed(0)
    model = GatedPixelCNN(1, SIZE, SIZE, features=8, layers=LAYERS, kernel_size=3).double()
    support = input_gradient_support(model, SIZE, ROW, COL)
    assert torch.equal(support, earlier_in_window())
