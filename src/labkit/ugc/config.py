"""UGC settings. The paper's exact sizes and forms were not published (README, UGC); the defaults
are the suggested synthetic setting: n=50 creators, m=500 users, d=8, beta grid {0,1,2,5,10,20},
10 environments, quadratic costs c_i*x^2 with c_i ~ U[0.5, 1.5], PPM matching, expected relevance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class EnvConfig:
    source: str = option("synthetic", "synthetic, or a file: relevance matrix users x creators (.npy/.npz/.csv) "
                         "or ratings userId,movieId,rating[,timestamp] (.csv/.dat/u.data)")
    n: int = option(50, "Synthetic: creators (paper: not published; suggested 50)", ge=2)
    m: int = option(500, "Synthetic: users (suggested 500)", ge=1)
    d: int = option(8, "Synthetic: embedding dimension (suggested 8)", ge=1)
    seed: int = option(0, "Environment seed (creator/user embeddings and costs)", ge=0)
    cost_low: float = option(0.5, "Cost coefficients c_i ~ U[cost_low, cost_high] when no costs file", gt=0)
    cost_high: float = option(1.5, "Upper end of the cost coefficient range", gt=0)
    costs: str | None = option(None, "File with one cost coefficient per creator (.npy/.csv), all > 0")
    creators: int = option(50, "Ratings files: creators = this many k-means clusters of item factors", ge=2)
    rank: int = option(16, "Ratings files: matrix-factorisation rank", ge=1)
    reg: float = option(0.1, "Ratings files: L2 regularisation of the factorisation", ge=0)
    als_iters: int = option(15, "Ratings files: alternating least squares iterations", ge=1)


@dataclass
class GameConfig:
    matching: Literal["ppm", "slate"] = option("ppm", "ppm: user j goes to creator i with prob. "
                                               "x_i e^{beta sigma_ij} / sum_k x_k e^{beta sigma_kj} (paper); slate: "
                                               "K creators drawn without replacement from the same weights")
    slate_k: int = option(2, "Slate size K for matching=slate (1 or 2: exact inclusion probabilities)", ge=1, le=2)
    cost_power: float = option(2.0, "Cost family c_i x^p, p >= 1 (default quadratic)", ge=1)
    utility: Literal["relevance", "gumbel"] = option("relevance", "User utility: expected relevance of what "
                                                     "is shown (default), or E[max over the slate of sigma + Gumbel]")


@dataclass
class SolverConfig:
    tol: float = option(1e-10, "Stop when no creator's best response moves by more than this", gt=0)
    max_iter: int = option(5000, "Iteration cap; the solver fails loudly rather than return a non-equilibrium", ge=1)
    max_exploitability: float = option(1e-6, "Fail if any creator could gain more than this by deviating", gt=0)


@dataclass
class OptimConfig:
    lam: float = option(4.0, "lambda in W = U + lambda * V (not published; 4 puts the optimum inside [0, 20] "
                       "on the suggested synthetic setting)", ge=0)
    per_user: bool = option(False, "One beta per user (paper's personalised exploration) instead of one global")
    beta_min: float = option(0.0, "Lower bound of beta", ge=0)
    beta_max: float = option(20.0, "Upper bound of beta", ge=0)
    init_beta: float | None = option(None, "Starting beta (default: the best global beta on the sweep grid)", ge=0)
    steps: int = option(100, "Projected gradient ascent iterations", ge=1)
    step_size: float = option(1.0, "Initial step; backtracking halves it until W increases", gt=0)
    gradient: Literal["exact", "krylov"] = option("exact", "Implicit-function gradient: dense solve of the "
                                                  "n x n system, or GMRES with Jacobian-vector products")


@dataclass
class UgcConfig:
    env: EnvConfig = field(default_factory=EnvConfig)
    game: GameConfig = field(default_factory=GameConfig)
    solver: SolverConfig = field(default_factory=SolverConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    beta: float = option(2.0, "Exploration strength for `equilibrium`", ge=0)
    betas: list[float] = option([0.0, 1.0, 2.0, 5.0, 10.0, 20.0], "Beta grid of `sweep` and the global-beta "
                                "search (suggested {0,1,2,5,10,20})", ge=0)
    seeds: int = option(10, "Independently generated environments in `sweep` (paper: 10)", ge=1)
    lambdas: list[float] = option([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0], "lambda values of `frontier`", ge=0)
    workers: int = option(2, "Parallel environments in `sweep` (threads, or Ray with --ray)", ge=1)
