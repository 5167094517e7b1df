"""python -m imbalance.bench: the framework timed against what it is measured against.

baselines  the compute floor (a bare PyTorch loop) and the naive pipeline (decoding every epoch)
"""
