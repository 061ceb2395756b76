"""SPaR's tree-search refinement (Sec. 3.1, Alg. 1): from a failing response and its critique, refine until the
refiner's votes say the constraints are met, with as few edits as possible.

A node is (response, critique, value V, depth). Expanding a node asks the refiner for ``branch`` rewrites (one
call each); every new response is judged (``vote``: V = fraction of Yes), judgments are cached by response
text (a repeated text costs no call), and a child whose judgments gave no usable critique is dropped.

- BFS (paper default): expand every kept node of a depth, judge all children; if the best child has
  V > ``end_gate`` return it (the shallowest success, highest V at that depth), else keep the ``keep`` best and
  go one level deeper, to ``depth``. At most 3 + 6 + 6 = 15 refinements and 75 judgments (5 each, no ties).
- DFS: expand the node, then recurse into its ``keep`` best children, best first, stopping at the first success
  (at most 3 + 6 + 12 = 21 new nodes).

On failure the tree's highest-V node is returned (the root when nothing scored above 0). The refiner and judge
come in as batch functions, so one level's refinements and judgments go to the model together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from labkit.spar.config import SearchConfig
from labkit.spar.judge import Vote


class Refined(NamedTuple):
    """A refinement: the rewritten response and the refiner's whole reply (reflection + markers), which the
    refiner's RFT data trains on."""

    text: str
    raw: str


# (prompt, response, critique) -> the rewritten text (a plain str is its own raw reply), or None
RefineBatch = Callable[[list[tuple[str, str, str]]], list[str | Refined | None]]
JudgeBatch = Callable[[list[tuple[str, str]]], list[Vote]]  # (prompt, response) -> votes


@dataclass
class Node:
    id: int
    response: str
    critique: str
    value: float
    depth: int
    parent: int | None
    children: list[int] = field(default_factory=list)
    yes: int = 0
    no: int = 0
    raw: str = ""  # the refiner's reply that produced this node (empty for the root)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Tree:
    prompt: str
    nodes: list[Node]
    best: int
    success: bool
    refinements: int = 0
    failed_refinements: int = 0
    judge_calls: int = 0
    cached_judgments: int = 0
    dropped: int = 0  # children without a usable critique

    @property
    def best_node(self) -> Node:
        return self.nodes[self.best]

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k != "nodes"},
                "nodes": [n.to_dict() for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tree:
        return cls(**{**d, "nodes": [Node(**n) for n in d["nodes"]]})


class _Search:
    """The state of one search: nodes, the judgment cache, the counters."""

    def __init__(self, prompt: str, refine: RefineBatch, judge: JudgeBatch, cfg: SearchConfig) -> None:
        self.prompt, self.refine, self.judge, self.cfg = prompt, refine, judge, cfg
        self.cache: dict[str, Vote] = {}
        self.tree = Tree(prompt, [], 0, False)

    def add(self, response: str, critique: str, vote: Vote | None, depth: int, parent: int | None,
            raw: str = "") -> Node:
        node = Node(len(self.tree.nodes), response, critique, vote.value if vote else 0.0, depth, parent,
                    yes=vote.yes if vote else 0, no=vote.no if vote else 0, raw=raw)
        self.tree.nodes.append(node)
        if parent is not None:
            self.tree.nodes[parent].children.append(node.id)
        return node

    def expand(self, parents: list[Node]) -> list[Node]:
        """``branch`` refinements of every parent (one batch), their judgments (one batch of new texts)."""
        asks = [(p, (self.prompt, p.response, p.critique)) for p in parents for _ in range(self.cfg.branch)]
        replies = [Refined(r, r) if isinstance(r, str) else r for r in self.refine([a for _, a in asks])]
        self.tree.refinements += len(asks)
        made = [(p, r.text) for (p, _), r in zip(asks, replies, strict=True) if r is not None]
        raws = {(p.id, r.text): r.raw for (p, _), r in zip(asks, replies, strict=True) if r is not None}
        self.tree.failed_refinements += len(asks) - len(made)
        new = list(dict.fromkeys(t for _, t in made if t not in self.cache))
        self.tree.cached_judgments += len(made) - len(new)  # judged before, or a repeat within this level
        for text, v in zip(new, self.judge([(self.prompt, t) for t in new]), strict=True):
            self.cache[text] = v
            self.tree.judge_calls += v.calls
        children = []
        for parent, text in made:
            v = self.cache[text]
            if not v.usable:
                self.tree.dropped += 1
                continue
            children.append(self.add(text, v.critique or "", v, parent.depth + 1, parent.id,
                                     raws[parent.id, text]))
        return children

    def done(self, node: Node) -> Tree:
        self.tree.best, self.tree.success = node.id, node.value > self.cfg.end_gate
        return self.tree

    def fallback(self) -> Tree:
        best = max(self.tree.nodes, key=lambda n: (n.value, -n.depth, -n.id))
        return self.done(best)

    def bfs(self, root: Node) -> Tree:
        level = [root]
        for _ in range(self.cfg.depth):
            children = self.expand(level)
            if not children:
                break
            ranked = sorted(children, key=lambda n: -n.value)  # stable: the first of equal values first
            if ranked[0].value > self.cfg.end_gate:
                return self.done(ranked[0])
            level = ranked[:self.cfg.keep]
        return self.fallback()

    def dfs(self, node: Node) -> Node | None:
        if node.depth >= self.cfg.depth:
            return None
        children = sorted(self.expand([node]), key=lambda n: -n.value)
        for child in children:
            if child.value > self.cfg.end_gate:
                return child
        for child in children[:self.cfg.keep]:
            found = self.dfs(child)
            if found is not None:
                return found
        return None


def search(prompt: str, response: str, critique: str, refine: RefineBatch, judge: JudgeBatch,
           cfg: SearchConfig | None = None, root_vote: Vote | None = None) -> Tree:
    """Refine ``response`` (which failed, with ``critique``) by BFS or DFS; returns the whole tree."""
    cfg = cfg or SearchConfig()
    state = _Search(prompt, refine, judge, cfg)
    root = state.add(response, critique, root_vote, 0, None)
    root.value = 0.0  # the root failed by definition (paper: V = 0)
    state.cache[response] = root_vote or Vote(no=1, critique=critique)
    if cfg.algorithm == "bfs":
        return state.bfs(root)
    found = state.dfs(root)
    return state.done(found) if found is not None else state.fallback()


def render_tree(tree: Tree, width: int = 70) -> str:
    """The tree as indented text: value, votes, depth and the start of each response; the result marked."""
    lines = []

    def walk(node: Node, indent: str) -> None:
        mark = " <- result" if node.id == tree.best else ""
        text = node.response.replace("\n", " ")
        lines.append(f"{indent}[{node.id}] V={node.value:.2f} ({node.yes} yes / {node.no} no) "
                     f"{text[:width]!r}{mark}")
        for c in node.children:
            walk(tree.nodes[c], indent + "  ")

    walk(tree.nodes[0], "")
    status = "success" if tree.success else "no node above the gate"
    lines.append(f"{status}; {tree.refinements} refinements ({tree.failed_refinements} unusable), "
                 f"{tree.judge_calls} judgments, {tree.cached_judgments} served from the cache, "
                 f"{tree.dropped} children dropped")
    return "\n".join(lines)
