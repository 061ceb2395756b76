"""The PMP data-selection solver (Gu et al., ICLR 2025, arXiv:2410.07064, Sec. 2 and Alg. 1) with ``torch.func``.

Training with per-example weights gamma (on the simplex): theta_{t+1} = theta_t - eta * grad L(theta_t, gamma),
L = sum_n gamma_n l_n. Objective: the area A(gamma) = sum_{t=1..T} J(theta_t) under the target loss J.
Co-state, backwards: lambda_T = grad J(theta_T), lambda_t = grad J(theta_t) + lambda_{t+1} - eta H_t lambda_{t+1}
(H_t the Hessian of L at theta_t). The score of example n is

    s_n = eta * sum_{t=0..T-1} <lambda_{t+1}, grad l_n(theta_t)> = -dA/dgamma_n,

so a positive score means more weight on n lowers the area.

- H_t lambda is a forward-over-reverse Hessian-vector product (``jvp`` of ``grad``), never a Hessian;
- <lambda, grad l_n> for all n is a ``vmap`` of single-example JVPs in direction lambda (for language models,
  which batch natively, one JVP of the per-example loss vector): no per-example gradient is materialised;
- for language models, ``chunk`` examples at a time (gradients, HVPs and products are sums over examples, so
  chunking is exact and bounds activation memory);
- theta is kept every ceil(sqrt(T)) steps; the reverse pass recomputes one segment at a time (memory
  O(sqrt(T)) parameter vectors instead of T).

Modes: ``exact`` runs T_o outer epochs, gamma <- Proj_simplex(gamma + alpha s) with the normalised step
alpha = step * (1/N) / max|s| (a raw step can collapse gamma onto a vertex and raise the area), halving the step
whenever the area would rise; ``paper`` is the released pipeline: one epoch from uniform gamma, raw scores,
accumulated only every ``interval``-th step. ``cosine`` normalises each term by |lambda| |grad l_n| (the
magnitude-insensitive variant for noisy labels).

Own code, not a library: no maintained package implements the PMP co-state pass; the sort-based simplex
projection (Duchi et al., 2008) is a few lines and avoids a cvxpy dependency.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.func import grad, jvp, vmap

ExampleLoss = Callable[[torch.Tensor, Any], torch.Tensor]  # (flat theta, one example) -> scalar
TargetLoss = Callable[[torch.Tensor], torch.Tensor]  # flat theta -> scalar J
BatchLoss = Callable[[torch.Tensor, Any], torch.Tensor]  # (flat theta, all examples) -> per-example losses (N,)


@dataclass
class Problem:
    """A proxy training problem on a flat parameter vector: examples batched along dim 0 of ``data``."""

    example_loss: ExampleLoss
    target_loss: TargetLoss
    data: Any  # a tensor or a tuple of tensors, examples along dim 0
    theta0: torch.Tensor
    eta: float
    steps: int
    batch_loss: BatchLoss | None = None  # models that batch natively (LMs): one batched call instead of vmap
    chunk: int | None = None  # with batch_loss: examples per call (bounds activation memory; sums are exact)

    @property
    def n(self) -> int:
        first = self.data[0] if isinstance(self.data, tuple) else self.data
        return int(first.shape[0])

    def train_loss(self, theta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
        return (gamma * self.per_example(theta)).sum()

    def per_example(self, theta: torch.Tensor) -> torch.Tensor:
        if self.batch_loss is not None:
            return torch.cat([self.batch_loss(theta, d) for _, d in self.chunks()])
        return vmap(self.example_loss, in_dims=(None, 0))(theta, self.data)

    def chunks(self) -> list[tuple[slice, Any]]:
        """(slice, data) per chunk of examples: one chunk unless ``chunk`` is set with a batched loss."""
        size = self.chunk if self.batch_loss is not None and self.chunk else self.n
        cut = [slice(i, min(i + size, self.n)) for i in range(0, self.n, size)]
        return [(c, tuple(x[c] for x in self.data) if isinstance(self.data, tuple) else self.data[c]) for c in cut]

    def train_grad(self, theta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
        """grad L(theta, gamma), summed over chunks."""
        if self.batch_loss is None or not self.chunk:
            return grad(self.train_loss)(theta, gamma)
        return sum(grad(lambda th, c=c, d=d: (gamma[c] * self.batch_loss(th, d)).sum())(theta)
                   for c, d in self.chunks())

    def hvp(self, theta: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """H(theta, gamma) v by forward-over-reverse (jvp of grad), summed over chunks."""
        if self.batch_loss is None or not self.chunk:
            return jvp(lambda th: grad(self.train_loss)(th, gamma), (theta,), (v,))[1]
        return sum(jvp(grad(lambda th, c=c, d=d: (gamma[c] * self.batch_loss(th, d)).sum()), (theta,), (v,))[1]
                   for c, d in self.chunks())


def forward(p: Problem, gamma: torch.Tensor, keep_every: int | None = None
            ) -> tuple[list[float], dict[int, torch.Tensor]]:
    """(J(theta_1..T), checkpoints {t: theta_t} every ``keep_every`` steps, theta_0 included)."""
    every = keep_every or max(1, math.ceil(math.sqrt(p.steps)))
    theta, losses, keep = p.theta0.clone(), [], {0: p.theta0.clone()}
    for t in range(p.steps):
        theta = theta - p.eta * p.train_grad(theta, gamma)
        losses.append(float(p.target_loss(theta)))
        if (t + 1) % every == 0:
            keep[t + 1] = theta.clone()
    return losses, keep


def area(p: Problem, gamma: torch.Tensor) -> float:
    return float(sum(forward(p, gamma)[0]))


def example_directional(p: Problem, theta: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """<grad l_n(theta), direction> for every n: vmapped single-example JVPs - or, for a model that batches
    natively, one JVP of the vector of per-example losses (the same numbers: vmap and jvp commute)."""
    if p.batch_loss is not None:
        return torch.cat([jvp(lambda th, d=d: p.batch_loss(th, d), (theta,), (direction,))[1] for _, d in p.chunks()])

    def one(x: Any) -> torch.Tensor:
        return jvp(lambda th: p.example_loss(th, x), (theta,), (direction,))[1]

    return vmap(one)(p.data)


def example_grad_norms(p: Problem, theta: torch.Tensor) -> torch.Tensor:
    """|grad l_n(theta)| for every n (the cosine variant only)."""
    return vmap(lambda x: grad(p.example_loss)(theta, x).norm())(p.data)


@dataclass
class Scores:
    scores: torch.Tensor
    area: float
    target_losses: list[float]
    terms: int  # co-state terms accumulated


def scores(p: Problem, gamma: torch.Tensor | None = None, *, interval: int = 1, cosine: bool = False,
           keep_every: int | None = None) -> Scores:
    """One forward and one reverse pass: the PMP scores s_n (= -dA/dgamma_n when ``interval`` is 1 and
    ``cosine`` is off). ``keep_every`` overrides the sqrt(T) checkpoint spacing."""
    gamma = gamma if gamma is not None else torch.full((p.n,), 1.0 / p.n, dtype=p.theta0.dtype)
    every = keep_every or max(1, math.ceil(math.sqrt(p.steps)))
    losses, keep = forward(p, gamma, every)
    g_target = grad(p.target_loss)

    total = torch.zeros(p.n, dtype=p.theta0.dtype)
    starts = sorted(keep)
    lam: torch.Tensor | None = None
    terms = 0
    for start in reversed(starts):
        end = min(start + every, p.steps)
        if start >= p.steps:
            continue
        segment = [keep[start]]  # theta_start .. theta_end recomputed from the checkpoint
        for _ in range(start, end):
            segment.append(segment[-1] - p.eta * p.train_grad(segment[-1], gamma))
        if lam is None:
            lam = g_target(segment[-1])  # lambda_T
        for t in range(end - 1, start - 1, -1):  # lam holds lambda_{t+1}
            theta_t = segment[t - start]
            if t % interval == 0:
                term = example_directional(p, theta_t, lam)
                if cosine:
                    term = term / (example_grad_norms(p, theta_t) * lam.norm()).clamp_min(1e-12)
                total += p.eta * term
                terms += 1
            if t > 0:  # lambda_t = grad J(theta_t) + lambda_{t+1} - eta H_t lambda_{t+1}
                lam = g_target(theta_t) + lam - p.eta * p.hvp(theta_t, gamma, lam)
    return Scores(total, float(sum(losses)), losses, terms)


def project_simplex(v: torch.Tensor) -> torch.Tensor:
    """Euclidean projection onto {x >= 0, sum x = 1} (sort-based, Duchi et al. 2008)."""
    u, _ = torch.sort(v, descending=True)
    css = torch.cumsum(u, 0) - 1
    idx = torch.arange(1, len(v) + 1, dtype=v.dtype)
    rho = int(torch.nonzero(u - css / idx > 0).max())
    return torch.clamp(v - css[rho] / (rho + 1), min=0)


@dataclass
class OuterResult:
    gamma: torch.Tensor
    areas: list[float] = field(default_factory=list)  # A before the first epoch, then after each
    steps: list[float] = field(default_factory=list)  # the step used each epoch (after any halving)
    scores: list[torch.Tensor] = field(default_factory=list)


def outer_loop(p: Problem, epochs: int, *, step: float = 0.5, max_halvings: int = 20) -> OuterResult:
    """Algorithm 1 with the normalised outer step; the area never increases (a step that would raise it is
    halved; after ``max_halvings`` the epoch keeps gamma)."""
    gamma = torch.full((p.n,), 1.0 / p.n, dtype=p.theta0.dtype)
    out = OuterResult(gamma, [area(p, gamma)])
    for _ in range(epochs):
        s = scores(p, gamma)
        out.scores.append(s.scores)
        alpha = step * (1.0 / p.n) / float(s.scores.abs().max().clamp_min(1e-300))
        for _ in range(max_halvings):
            cand = project_simplex(gamma + alpha * s.scores)
            a = area(p, cand)
            if a <= out.areas[-1]:
                gamma = cand
                break
            alpha /= 2
        else:
            a = out.areas[-1]
        out.areas.append(a)
        out.steps.append(alpha)
    out.gamma = gamma
    return out
