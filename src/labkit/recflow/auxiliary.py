"""The auxiliary ranking loss (the paper's stage-sample family 2): each positive exposure is compared, by BPR,
with up to 10 videos from each of rerank_pos, rerank_neg, rank_pos and rank_neg of its own request (from
``request_id_dict``), weight 0.1 next to the BCE; DSSM reuses its logit.

The candidates come with an explicit validity mask (a padded slot is invalid, every real stage item is valid).
The original masked with column 7 of the stage arrays (effective_view), which is 0 for every unexposed item, so
the loss silently vanished; here an unexposed item counts like any other.
"""

from __future__ import annotations

import numpy as np
import torch

from labkit.recflow.features import ITEM_WIDTH, item_fields

AUX_STAGES = ("rerank_pos", "rerank_neg", "rank_pos", "rank_neg")
PER_STAGE = 10  # paper
WEIGHT = 0.1  # paper
STAGE_FIELDS = {"video_id": 0, "author_id": 1, "duration": 2, "category_level_two": 3, "upload_type": 4,
                "upload_timestamp": 5, "category_level_one": 6}


def aux_candidates(stages: dict[int, dict[str, np.ndarray]], request_ids: np.ndarray, video_ids: np.ndarray,
                   positive: np.ndarray, rng: np.random.Generator, per_stage: int = PER_STAGE
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(items (N, 4 per_stage, 8), valid (N, 4 per_stage)) for N rows; rows that are not positive get no slot.
    The positive video itself is never its own competitor."""
    n, width = len(request_ids), len(AUX_STAGES) * per_stage
    items = np.zeros((n, width, ITEM_WIDTH), dtype=np.int64)
    valid = np.zeros((n, width), dtype=bool)
    for i in np.flatnonzero(positive):
        st = stages.get(int(request_ids[i]), {})
        chosen = []
        for s in AUX_STAGES:
            arr = st.get(s)
            if arr is None or not len(arr):
                continue
            arr = arr[arr[:, 0] != video_ids[i]]
            if len(arr) > per_stage:
                arr = arr[rng.choice(len(arr), per_stage, replace=False)]
            chosen.append(arr)
        if not chosen:
            continue
        arr = np.concatenate(chosen)
        table = {k: arr[:, j] for k, j in STAGE_FIELDS.items()}
        items[i, :len(arr)] = item_fields(table)
        valid[i, :len(arr)] = True
    return torch.as_tensor(items), torch.as_tensor(valid)


def bpr(pos_score: torch.Tensor, cand_score: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of -log sigmoid(s+ - s_j) over the valid (positive, candidate) pairs; 0 when there is none."""
    terms = torch.nn.functional.softplus(cand_score - pos_score.unsqueeze(-1)) * valid
    return terms.sum() / valid.sum().clamp_min(1)
