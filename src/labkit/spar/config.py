"""SPaR settings with the paper's defaults (Cheng et al., arXiv:2412.11605; the released code's values in
``../shared/data/spar/spar_hyperparams.json``). Evaluation decoding was never published: labkit's IFEval
default is greedy and records what it used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class IfevalConfig:
    data: str | None = option(None, "IFEval input_data.jsonl (default: $LABKIT_DATA_DIR/spar/ifeval/input_data.jsonl)")
    model: str = option("smollm2", "Model spec that answers the prompts (--model); unused with --responses")
    max_tokens: int = option(1280, "New tokens per response (lm-eval's IFEval task: 1280)")
    temperature: float = option(0.0, "0 = greedy (the paper never published its evaluation decoding)")
    seed: int = option(0, "Sampling seed when temperature > 0")
    limit: int | None = option(None, "Only the first N prompts (None: all 541)")
    workers: int = option(8, "Prompts in flight at once (batched on local models)")


@dataclass
class JudgeConfig:
    model: str = option("smollm2", "Refiner spec that judges (paper: the SFT'd refiner; faithful: an 8B+ endpoint)")
    samples: int = option(5, "Judgments per response (paper 5), majority vote")
    temperature: float = option(0.7, "Judgment sampling temperature (paper 0.7, top-p 1.0)")
    max_tokens: int = option(512, "New tokens per judgment (paper 2048)")
    tie_retries: int = option(3, "Resample the votes up to N times on a tie (paper: 3 in the tree search)")
    parser: Literal["strict", "original"] = option(
        "strict", "Judgment parser: strict (a final Yes/No word after 'Final Judgement'), or original (the paper's "
        "substring rule: 'Not'/'None' count as No)")


@dataclass
class SearchConfig:
    algorithm: Literal["bfs", "dfs"] = option("bfs", "Tree search (paper: BFS)")
    branch: int = option(3, "Refinements per expanded node (paper 3)")
    keep: int = option(2, "Children kept per level / followed by DFS (paper select_branch 2)")
    depth: int = option(3, "Maximum depth (paper 3)")
    end_gate: float = option(0.5, "Success when a node's value V = #Yes / (#Yes + #No) exceeds this (paper 0.5)")
    temperature: float = option(0.7, "Refinement sampling temperature (paper 0.7)")
    max_tokens: int = option(512, "New tokens per refinement (paper 3072)")
    retries: int = option(3, "Attempts per refinement whose output lacks [[start]]...[[end]] (paper 3)")


@dataclass
class SparConfig:
    ifeval: IfevalConfig = field(default_factory=IfevalConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    refiner: str = option("smollm2", "Refiner spec that writes refinements (usually the judge's model)")
