"""python -m imbalance.report: a sweep's results.json files as tables, figures and statistics.

sweep     a sweep directory read back: finished runs and missing jobs
tables    runs as tables, means and spreads over seeds
figures   the paper's figures and the per-class recall figure
paired    paired differences from a baseline setting, with intervals and adjusted p-values
"""
