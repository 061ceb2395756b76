"""Parametric RAG: documents as LoRA adapters merged at query time (Su et al., SIGIR 2025, arXiv:2501.15915)."""
