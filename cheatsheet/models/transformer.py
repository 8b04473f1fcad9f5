"""An autoregressive transformer over pixels (Vaswani et al., "Attention Is All You Need", 2017;
decoder-only as in GPT, laid out like karpathy/nanoGPT's model.py).

A binarised 8x8 digit is a sequence of 64 tokens in raster order. The model reads
[BOS, x_1, ..., x_63] and predicts x_1, ..., x_64, so position t's output is p(x_{t+1} | x_<=t)
and log p(x) = sum_t log p(x_t | x_<t) (teacher forcing at training, sequential sampling).

Causal self-attention (sheet section 3.1), per head with d = D / h:
    Q = X W_Q,  K = X W_K,  V = X W_V
    Attention(X) = softmax(Q K^T / sqrt(d) + M) V,   M[t, s] = 0 if s <= t else -inf
the mask M keeps position t from looking into the future (registry `attention-causal`,
`causal-mask`). The sheet scales by sqrt(D); with
h heads the scale is the per-head width d (Vaswani et al., eq. 1). `causal_attention` spells
this out and is checked against torch's scaled_dot_product_attention(is_causal=True).
Multi-head attention concatenates the h heads and projects with W_O (`multi-head-attention`);
a block is x + attn(LN(x)) then x + MLP(LN(x)) (pre-norm, as GPT-2); positions are learned
embeddings.

The token embedding of a binary pixel x_t is (1 - x_t) e_0 + x_t e_1, which is the embedding
lookup on {0, 1} and differentiable in x, so causality is checked by autograd on the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cheatsheet.models.autoregressive_common import (
    BinaryAutoregressiveExperiment,
    bernoulli_log_prob,
    data_dims,
)
from cheatsheet.runs.config import param
from cheatsheet.runs.protocol import RunContext


@dataclass
class TransformerRunConfig:
    n_layer: int = param(3, "transformer blocks")
    n_head: int = param(4, "attention heads per block")
    n_embd: int = param(64, "embedding width D")
    dropout: float = param(0.0, "dropout in attention and MLP")
    lr: float = param(2e-3, "Adam learning rate")
    batch_size: int = param(64, "digits per step")
    weight_decay: float = param(0.0, "Adam weight decay")
    samples: int = param(64, "samples drawn for samples.png")


@dataclass
class TransformerConfig:
    sequence_length: int = 64
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d) + M) V over (..., T, d) tensors, M the causal -inf mask."""
    length, head_width = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(head_width)  # (..., T, T)
    future = torch.ones(length, length, dtype=torch.bool, device=q.device).triu(diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)  # W_Q, W_K, W_V side by side
        self.projection = nn.Linear(config.n_embd, config.n_embd)  # W_O
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        # (B, T, D) -> (B, h, T, d): each head attends in its own d-dimensional subspace.
        q, k, v = (t.view(batch, length, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        y = causal_attention(q, k, v)
        y = y.transpose(1, 2).reshape(batch, length, width)  # concatenate the heads
        return self.dropout(self.projection(y))


class MLP(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.up = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.down = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(x))))


class Block(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attention = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class PixelTransformer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(3, config.n_embd)  # pixel 0, pixel 1, BOS
        self.position_embedding = nn.Embedding(config.sequence_length, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, 1)  # the Bernoulli logit of the next pixel
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:  # GPT-2's N(0, 0.02)
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T) pixels in {0, 1} (or [0, 1]) -> (B, T) logits of p(x_t = 1 | x_<t)."""
        batch, length = x.shape
        e_0, e_1, bos = self.token_embedding.weight
        pixels = (1 - x[:, :-1, None]) * e_0 + x[:, :-1, None] * e_1  # x_1 .. x_{T-1}
        tokens = torch.cat([bos.expand(batch, 1, -1), pixels], dim=1)  # BOS, x_1 .. x_{T-1}
        h = tokens + self.position_embedding.weight[:length]
        for block in self.blocks:
            h = block(h)
        logits = self.head(self.ln_f(h)).squeeze(-1)
        assert logits.shape == x.shape
        return logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, one per example."""
        return bernoulli_log_prob(self.logits(x), x)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        length = self.config.sequence_length
        x = self.head.weight.new_zeros(n, length)
        for t in range(length):  # logits at t only read x_<t, so the zeros after t are unseen
            x[:, t] = torch.bernoulli(torch.sigmoid(self.logits(x)[:, t]))
        return x


def make_experiment(ctx: RunContext) -> BinaryAutoregressiveExperiment:
    run = ctx.settings(TransformerRunConfig, "transformer")
    config = TransformerConfig(
        sequence_length=data_dims(ctx),
        n_layer=run.n_layer,
        n_head=run.n_head,
        n_embd=run.n_embd,
        dropout=run.dropout,
    )
    return BinaryAutoregressiveExperiment(
        ctx,
        PixelTransformer(config),
        title="Transformer",
        flatten=True,
        learning_rate=run.lr,
        batch_size=run.batch_size,
        weight_decay=run.weight_decay,
        figure_samples=run.samples,
    )
