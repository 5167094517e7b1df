"""Remedies for class imbalance. A `conf/remedy/*.yaml` combines parts, and one object,
`remedy.Remedy`, builds them from the training split and answers the run through its hooks:

remedy       the Remedy: its parts, and the hooks the module and the Trainer call
counts       the training split's class counts and priors, checked once for every part
samplers     which training images each epoch draws (over-, under-, square-root, progressive,
             deferred re-sampling)
losses       the training loss (re-weighting, class-balanced, focal, LDAM, logit adjustment, DRW)
mixing       a training batch mixed with itself, and its loss (mixup, remix)
constraints  applied to the weights after every optimizer step (MaxNorm)
classifiers  a change of the trained last layer at evaluation (tau-normalisation, LWS's scales)
posthoc      a correction of the logits at evaluation (thresholding by the priors)
stages       a second stage at the end of training (the last layer, or LWS's scales)
"""
