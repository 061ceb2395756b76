"""labkit.core: what two or more systems use (config, runs, cache, models, metrics, reports, CLI pieces)."""
