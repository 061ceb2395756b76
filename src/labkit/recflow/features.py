"""Model inputs from RecFlow tables (IDs already shifted by the loaders): the user side (time of request, 5 user
fields, the request's history) and the item side (5 ID fields and two buckets), as integer tensors.

- time: weekday, hour, minute of ``request_timestamp`` (ms, UTC);
- item: the 5 item IDs and weekday, hour, minute of ``upload_timestamp`` (s, UTC) - the released models' 8 item
  fields, all of them columns of the official test tables (which carry no ``duration``);
- history: the (50, 5) item fields of the request's last 50 effective views and a validity mask (padding rows
  never count: ``history_valid``), looked up per row by request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from labkit.recflow.data import Table, history_valid

USER_FIELDS = ["user_id", "device_id", "age", "gender", "province"]
ITEM_FIELDS = ["video_id", "author_id", "category_level_two", "category_level_one", "upload_type"]
SEQ_ITEM_COLS = [0, 1, 2, 3, 4]  # the history's video, author, category two, category one, upload type
ITEM_WIDTH = len(ITEM_FIELDS) + 3  # + upload weekday, hour, minute
TIME_SIZES = (7, 24, 60)


def time_fields(seconds: np.ndarray) -> np.ndarray:
    """(N, 3) weekday, hour, minute of Unix seconds (UTC; 1970-01-01 was a Thursday)."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.stack([(s // 86400 + 3) % 7, (s // 3600) % 24, (s // 60) % 60], axis=1)


def item_fields(t: Table) -> np.ndarray:
    """(N, 8): the five item IDs and the upload time's weekday, hour and minute."""
    return np.concatenate([np.stack([t[f] for f in ITEM_FIELDS], axis=1), time_fields(t["upload_timestamp"])], 1)


@dataclass
class Batchable:
    """Row features plus per-request histories, indexed by row so that memory stays per request."""

    user: torch.Tensor  # (N, 8): weekday, hour, minute, 5 user fields
    item: torch.Tensor  # (N, 8)
    label: torch.Tensor  # (N,) float
    request_row: torch.Tensor  # (N,) index into hist
    hist: torch.Tensor  # (R, 50, 5)
    hist_mask: torch.Tensor  # (R, 50) bool
    request_id: np.ndarray  # (N,)
    ctx: torch.Tensor | None = None  # (R, 50, 10, 5): rank_pos items of each behaviour's own request
    ctx_mask: torch.Tensor | None = None  # (R, 50, 10) bool

    def __len__(self) -> int:
        return len(self.label)

    def batch(self, idx: torch.Tensor) -> dict[str, torch.Tensor]:
        r = self.request_row[idx]
        out = {"user": self.user[idx], "item": self.item[idx], "label": self.label[idx], "hist": self.hist[r],
               "hist_mask": self.hist_mask[r]}
        if self.ctx is not None and self.ctx_mask is not None:
            out["ctx"], out["ctx_mask"] = self.ctx[r], self.ctx_mask[r]
        return out


def on(b: dict[str, torch.Tensor], device: torch.device | str) -> dict[str, torch.Tensor]:
    """A batch on the model's device (features are built and indexed on the CPU)."""
    return {k: v.to(device, non_blocking=True) for k, v in b.items()}


CTX_ITEMS = 10  # paper: up to 10 rank_pos videos of each behaviour's original request
CTX_COLS = [0, 1, 3, 6, 4]  # stage array columns of video, author, category two, category one, upload type


def add_context(feats: Batchable, hist_requests: np.ndarray, hist_valid: np.ndarray,
                ubm: dict[int, dict[str, np.ndarray]]) -> Batchable:
    """Attach, to every valid behaviour, up to 10 rank_pos videos of the request it came from (``ubm``: the
    day's ``ubm_seq_request_id_dict``, IDs shifted); behaviours whose request is unknown get none."""
    r, n = hist_requests.shape
    ctx = np.zeros((r, n, CTX_ITEMS, len(CTX_COLS)), dtype=np.int64)
    mask = np.zeros((r, n, CTX_ITEMS), dtype=bool)
    for i, j in zip(*np.nonzero(hist_valid), strict=True):
        arr = ubm.get(int(hist_requests[i, j]), {}).get("rank_pos")
        if arr is not None and len(arr):
            arr = arr[:CTX_ITEMS, CTX_COLS]
            ctx[i, j, :len(arr)] = arr
            mask[i, j, :len(arr)] = True
    feats.ctx, feats.ctx_mask = torch.as_tensor(ctx), torch.as_tensor(mask)
    return feats


def build(t: Table, histories: dict[int, np.ndarray], label: np.ndarray) -> Batchable:
    """Features of the rows of ``t`` (one per candidate) with their requests' histories."""
    req = t["request_id"]
    uniq, row = np.unique(req, return_inverse=True)
    hist = np.stack([histories.get(int(r), np.zeros((50, 10), dtype=np.int64)) for r in uniq]) if len(uniq) else \
        np.zeros((0, 50, 10), dtype=np.int64)
    user = np.concatenate([time_fields(t["request_timestamp"] // 1000), np.stack([t[f] for f in USER_FIELDS], 1)], 1)
    return Batchable(torch.as_tensor(user), torch.as_tensor(item_fields(t)),
                     torch.as_tensor(label, dtype=torch.float32), torch.as_tensor(row),
                     torch.as_tensor(hist[:, :, SEQ_ITEM_COLS]), torch.as_tensor(history_valid(hist)), req)
