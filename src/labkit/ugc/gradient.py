"""Implicit-function gradient of the platform objective W = U + lambda V in beta (arXiv:2410.23683,
the bilevel optimisation of its Algorithm 1).

On the active creators (x_i > 0) the equilibrium satisfies G(x, beta) = 0 with
    G_i = sum_j p_ij (1 - p_ij) - x_i c_i'(x_i)          (x_i times the first-order condition),
p_ij the PPM shares. With Q = P o (1 - 2P) and sigma_bar_j = sum_k p_kj sigma_kj:
    dG/dx    = diag(sum_j Q_ij / x_i) - (Q P^T) diag(1/x) - diag(c' + x c''),
    dG_i/dbeta_j = Q_ij (sigma_ij - sigma_bar_j),
    dU/dx_k  = sum_j p_kj (sigma_kj - sigma_bar_j) / x_k,   dU/dbeta_j (direct) = Var_{p_.j}(sigma_.j),
and dW/dbeta = dU/dbeta - v^T dG/dbeta with the adjoint (dG/dx)^T v = dU/dx + lambda: one n x n
solve per gradient (``exact``) or GMRES with O(nm) Jacobian-vector products (``krylov``).
Inactive creators are left out (strict complementarity), otherwise dG/dx would be singular.
"""

from __future__ import annotations

import numpy as np

from labkit.core.errors import ConfigError
from labkit.ugc.game import Game, marginal_cost, marginal_cost_slope, shares, totals, weights


def welfare(relevance: np.ndarray, beta: float | np.ndarray, x: np.ndarray, lam: float, game: Game) -> float:
    u, v = totals(x, weights(relevance, beta, x), relevance, game)
    return u + lam * v


def welfare_gradient(relevance: np.ndarray, costs: np.ndarray, beta: float | np.ndarray, x: np.ndarray,
                     lam: float, game: Game, *, per_user: bool, method: str = "exact") -> np.ndarray:
    """dW/dbeta at the equilibrium x: shape (m,) when per_user, else a 1-element array."""
    if not game.smooth_ppm:
        raise ConfigError("the implicit gradient needs matching=ppm with utility=relevance")
    active = x > 0
    sig = relevance[active]
    xa = x[active]
    p = shares(xa, weights(sig, beta))  # (n_active, m); inactive creators carry no traffic
    sigma_bar = (p * sig).sum(axis=0)  # (m,)
    centred = sig - sigma_bar  # (n_active, m)
    q = p * (1 - 2 * p)
    g_beta = q * centred  # dG/dbeta, (n_active, m)
    direct = (p * sig * centred).sum(axis=0)  # Var_p(sigma) per user, (m,)
    du_dx = (p * centred).sum(axis=1) / xa
    rhs = du_dx + lam
    diag = q.sum(axis=1) / xa - marginal_cost(xa, costs[active], game.cost_power) \
        - xa * marginal_cost_slope(xa, costs[active], game.cost_power)
    if method == "exact":
        jac = np.diag(diag) - (q @ p.T) / xa[None, :]
        adjoint = np.linalg.solve(jac.T, rhs)
    elif method == "krylov":
        adjoint = _gmres_adjoint(diag, q, p, xa, rhs)
    else:
        raise ConfigError(f"optim.gradient must be exact or krylov, got {method!r}")
    grad = direct - adjoint @ g_beta
    return grad if per_user else np.array([grad.sum()])


def _gmres_adjoint(diag: np.ndarray, q: np.ndarray, p: np.ndarray, xa: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve (dG/dx)^T v = rhs with GMRES; (dG/dx)^T u = diag u - (1/x) o (P (Q^T u))."""
    from scipy.sparse.linalg import LinearOperator, gmres

    n = len(xa)
    op = LinearOperator((n, n), matvec=lambda u: diag * u - (p @ (q.T @ u)) / xa, dtype=float)
    sol, info = gmres(op, rhs, rtol=1e-12, atol=0.0, restart=min(n, 50), maxiter=1000)
    if info != 0:
        raise ConfigError(f"GMRES did not converge (info={info}); use optim.gradient=exact")
    return sol
