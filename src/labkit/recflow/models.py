"""RecFlow's baselines in plain CPU PyTorch (embedding dimension 8, as the paper).

- ``DSSM`` (coarse ranking): a user tower on 13 d (weekday, hour, minute, 5 user fields, the mean of the valid
  history rows' 5 item fields) and an item tower on 8 d (5 item IDs, upload weekday, hour, minute), MLPs
  [128, 64, 32], the logit is their dot product.
- ``DIN`` (ranking): target attention, ``DINContext`` with request-context behaviours, ``DINAux`` with the
  auxiliary two-tower head; ``SASRec`` (retrieval).
"""

from __future__ import annotations

import torch
from torch import nn

from labkit.recflow.features import ITEM_FIELDS, ITEM_WIDTH, TIME_SIZES, USER_FIELDS


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no activation after the last layer


class ItemEmbeddings(nn.Module):
    """Embeddings of the 5 item ID fields and the upload weekday, hour, minute; histories reuse the ID tables."""

    def __init__(self, sizes: dict[str, int], d: int) -> None:
        super().__init__()
        self.ids = nn.ModuleList(nn.Embedding(sizes[f], d, padding_idx=0 if f != "category_level_one" else None)
                                 for f in ITEM_FIELDS)
        self.upload = nn.ModuleList(nn.Embedding(n, d) for n in TIME_SIZES)

    def forward(self, item: torch.Tensor) -> torch.Tensor:  # (B, 8) -> (B, 8 d)
        parts = [e(item[:, i]) for i, e in enumerate(self.ids)] + \
                [e(item[:, len(self.ids) + i]) for i, e in enumerate(self.upload)]
        return torch.cat(parts, -1)

    def history(self, hist: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # (B, 50, 5) -> (B, 50, 5 d)
        emb = torch.cat([e(hist[..., i]) for i, e in enumerate(self.ids)], -1)
        return emb * mask.unsqueeze(-1)


class UserEmbeddings(nn.Module):
    def __init__(self, sizes: dict[str, int], d: int) -> None:
        super().__init__()
        self.time = nn.ModuleList(nn.Embedding(n, d) for n in TIME_SIZES)
        self.fields = nn.ModuleList(nn.Embedding(sizes[f], d, padding_idx=0) for f in USER_FIELDS)

    def forward(self, user: torch.Tensor) -> torch.Tensor:  # (B, 8) -> (B, 8 d)
        return torch.cat([e(user[:, i]) for i, e in enumerate([*self.time, *self.fields])], -1)


class TwoTower:
    """User and item vectors from towers over the model's own embeddings (``items``, ``users``,
    ``user_tower``, ``item_tower``): DSSM's logit, DIN's auxiliary head."""

    items: ItemEmbeddings
    users: UserEmbeddings
    user_tower: nn.Sequential
    item_tower: nn.Sequential

    def user_vector(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        hist = self.items.history(b["hist"], b["hist_mask"])
        pooled = hist.sum(1) / b["hist_mask"].sum(1, keepdim=True).clamp_min(1)
        return self.user_tower(torch.cat([self.users(b["user"]), pooled], -1))

    def item_vector(self, item: torch.Tensor) -> torch.Tensor:  # (..., 8) -> (..., 32)
        shape = item.shape[:-1]
        return self.item_tower(self.items(item.reshape(-1, item.shape[-1]))).reshape(*shape, -1)


class DSSM(TwoTower, nn.Module):
    def __init__(self, sizes: dict[str, int], d: int = 8, hidden: tuple[int, ...] = (128, 64, 32)) -> None:
        super().__init__()
        self.items, self.users = ItemEmbeddings(sizes, d), UserEmbeddings(sizes, d)
        self.user_tower = mlp([13 * d, *hidden])
        self.item_tower = mlp([ITEM_WIDTH * d, *hidden])

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        return (self.user_vector(b) * self.item_vector(b["item"])).sum(-1)


class SASRec(nn.Module):
    """Retrieval (the paper's SASRec): one causal self-attention block with one head over the last 50 effective
    views (left-padded; padding masked), the last position is the user vector; an item is the sum of its video,
    author and category-two embeddings (shared by the sequence and the candidates)."""

    def __init__(self, sizes: dict[str, int], d: int = 8, length: int = 50) -> None:
        super().__init__()
        self.video = nn.Embedding(sizes["video_id"], d, padding_idx=0)
        self.author = nn.Embedding(sizes["author_id"], d, padding_idx=0)
        self.cat = nn.Embedding(sizes["category_level_two"], d, padding_idx=0)
        self.pos = nn.Embedding(length, d)
        self.attn = nn.MultiheadAttention(d, 1, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.register_buffer("causal", torch.triu(torch.ones(length, length, dtype=torch.bool), 1), persistent=False)
        for e in (self.video, self.author, self.cat, self.pos):  # small start: N(0, 1) sums give scores of ~25
            nn.init.normal_(e.weight, std=0.1)
            if e.padding_idx is not None:
                nn.init.zeros_(e.weight[e.padding_idx])

    def item_vector(self, items: torch.Tensor) -> torch.Tensor:  # (..., 3): video, author, category two
        return self.video(items[..., 0]) + self.author(items[..., 1]) + self.cat(items[..., 2])

    def user_vector(self, hist: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hist (B, 50, 3) and mask (B, 50) -> (B, d); the last position is always attended (an empty history
        gives the positional embedding's answer, not NaN)."""
        x = self.item_vector(hist) * mask.unsqueeze(-1) + self.pos.weight
        keep = mask.clone()
        keep[:, -1] = True
        h, _ = self.attn(self.norm1(x), x, x, attn_mask=self.causal, key_padding_mask=~keep, need_weights=False)
        x = x + h
        x = x + self.ffn(self.norm2(x))
        return x[:, -1]


class DIN(nn.Module):
    """Ranking (the paper's DIN): target attention over the valid history rows - an MLP on [target, behaviour]
    (10 d -> 80 -> 1), softmax over the valid positions - then a top MLP [128, 128, 32, 1] on the user fields,
    the target item and the attended history."""

    def __init__(self, sizes: dict[str, int], d: int = 8) -> None:
        super().__init__()
        self.items, self.users = ItemEmbeddings(sizes, d), UserEmbeddings(sizes, d)
        self.attention = mlp([10 * d, 80, 1])
        self.top = mlp([8 * d + ITEM_WIDTH * d + 5 * d, 128, 128, 32, 1])  # 21 d, as the paper
        self.d = d

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(b, self.items.history(b["hist"], b["hist_mask"]))

    def head(self, b: dict[str, torch.Tensor], hist: torch.Tensor) -> torch.Tensor:
        """Target attention over behaviour representations ``hist`` (B, 50, 5 d), then the top MLP."""
        target = self.items(b["item"])  # (B, 8 d); its first 5 d are the ID fields the history also has
        q = target[:, :5 * self.d].unsqueeze(1).expand_as(hist)
        w = self.attention(torch.cat([q, hist], -1)).squeeze(-1).masked_fill(~b["hist_mask"], float("-inf"))
        w = torch.nan_to_num(torch.softmax(w, -1))  # an empty history attends to nothing (all -inf -> 0)
        pooled = (w.unsqueeze(-1) * hist).sum(1)
        return self.top(torch.cat([self.users(b["user"]), target, pooled], -1)).squeeze(-1)


class DINContext(DIN):
    """Request-context behaviour modelling (the paper's family 4): every behaviour first attends over the rank_pos
    videos of the request it came from (scaled dot product, masked; none -> nothing added), and its
    representation becomes behaviour + context before DIN's target attention."""

    def forward(self, b: dict[str, torch.Tensor]) -> torch.Tensor:
        hist = self.items.history(b["hist"], b["hist_mask"])  # (B, 50, 5 d)
        ctx = torch.cat([e(b["ctx"][..., i]) for i, e in enumerate(self.items.ids)], -1)  # (B, 50, 10, 5 d)
        w = (ctx @ hist.unsqueeze(-1)).squeeze(-1) / (hist.shape[-1] ** 0.5)
        w = torch.nan_to_num(torch.softmax(w.masked_fill(~b["ctx_mask"], float("-inf")), -1))
        hist = hist + (w.unsqueeze(-1) * ctx).sum(-2) * b["hist_mask"].unsqueeze(-1)
        return self.head(b, hist)


class DINAux(TwoTower, DIN):
    """DIN with the paper's auxiliary two-tower head for the auxiliary ranking loss (DIN scores one (user, item)
    pair per forward, too costly for 40 stage items per positive): DSSM-shaped towers over DIN's own embeddings;
    the head only trains (BPR), DIN's logit still ranks."""

    def __init__(self, sizes: dict[str, int], d: int = 8, hidden: tuple[int, ...] = (128, 64, 32)) -> None:
        DIN.__init__(self, sizes, d)
        self.user_tower = mlp([13 * d, *hidden])
        self.item_tower = mlp([ITEM_WIDTH * d, *hidden])
