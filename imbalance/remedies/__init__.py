"""Remedies for class imbalance, as parts that a `conf/remedy/*.yaml` combines:

counts    the training split's class counts and priors, checked once for every part
samplers  which training images each epoch draws (oversampling, undersampling, square-root)
losses    the training loss (re-weighting, class-balanced, focal, LDAM, logit adjustment, DRW)
posthoc   a correction of the logits at evaluation (thresholding by the priors)
stages    a second stage at the end of training (re-training or fine-tuning the last layer)

Every part that needs the class counts receives them as an argument from `imbalance.train.build`.
"""
