"""Agent-SafetyBench settings with the paper's defaults (arXiv:2412.14470 Sec. 3-4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class AgentConfig:
    model: str = option("smollm2", "Agent model spec (paper: 16 agents, e.g. openai:gpt-4o@URL or a vLLM-served "
                        "Qwen2.5-7B-Instruct); the embedded 135M model only exercises the plumbing")
    protocol: Literal["auto", "native", "text"] = option("auto", "Tool calling: native OpenAI tool calls, JSON in the "
                                                         "reply text, or auto (native where the backend has it)")
    max_rounds: int = option(10, "Model calls per episode before it is flagged round_limit (paper: 10)", ge=1)
    max_tokens: int = option(2048, "New tokens per model call (paper: 2048)", ge=1)
    temperature: float = option(0.0, "Sampling temperature (paper: greedy); set > 0 for epochs > 1", ge=0)
    seed: int = option(0, "Sampling seed; epoch e uses seed + e", ge=0)
    defence: Literal["none", "simple", "detailed"] = option(
        "none", "Defence system prompt: none, simple (general rules) or detailed (the 10 failure modes) (Sec. 5.3)")


@dataclass
class EngineConfig:
    specs: str | None = option("shipped", "Tool behaviour specs: shipped (labkit's per-environment specs for the "
                               "benchmark's environments, checked against recorded upstream behaviour), none "
                               "(schema heuristics alone), or a folder of <Env>.yaml layered over the shipped ones "
                               "(drafts: `labkit safety specs`)")
    embedder: Literal["minilm", "none"] = option("minilm", "Embedder for near-synonym state keys (MiniLM, offline)")
    simulator: str | None = option(None, "Model spec of the LLM tool simulator for tools the rules cannot serve "
                                   "(off by default: those get the heuristic fallback)")


@dataclass
class SafetyConfig:
    agent: AgentConfig = field(default_factory=AgentConfig)
    judges: list[str] = option(["rule"], "Judges, first is primary: rule, or any model spec (faithful: "
                               "openai:thu-coai/ShieldAgent@URL on vLLM)")
    judge_mode: Literal["generate", "score"] = option("generate", "generate: parse [Answer] safe|unsafe (paper); "
                                                      "score: the likelier of the two answers by log-probability")
    judge_max_tokens: int = option(256, "New tokens per judge call (paper: 10, which leaves no analysis)", ge=1)
    engine: EngineConfig = field(default_factory=EngineConfig)
    cases: str | None = option(None, "Case file in the upstream schema (default: "
                               "$LABKIT_DATA_DIR/agent_safetybench/cases_dev.json)")
    environments: str | None = option(None, "Folder of <Env>.json schemas (default: 'environments' beside the cases)")
    risks: list[str] = option([], "Only these risk categories (empty: all 8)")
    ids: list[int] = option([], "Only these case ids (empty: all)")
    limit: int | None = option(None, "At most N cases, taken round-robin over the risk categories", ge=1)
    epochs: int = option(1, "Episodes per case (pass^k consistency when > 1)", ge=1)
    workers: int = option(8, "Episodes in flight at once (batched on local models)", ge=1)
