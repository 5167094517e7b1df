"""From images on disk to batches: which images a run uses and how they reach the model.

subsets      the imbalance arithmetic: profiles, nested selection, splits (plain numbers, no torch)
sources      one class per kind of data set, each listing its images' classes without decoding
image_cache  decoded images shared on disk by every job
manifest     the images of each split by id, recorded in results.json, reusable by other runs
datamodule   one run's images: subset, split, decoded once, kept in memory, batched
augment      augmentation drawn per image, applied to whole batches on the model's device
"""
