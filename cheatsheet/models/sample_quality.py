"""Sample-quality measures for models without a tractable likelihood (diffusion, guidance).

- Energy distance (Szekely & Rizzo 2013) between two samples X, Y in R^D:
      E(X, Y) = 2 E||X - Y|| - E||X - X'|| - E||Y - Y'||  >= 0, = 0 iff same distribution.
  We report it with the same measure between held-out data and training data as the floor a
  perfect model would reach at this sample size.
- Digit classifier accuracy: a logistic regression fitted on the training digits labels the
  samples of a class-conditional model; accuracy = how often the sample shows the asked class.
"""

from __future__ import annotations

from typing import Any

import torch


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """The V-statistic 2 mean||x - y|| - mean||x - x'|| - mean||y - y'|| (rows are samples)."""
    x = x.flatten(1).double().cpu()
    y = y.flatten(1).double().cpu()
    cross = torch.cdist(x, y).mean()
    within_x = torch.cdist(x, x).mean()
    within_y = torch.cdist(y, y).mean()
    return float(2 * cross - within_x - within_y)


def fit_digit_classifier(images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> Any:
    """Multinomial logistic regression on flattened [0, 1] digits (sklearn, a few seconds)."""
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression(max_iter=500, C=1.0, random_state=seed)
    classifier.fit(images.flatten(1).cpu().numpy(), labels.cpu().numpy())
    return classifier


def classifier_accuracy(classifier: Any, images: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = classifier.predict(images.flatten(1).clamp(0, 1).cpu().numpy())
    return float((torch.as_tensor(predicted) == labels.cpu()).float().mean())
