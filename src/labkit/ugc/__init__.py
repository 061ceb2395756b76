"""Creator competition on a recommender (Yao et al., NeurIPS 2024, arXiv:2410.23683).

Creators choose production frequencies x_i >= 0, pay a convex cost and receive the traffic the
platform's Personalized Probabilistic Matching (exploration strength beta) allocates; at the pure
Nash equilibrium, raising beta raises user satisfaction U and lowers content volume V.
"""
