"""A run's plumbing: its directory and results.json, checkpoints and resuming, TensorBoard,
provenance, a sweep's files, SLURM's resources. The study itself is in the modules above."""
