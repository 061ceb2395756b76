"""CharacterBench: role-play generation, per-dimension judges and their meta-evaluation (Zhou et al., AAAI 2025,
arXiv:2412.11912)."""
