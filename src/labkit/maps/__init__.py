"""MAPS: circuit diagram -> SPICE netlist -> simulation -> answer (Zhu et al., ICLR 2025, arXiv:2501.10768)."""
