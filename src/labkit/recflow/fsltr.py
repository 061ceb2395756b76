"""FS-LTR for the ranking stages (the paper's stage-sample family 3): every training request becomes one list of
its logged items with stage priorities, trained with a pairwise loss.

List (per request, at most 62 items, drawn at random within each group): 6 clicks (exposures with an effective
view, priority 6), 6 other exposures (realshow, 5), then 10 each of rerank_pos (4), rerank_neg (3), rank_pos (4),
rank_neg (3) and coarse_neg (2). A row belongs to the most advanced group its flags allow (the stage flags
nest: an exposed item is also rerank_pos). Exposures with an effective view are not listed again as plain
realshow items (the item would be paired with itself).

Loss: -log sigmoid(s_i - s_j) over the ordered pairs of a list with priority p_i > p_j, weighted, divided by
the number of pairs with a non-zero weight:
- DSSM: every pair weight 1 except those whose lower item is a coarse_neg (weight 0, as the released code);
- DIN (four BPR groups): the higher item's group decides - click 1.0, realshow 0.5, rerank_pos and rank_pos
  0.05, the rest 0.

Lists are trained in batches of requests (the paper does not fix the size; ``batch // 16``: 64 requests for the
paper's 1,024).
"""

from __future__ import annotations

import numpy as np
import torch

from labkit.recflow.data import Table

# (group, cap, priority) in the order a row is classed: the first group whose condition holds
GROUPS = (("click", 6, 6), ("realshow", 6, 5), ("rerank_pos", 10, 4), ("rerank_neg", 10, 3), ("rank_pos", 10, 4),
          ("rank_neg", 10, 3), ("coarse_neg", 10, 2))
LIST_LEN = sum(cap for _, cap, _ in GROUPS)  # 62
DIN_WEIGHTS = {6: 1.0, 5: 0.5, 4: 0.05}  # by the higher item's priority; others 0
COARSE_NEG_WEIGHT = 0.0  # DSSM: pairs against a coarse_neg item (released code)


def row_groups(t: Table) -> np.ndarray:
    """Each row's group index into GROUPS, or -1 (e.g. items dropped at pre-ranking)."""
    shown, ev = t["realshow"] == 1, t["effective_view"] == 1
    conds = [shown & ev, shown, *(t[name] == 1 for name, _, _ in GROUPS[2:])]
    out = np.full(len(shown), -1, dtype=np.int64)
    for g in reversed(range(len(conds))):  # earlier groups win
        out[conds[g]] = g
    return out


def request_lists(t: Table, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(rows (R, 62) of row indices into ``t`` with -1 for empty slots, priorities (R, 62) with 0 there), one list
    per request in request-ID order."""
    group = row_groups(t)
    caps = np.array([cap for _, cap, _ in GROUPS])
    prios = np.array([p for _, _, p in GROUPS])
    idx = np.flatnonzero(group >= 0)
    idx = idx[rng.permutation(len(idx))]
    order = np.lexsort((group[idx], t["request_id"][idx]))  # by request, then group; random within a group
    idx = idx[order]
    key = t["request_id"][idx] * len(GROUPS) + group[idx]
    start = np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]
    rank = np.arange(len(idx)) - np.repeat(start, np.diff(np.r_[start, len(idx)]))
    idx = idx[rank < caps[group[idx]]]
    reqs, first = np.unique(t["request_id"][idx], return_index=True)
    slot = np.arange(len(idx)) - np.repeat(first, np.diff(np.r_[first, len(idx)]))
    which = np.searchsorted(reqs, t["request_id"][idx])
    rows = np.full((len(reqs), LIST_LEN), -1, dtype=np.int64)
    prio = np.zeros((len(reqs), LIST_LEN), dtype=np.int64)
    rows[which, slot] = idx
    prio[which, slot] = prios[group[idx]]
    return rows, prio


def pair_weights(prio: torch.Tensor, model: str) -> torch.Tensor:
    """(B, L, L) weight of the pair (i higher, j lower); 0 where p_i <= p_j or a slot is empty."""
    valid = prio > 0
    higher = (prio.unsqueeze(-1) > prio.unsqueeze(1)) & valid.unsqueeze(-1) & valid.unsqueeze(1)
    w = higher.float()
    if model == "din":
        table = torch.zeros(int(prio.max()) + 1 if prio.numel() else 1, device=prio.device)
        for p, v in DIN_WEIGHTS.items():
            if p < len(table):
                table[p] = v
        w = w * table[prio].unsqueeze(-1)
    else:
        w = w * torch.where(prio == 2, COARSE_NEG_WEIGHT, 1.0).unsqueeze(1)
    return w


def priority_loss(scores: torch.Tensor, prio: torch.Tensor, model: str) -> torch.Tensor:
    """Weighted pairwise logistic loss of (B, L) scores over the pairs ``pair_weights`` allows; 0 with none."""
    w = pair_weights(prio, model)
    terms = torch.nn.functional.softplus(scores.unsqueeze(1) - scores.unsqueeze(-1))  # [i, j]: -log sig(s_i - s_j)
    return (terms * w).sum() / (w > 0).sum().clamp_min(1)
