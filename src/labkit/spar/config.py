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
    max_tokens: int = option(1280, "New tokens per response (lm-eval's IFEval task: 1280)", ge=1)
    temperature: float = option(0.0, "0 = greedy (the paper never published its evaluation decoding)", ge=0)
    seed: int = option(0, "Sampling seed when temperature > 0", ge=0)
    limit: int | None = option(None, "Only the first N prompts (None: all 541)", ge=1)
    workers: int = option(8, "Prompts in flight at once (batched on local models)", ge=1)


@dataclass
class JudgeConfig:
    model: str = option("smollm2", "Refiner spec that judges (paper: the SFT'd refiner; faithful: an 8B+ endpoint)")
    samples: int = option(5, "Judgments per response (paper 5), majority vote", ge=1)
    temperature: float = option(0.7, "Judgment sampling temperature (paper 0.7, top-p 1.0)", ge=0)
    max_tokens: int = option(512, "New tokens per judgment (paper 2048)", ge=1)
    tie_retries: int = option(3, "Resample the votes up to N times on a tie (paper: 3 in the tree search)", ge=0)
    parser: Literal["strict", "original"] = option(
        "strict", "Judgment parser: strict (a final Yes/No word after 'Final Judgement'), or original (the paper's "
        "substring rule: 'Not'/'None' count as No)")


@dataclass
class SearchConfig:
    algorithm: Literal["bfs", "dfs"] = option("bfs", "Tree search (paper: BFS)")
    branch: int = option(3, "Refinements per expanded node (paper 3)", ge=1)
    keep: int = option(2, "Children kept per level / followed by DFS (paper select_branch 2)", ge=1)
    depth: int = option(3, "Maximum depth (paper 3)", ge=1)
    end_gate: float = option(0.5, "Success when a node's value V = #Yes / (#Yes + #No) exceeds this (paper 0.5)",
                             ge=0, le=1)
    temperature: float = option(0.7, "Refinement sampling temperature (paper 0.7)", ge=0)
    max_tokens: int = option(512, "New tokens per refinement (paper 3072)", ge=1)
    retries: int = option(3, "Attempts per refinement whose output lacks [[start]]...[[end]] (paper 3)", ge=1)
    format: Literal["markers", "plain"] = option(
        "markers", "Refinement reply: markers (reflection, then the response between [[start]] and [[end]], as the "
        "paper) or plain (the rewritten response alone: for small refiners that never produce the markers)")


@dataclass
class DpoConfig:
    beta: float = option(0.1, "DPO beta (paper 0.1)", gt=0)
    sft_weight: float = option(0.1, "Weight of the SFT term on the chosen response (paper pref_ftx 0.1)", ge=0)
    lr: float = option(5e-6, "Learning rate (paper 2e-7 for 8B full fine-tuning; small models 5e-7..5e-6)", gt=0)
    epochs: int = option(1, "Epochs over the pairs (paper 1)", ge=1)
    batch: int = option(4, "Pairs per step (paper: 2 x 2 accumulation x 8 GPUs)", ge=1)
    lora_rank: int = option(16, "LoRA rank on q/k/v/o; 0 = full fine-tuning (paper: full)", ge=0)


@dataclass
class RftConfig:
    train: Literal["auto", "always", "never"] = option(
        "auto", "Train the refiner on its RFT data (R_{t+1} from R_t, paper: every iteration): auto = when another "
        "iteration follows (the only one that uses R_{t+1}), always, or never")
    lr: float = option(5e-5, "Learning rate (paper 2e-6 for 8B full fine-tuning; LoRA on small models needs more)",
                       gt=0)
    epochs: int = option(5, "Epochs over the rows (paper 5)", ge=1)
    batch: int = option(8, "Rows per step (paper: 2 x 4 accumulation x 8 GPUs)", ge=1)
    lora_rank: int = option(16, "LoRA rank on q/k/v/o; 0 = full fine-tuning (paper: full)", ge=0)


@dataclass
class IterateConfig:
    prompts: int = option(40, "Generated training prompts with verifiable constraints (paper: 10,000 per iteration "
                          "from a 43K pool)", ge=1)
    held_out: int = option(40, "Generated held-out prompts for the pass rate before/after (another seed)", ge=1)
    samples: int = option(5, "Actor responses per prompt (paper 5)", ge=1)
    temperature: float = option(0.9, "Actor sampling temperature (paper 0.9)", ge=0)
    top_p: float = option(0.9, "Actor top-p (paper 0.9)", gt=0, le=1)
    max_tokens: int = option(160, "New tokens per actor response (paper 2048)", ge=1)
    verifier: Literal["code", "llm"] = option("code", "Who labels responses and values refinements: code (IFEval "
                                              "checkers of the prompt's constraints) or llm (the refiner's votes)")
    pairs: Literal["refine", "independent"] = option(
        "refine", "refine: tree-search refinements vs their failing originals (SPaR); independent: a passing and a "
        "failing sample of the same prompt (the paper's 'w/o refinement' ablation)")
    max_pairs: int | None = option(None, "Use at most N pairs (a seeded draw): the ablation gives the independent arm "
                                   "as many pairs as refinement produced, as the paper compares them", ge=1)
    ifeval_limit: int | None = option(100, "IFEval prompts scored before and after (None: all 541)", ge=1)
    eval_max_tokens: int = option(256, "New tokens per evaluation answer (greedy)", ge=1)
    iterations: int = option(1, "Iterations to chain (paper 3): M_{t+1} is trained from M_t", ge=1)
    seed: int = option(0, "Seed of prompts, sampling and training", ge=0)
    workers: int = option(8, "Prompts in flight at once (batched on local models)", ge=1)
    serve: Literal["none", "vllm", "labkit"] = option(
        "none", "How local models (smollm2, hf:<dir>) are called: none = in this process; vllm = behind `vllm serve` "
        "started by labkit on the newest weights for each step (the paper-scale path: TRL trains the weights, vLLM "
        "samples them); labkit = `labkit serve` the same way (the CPU stand-in)")
    launcher: Literal["inline", "accelerate"] = option(
        "inline", "How DPO and RFT train: inline = in this process (one device); accelerate = a separate "
        "`accelerate launch` process per step, on every GPU (the paper's 8 GPUs; DeepSpeed through "
        "iterate.accelerate_config)")
    accelerate_config: str | None = option(None, "accelerate config file for launcher=accelerate (e.g. DeepSpeed "
                                           "ZeRO-3; None: accelerate's default config)")


@dataclass
class AblationConfig:
    seeds: list[int] = option([0, 1, 2], "Seeds of `spar ablation` (one refine and one independent arm each; the "
                              "paper reports one run)", ge=0)


@dataclass
class SparConfig:
    ifeval: IfevalConfig = field(default_factory=IfevalConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    iterate: IterateConfig = field(default_factory=IterateConfig)
    dpo: DpoConfig = field(default_factory=DpoConfig)
    rft: RftConfig = field(default_factory=RftConfig)
    ablation: AblationConfig = field(default_factory=AblationConfig)
    actor: str = option("smollm2", "Actor spec: sampled through any backend, trained when local (smollm2, hf:<dir>)")
    refiner: str = option("smollm2", "Refiner spec that writes refinements (usually the judge's model)")
