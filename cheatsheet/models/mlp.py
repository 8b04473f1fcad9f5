"""A multilayer perceptron classifier on the 8x8 digits (sheet section 10; Rumelhart, Hinton and
Williams 1986 for backpropagation).

    a^(l) = W^(l) z^(l-1) + b^(l),   z^(l) = ReLU(a^(l)),   logits = W^(L) z^(L-1) + b^(L),
    loss = cross-entropy(softmax(logits), y) = -log softmax(logits)_y

trained by minibatch gradient descent with the sheet's Adam (`cheatsheet.models.optimizers`,
formula `adam-update`). The backward pass is autograd's; the hand-derived deltas
(formulas `mlp-backward-delta`, `mlp-backward-weights`) are the backprop drills' subject.

`ClassifierExperiment` is shared with the CNN: one train_step is one minibatch step;
evaluate() reports test accuracy and test cross-entropy (nats).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    """64 pixels -> hidden -> hidden -> 10 logits, ReLU between layers."""

    def __init__(self, input_size: int = 64, hidden: int = 128, classes: int = 10, depth: int = 2):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = input_size
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.net(images)
        assert logits.shape == (images.shape[0], self.net[-1].out_features)
        return logits


@dataclass
class ClassifierConfig:
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0  # unused by the sheet's Adam; kept 0 so the update is the sheet's


class ClassifierExperiment:
    """Train any (N, 1, 8, 8) -> logits classifier on `digits`."""

    def __init__(self, context: Any, model: nn.Module, name: str):
        from cheatsheet.datasets import load
        from cheatsheet.models.optimizers import Adam

        self.config = context.settings(ClassifierConfig, name)
        self.name = name
        self.device = torch.device(context.device)
        split = load(context.data, seed=context.seed)
        self.train_x, self.train_y = split.train.to(self.device), split.train_labels.to(self.device)
        self.test_x, self.test_y = split.test.to(self.device), split.test_labels.to(self.device)
        self.model = context.wrap(model.to(self.device))
        self.optimizer = Adam(self.model.parameters(), lr=self.config.lr)
        self.generator = torch.Generator().manual_seed(context.seed)

    def modules(self) -> dict[str, Any]:
        return {"classifier": self.model}

    def optimizers(self) -> dict[str, Any]:
        return {"adam": self.optimizer}

    def train_step(self, step: int) -> dict[str, float]:
        index = torch.randint(0, len(self.train_x), (self.config.batch_size,),
                              generator=self.generator).to(self.device)  # fmt: skip
        self.model.train()
        logits = self.model(self.train_x[index])
        loss = F.cross_entropy(logits, self.train_y[index])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        accuracy = (logits.argmax(1) == self.train_y[index]).float().mean()
        return {"loss": loss.item(), "batch_accuracy": accuracy.item()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        return self.model(images)

    def evaluate(self) -> dict[str, Any]:
        logits = self.predict(self.test_x)
        train_logits = self.predict(self.train_x)
        return {
            "test_accuracy": (logits.argmax(1) == self.test_y).float().mean().item(),
            "test_cross_entropy_nats": F.cross_entropy(logits, self.test_y).item(),
            "train_accuracy": (train_logits.argmax(1) == self.train_y).float().mean().item(),
            "test_examples": len(self.test_y),
        }

    def save_figures(self, out_dir: Path) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        logits = self.predict(self.test_x)
        predicted = logits.argmax(1).cpu()
        truth = self.test_y.cpu()
        confusion = torch.zeros(10, 10, dtype=torch.long)
        confusion.index_put_((truth, predicted), torch.ones_like(truth), accumulate=True)
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
        images = self.test_x[:32].cpu()
        for k in range(32):
            row, col = divmod(k, 8)
            inset = left.inset_axes([col / 8, 1 - (row + 1) / 4, 1 / 8 * 0.95, 1 / 4 * 0.8])
            inset.imshow(images[k, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
            colour = "tab:green" if predicted[k] == truth[k] else "tab:red"
            inset.set_title(f"{int(predicted[k])}", fontsize=8, color=colour, pad=1)
            inset.set_axis_off()
        left.set_axis_off()
        left.set_title("test digits: predicted label (red = wrong)", fontsize=9)
        right.imshow(confusion.numpy(), cmap="Blues")
        for i in range(10):
            for j in range(10):
                if confusion[i, j]:
                    right.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=7)
        right.set_xlabel("predicted")
        right.set_ylabel("true")
        right.set_xticks(range(10))
        right.set_yticks(range(10))
        accuracy = (predicted == truth).float().mean().item()
        right.set_title(f"{self.name}: test accuracy {accuracy:.3f}", fontsize=9)
        figure.tight_layout()
        path = Path(out_dir) / "samples.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return [path]


def make_experiment(context: Any) -> ClassifierExperiment:
    torch.manual_seed(context.seed)
    return ClassifierExperiment(context, MLP(), "MLP")
