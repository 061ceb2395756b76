"""HPSS: heuristic prompting-strategy search for LLM evaluators (Wen, Ke et al., Findings of ACL 2025,
arXiv:2502.13031)."""
