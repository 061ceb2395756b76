"""The float64 noisy-label logistic toy (README, PDS): d = 20, 400 training examples with 24.5% of the
labels flipped, a clean development set as the target J, T = 200 full-batch gradient steps at eta = 2.

Data-generation details the paper leaves open, chosen here: features x ~ N(0, I_d); a teacher w* ~ N(0, I_d)
scaled to norm 3; clean labels y = sign(x . w*) in {-1, +1}; exactly round(0.245 N) = 98 training labels flipped
(a seeded choice); 200 clean development examples; theta_0 = 0; the logistic loss log(1 + exp(-y x . theta))."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from labkit.pds.solver import Problem


@dataclass
class Toy:
    problem: Problem
    flipped: torch.Tensor  # bool per training example
    x_dev: torch.Tensor
    y_dev: torch.Tensor


def logistic_loss(theta: torch.Tensor, example: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = example
    return F.softplus(-y * (x @ theta))


def make_toy(*, d: int = 20, n: int = 400, dev: int = 200, flip: float = 0.245, steps: int = 200, eta: float = 2.0,
             seed: int = 0) -> Toy:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    w = 3.0 * w / w.norm()
    x = torch.randn(n + dev, d, generator=g, dtype=torch.float64)
    y = torch.sign(x @ w)
    y[y == 0] = 1.0
    x_train, y_train, x_dev, y_dev = x[:n], y[:n].clone(), x[n:], y[n:]
    flipped = torch.zeros(n, dtype=torch.bool)
    flipped[torch.randperm(n, generator=g)[:round(flip * n)]] = True
    y_train[flipped] *= -1

    def target(theta: torch.Tensor) -> torch.Tensor:
        return F.softplus(-y_dev * (x_dev @ theta)).mean()

    problem = Problem(logistic_loss, target, (x_train, y_train), torch.zeros(d, dtype=torch.float64), eta, steps)
    return Toy(problem, flipped, x_dev, y_dev)
