"""Occupancy Networks: learning 3D reconstruction in function space.

Mescheder, Oechsle, Niemeyer, Nowozin, Geiger, CVPR 2019.

The network f_theta(p, x) -> [0, 1] is the probability that the point p is inside the object
observed as x (here: a sparse, noisy point cloud of the object). Architecture (paper sec. 3.3 and
supplementary):
- encoder: a ResNet PointNet, per-point fully connected ResNet blocks with max-pooling whose
  pooled feature is concatenated back to every point, then a final max-pool to the code c;
- decoder: the point p through a fully connected ResNet whose normalisation layers are
  conditional batch normalisation (CBN), BN(h) * gamma(c) + beta(c), so c modulates every block;
  the output is an occupancy logit.
Training (sheet 8.1.1, from watertight meshes): sample points p_ij in the bounding volume, label
them o_ij in {0, 1} from the ground truth shape, minimise the binary cross-entropy
    L = sum_j BCE(f_theta(p_ij, x_i), o_ij)                         (formula occupancy-loss)
Inference: extract the 0.5-level set (logit 0) by marching cubes (meshing.py).
Metric: volumetric IoU against the true shape on held-out shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from cheatsheet.implicit import shapes as shape_lib
from cheatsheet.runs.config import param


@dataclass
class OccupancyConfig:
    train_shapes: int = param(24, "shapes in the training family")
    test_shapes: int = param(6, "unseen shapes for the test IoU")
    c_dim: int = param(64, "size of the shape code c")
    hidden: int = param(64, "units of the occupancy decoder")
    lr: float = param(3e-3, "Adam learning rate")
    eval_points: int = param(50_000, "points for the volumetric IoU")
    mesh_resolution: int = param(40, "marching-cubes grid for the figure")


# --------------------------------------------------------------------------------------------
# Encoder: ResNet PointNet


class ResnetBlockFC(nn.Module):
    def __init__(self, in_dim: int, out_dim: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or out_dim
        self.fc_0 = nn.Linear(in_dim, hidden)
        self.fc_1 = nn.Linear(hidden, out_dim)
        self.shortcut = nn.Linear(in_dim, out_dim, bias=False) if in_dim != out_dim else None
        nn.init.zeros_(self.fc_1.weight)  # each block starts as the identity (the paper's init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dx = self.fc_1(F.relu(self.fc_0(F.relu(x))))
        return (x if self.shortcut is None else self.shortcut(x)) + dx


class ResnetPointNet(nn.Module):
    """x [B, T, 3] point cloud -> c [B, c_dim], invariant to the order of the points."""

    def __init__(self, c_dim: int = 64, hidden: int = 64, blocks: int = 3):
        super().__init__()
        self.fc_pos = nn.Linear(3, 2 * hidden)
        self.blocks = nn.ModuleList([ResnetBlockFC(2 * hidden, hidden) for _ in range(blocks)])
        self.fc_c = nn.Linear(hidden, c_dim)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        net = self.fc_pos(points)
        for index, block in enumerate(self.blocks):
            net = block(net)
            if index < len(self.blocks) - 1:
                pooled = net.max(dim=1, keepdim=True).values.expand_as(net)
                net = torch.cat([net, pooled], dim=-1)
        return self.fc_c(F.relu(net.max(dim=1).values))


# --------------------------------------------------------------------------------------------
# Decoder: ResNet with conditional batch normalisation


class ConditionalBatchNorm(nn.Module):
    """BN(h) * gamma(c) + beta(c); gamma starts at 1 and beta at 0 (plain BN at init)."""

    def __init__(self, c_dim: int, features: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(features, affine=False)
        self.gamma = nn.Linear(c_dim, features)
        self.beta = nn.Linear(c_dim, features)
        nn.init.zeros_(self.gamma.weight)
        nn.init.ones_(self.gamma.bias)
        nn.init.zeros_(self.beta.weight)
        nn.init.zeros_(self.beta.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        # h [B, T, F] -> BN over the feature channels, statistics over all B*T points
        normed = self.bn(h.transpose(1, 2)).transpose(1, 2)
        return normed * self.gamma(c)[:, None] + self.beta(c)[:, None]


class CBNBlock(nn.Module):
    def __init__(self, c_dim: int, hidden: int):
        super().__init__()
        self.bn_0, self.bn_1 = (
            ConditionalBatchNorm(c_dim, hidden),
            ConditionalBatchNorm(c_dim, hidden),
        )
        self.fc_0, self.fc_1 = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        dh = self.fc_0(F.relu(self.bn_0(h, c)))
        dh = self.fc_1(F.relu(self.bn_1(dh, c)))
        return h + dh


class OccupancyNetwork(nn.Module):
    """f_theta(p, x): logits of p(o = 1 | p, x) for query points p [B, T, 3] and clouds x."""

    def __init__(self, c_dim: int = 64, hidden: int = 64, blocks: int = 3):
        super().__init__()
        self.encoder = ResnetPointNet(c_dim, hidden)
        self.fc_p = nn.Linear(3, hidden)
        self.fc_c = nn.Linear(c_dim, hidden)
        self.blocks = nn.ModuleList([CBNBlock(c_dim, hidden) for _ in range(blocks)])
        self.bn_out = ConditionalBatchNorm(c_dim, hidden)
        self.fc_out = nn.Linear(hidden, 1)

    def decode(self, p: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.fc_p(p) + self.fc_c(c)[:, None]
        for block in self.blocks:
            h = block(h, c)
        logits = self.fc_out(F.relu(self.bn_out(h, c))).squeeze(-1)
        assert logits.shape == p.shape[:2], logits.shape
        return logits

    def forward(self, p: torch.Tensor, cloud: torch.Tensor) -> torch.Tensor:
        return self.decode(p, self.encoder(cloud))


def occupancy_loss(logits: torch.Tensor, occupancy: torch.Tensor) -> torch.Tensor:
    """Mean BCE of sigmoid(logits) against o in {0, 1} (formula occupancy-loss)."""
    return F.binary_cross_entropy_with_logits(logits, occupancy)


# --------------------------------------------------------------------------------------------
# Data: a family of analytic shapes, each with an observed cloud and labelled query points


@dataclass
class ShapeSet:
    shapes: list[shape_lib.Shape]
    clouds: torch.Tensor  # [S, T_cloud, 3] noisy surface samples (the observation x)
    points: torch.Tensor  # [S, P, 3] query points
    occupancy: torch.Tensor  # [S, P] labels


def make_shape_set(
    shapes: list[shape_lib.Shape],
    cloud_size: int = 256,
    pool: int = 4096,
    cloud_noise: float = 0.01,
    seed: int = 0,
) -> ShapeSet:
    generator = torch.Generator().manual_seed(seed)
    clouds, points, labels = [], [], []
    for shape in shapes:
        cloud = shape.surface_points(cloud_size, generator=generator)
        clouds.append(cloud + cloud_noise * torch.randn(cloud.shape, generator=generator))
        # half uniform in the box, half near the surface, where the boundary is decided
        query = torch.cat(
            [
                shape_lib.sample_space(pool // 2, 1.0, generator=generator),
                shape_lib.sample_near_surface(shape, pool - pool // 2, 0.05, generator=generator),
            ]
        )
        points.append(query)
        labels.append(shape.occupancy(query))
    return ShapeSet(shapes, torch.stack(clouds), torch.stack(points), torch.stack(labels))


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class OccupancyExperiment:
    ctx: Any
    model: OccupancyNetwork
    train_model: nn.Module
    optimizer: torch.optim.Optimizer
    train: ShapeSet
    test: ShapeSet
    shapes_per_batch: int = 8
    points_per_shape: int = 512
    eval_points: int = 50_000
    mesh_resolution: int = 40

    def modules(self) -> dict[str, nn.Module]:
        return {"occupancy_network": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"occupancy_network": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        self.model.train()
        device = self.ctx.device
        shape_index = torch.randint(0, len(self.train.shapes), (self.shapes_per_batch,))
        point_index = torch.randint(0, self.train.points.shape[1], (self.points_per_shape,))
        p = self.train.points[shape_index][:, point_index].to(device)
        o = self.train.occupancy[shape_index][:, point_index].to(device)
        cloud = self.train.clouds[shape_index].to(device)
        loss = occupancy_loss(self.train_model(p, cloud), o)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def _inside_fn(self, shape_set: ShapeSet, index: int):
        """-logit as a function of points: negative inside, like an SDF (level 0 = p 0.5)."""
        device = self.ctx.device
        c = self.model.encoder(shape_set.clouds[index : index + 1].to(device))
        return lambda p: -self.model.decode(p[None], c)[0]

    @torch.no_grad()
    def recalibrate_batch_norm(self, batches: int = 20) -> None:
        """Precise BN statistics: the running averages lag behind the fast-changing weights of a
        short run, so re-estimate them (equal-weight average) with the final weights."""
        norms = [m for m in self.model.modules() if isinstance(m, nn.BatchNorm1d)]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative average
        self.model.train()
        device = self.ctx.device
        for _ in range(batches):
            shape_index = torch.randint(0, len(self.train.shapes), (self.shapes_per_batch,))
            point_index = torch.randint(0, self.train.points.shape[1], (self.points_per_shape,))
            p = self.train.points[shape_index][:, point_index].to(device)
            self.model(p, self.train.clouds[shape_index].to(device))
        for norm in norms:
            norm.momentum = 0.1

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        from cheatsheet.implicit.meshing import volumetric_iou

        self.recalibrate_batch_norm()
        self.model.eval()
        device = self.ctx.device
        ious = [
            volumetric_iou(
                self._inside_fn(self.test, i), shape.sdf, n=self.eval_points, device=device
            )
            for i, shape in enumerate(self.test.shapes)
        ]
        train_ious = [
            volumetric_iou(
                self._inside_fn(self.train, i), shape.sdf, n=self.eval_points, device=device
            )
            for i, shape in enumerate(self.train.shapes[:4])
        ]
        return {
            "test_iou": sum(ious) / len(ious),
            "train_iou": sum(train_ious) / len(train_ious),
            "test_iou_per_shape": {
                f"{s.kind}{i}": v for i, (s, v) in enumerate(zip(self.test.shapes, ious))
            },
            "measure": "volumetric IoU of {p(o=1) > 0.5} vs the analytic shape, held-out shapes",
        }

    @torch.no_grad()
    def save_figures(self, out_dir: Path) -> list[Path]:
        from cheatsheet.implicit.meshing import marching_cubes, save_mesh_figure, write_obj

        self.model.eval()
        device = self.ctx.device
        panels, paths = [], []
        for i, shape in enumerate(self.test.shapes[:3]):
            mesh = marching_cubes(
                self._inside_fn(self.test, i), self.mesh_resolution, device=device
            )
            panels.append((f"predicted {shape.kind}", mesh))
            if mesh is not None:
                paths.append(write_obj(mesh, Path(out_dir) / f"mesh_{i}_{shape.kind}.obj"))
        truth = marching_cubes(self.test.shapes[0].sdf, self.mesh_resolution)
        panels.append((f"true {self.test.shapes[0].kind}", truth))
        paths.append(save_mesh_figure(panels, Path(out_dir) / "samples.png"))
        return paths


def make_experiment(ctx) -> OccupancyExperiment:
    config = ctx.settings(OccupancyConfig, "occupancy")
    family = ctx.data
    train_shapes = shape_lib.shape_family(family, config.train_shapes, ctx.seed)
    test_shapes = shape_lib.shape_family(family, config.test_shapes, ctx.seed + 1)
    model = OccupancyNetwork(c_dim=config.c_dim, hidden=config.hidden).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    return OccupancyExperiment(
        ctx=ctx,
        model=model,
        train_model=ctx.wrap(model),
        optimizer=optimizer,
        train=make_shape_set(train_shapes, seed=ctx.seed),
        test=make_shape_set(test_shapes, seed=ctx.seed + 1),
        eval_points=config.eval_points,
        mesh_resolution=config.mesh_resolution,
    )
