"""Each remedy's mechanism on a tiny case, against numbers worked out by hand."""

import math

import lightning as L
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra.types import RunMode
from lightning.fabric.utilities.distributed import DistributedSamplerWrapper

from imbalance.build import build, check_launch, make_trainer
from imbalance.errors import ConfigError
from imbalance.remedies.classifiers import LearnedScales, TauNorm
from imbalance.remedies.constraints import MaxNorm
from imbalance.remedies.losses import (
    ClassWeights,
    CrossEntropy,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
)
from imbalance.remedies.mixing import MixUp, Remix
from imbalance.remedies.posthoc import LogitAdjustment
from imbalance.remedies.samplers import (
    ClassPowerSampler,
    DeferredSampler,
    OverSampler,
    ProgressiveSampler,
    Shuffle,
    UnderSampler,
)

# 60 images of class a, 30 of b, 10 of c.
COUNTS = {"a": 60, "b": 30, "c": 10}
LABELS = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.5], [1.0, 1.0, 1.0], [-0.5, 0.3, 2.0]])
TARGETS = torch.tensor([0, 2, 1, 2])


def class_counts(sampler, epoch=0) -> list[int]:
    sampler.set_epoch(epoch)
    return np.bincount(LABELS[list(sampler)].numpy(), minlength=3).tolist()


def test_without_a_remedy_every_image_comes_once_an_epoch_in_an_order_of_seed_and_epoch():
    def order(seed, epoch):
        sampler = Shuffle(LABELS, COUNTS, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    torch.manual_seed(0)
    first = order(0, 1)
    assert sorted(first) == list(range(100)) and first != list(range(100))
    torch.manual_seed(1)  # the global RNG plays no part: a resumed run draws the same order
    assert order(0, 1) == first
    assert order(0, 2) != first and order(1, 1) != first


def test_oversampling_draws_every_class_equally_often():
    sampler = ClassPowerSampler(LABELS, COUNTS, seed=0, power=0.0)
    counts = class_counts(sampler)
    assert len(sampler) == sum(counts) == 100
    # 100 draws, p = 1/3 each: sd sqrt(100 * 1/3 * 2/3) = 4.7; 4 sd is 19 either side of 33.
    assert all(abs(count - 100 / 3) < 19 for count in counts), counts
    assert counts[2] > 10  # class c, 10 images, drawn more often than it has images


def test_replicating_oversampling_shows_every_image_and_tops_classes_up_to_the_largest():
    sampler = OverSampler(LABELS, COUNTS, seed=0)
    sampler.set_epoch(0)
    draw = list(sampler)
    assert len(sampler) == len(draw) == 180 and class_counts(sampler, 0) == [60, 60, 60]
    assert set(draw) == set(range(100))  # every image at least once
    assert sorted(draw[i] for i in range(180) if draw[i] < 60) == list(range(60))  # a: once


def test_square_root_sampling_follows_the_square_roots_of_the_counts():
    sampler = ClassPowerSampler(LABELS, COUNTS, seed=0, power=0.5)
    draws = np.sum([class_counts(sampler, epoch) for epoch in range(20)], axis=0)
    roots = np.sqrt([60, 30, 10])
    expected = 2000 * roots / roots.sum()  # 1000, 707, 408... of 2000 draws: 885, 626, 489
    assert np.all(np.abs(draws - expected) < 4 * np.sqrt(expected)), (draws, expected)


def test_undersampling_draws_the_smallest_count_of_every_class_anew_each_epoch():
    sampler = UnderSampler(LABELS, COUNTS, seed=0)
    assert len(sampler) == 30 and class_counts(sampler, 0) == [10, 10, 10]
    sampler.set_epoch(0)
    first = list(sampler)
    assert len(set(first)) == 30  # without replacement
    sampler.set_epoch(1)
    assert set(sampler) != set(first)
    sampler.set_epoch(0)
    assert list(sampler) == first  # (seed, epoch) fixes the draw


def test_samplers_shard_the_same_draw_under_distributed_training():
    # What Lightning does under DDP: each process wraps the same sampler and takes its share.
    shards = []
    for rank in (0, 1):
        sampler = ClassPowerSampler(LABELS, COUNTS, seed=3, power=0.0)
        wrapper = DistributedSamplerWrapper(sampler, num_replicas=2, rank=rank, shuffle=False)
        wrapper.set_epoch(4)
        shards.append(list(wrapper))
    whole = ClassPowerSampler(LABELS, COUNTS, seed=3, power=0.0)
    whole.set_epoch(4)
    assert len(shards[0]) == len(shards[1]) == 50
    assert sorted(shards[0] + shards[1]) == sorted(whole)


def cross_entropy_by_hand(logits, targets, weights=None) -> float:
    """Mean of -log softmax(logits)[y], weighted by weights[y] when given."""
    losses, total = [], 0.0
    for row, y in zip(logits.tolist(), targets.tolist(), strict=True):
        log_p = row[y] - math.log(sum(math.exp(v) for v in row))
        w = 1.0 if weights is None else weights[y]
        losses.append(-w * log_p)
        total += w
    return sum(losses) / total


def test_inverse_frequency_and_effective_number_weights_by_hand():
    # 1/n: 1/60, 1/30, 1/10, in proportion 1 : 2 : 6, mean 1 -> 1/3, 2/3, 2.
    assert ClassWeights(COUNTS, "inverse").weights.tolist() == pytest.approx([1 / 3, 2 / 3, 2])
    # beta 0.5: (1 - 0.5) / (1 - 0.5^n) is 1/2 / (1 - ~0) for n = 60, 30, 10 -> 0.5, 0.5,
    # 0.5 / (1 - 1/1024) = 0.50049; mean 1 -> nearly equal weights.
    weights = ClassWeights(COUNTS, "effective_number", beta=0.5).weights
    raw = torch.tensor([0.5 / (1 - 0.5**60), 0.5 / (1 - 0.5**30), 0.5 / (1 - 0.5**10)])
    assert weights.tolist() == pytest.approx((raw * 3 / raw.sum()).tolist())
    loss = CrossEntropy(COUNTS, weighting="inverse")
    expected = cross_entropy_by_hand(LOGITS, TARGETS, [1 / 3, 2 / 3, 2])
    assert loss(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "loss",
    [
        CrossEntropy({"a": 20, "b": 20, "c": 20}, weighting="effective_number"),
        CrossEntropy({"a": 20, "b": 20, "c": 20}, weighting="inverse"),
        FocalLoss(COUNTS, gamma=0.0),
        LogitAdjustedLoss({"a": 7, "b": 7, "c": 7}, tau=1.0),
        LDAMLoss(COUNTS, max_margin=0.0),
    ],
    ids=[
        "class-balanced, equal counts",
        "inverse, equal counts",
        "focal, gamma 0",
        "logit adjusted, uniform priors",
        "LDAM, no margin",
    ],  # fmt: skip
)
def test_each_loss_reduces_to_cross_entropy_where_it_should(loss):
    expected = cross_entropy_by_hand(LOGITS, TARGETS)
    assert loss(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)
    assert loss(LOGITS, TARGETS).item() == pytest.approx(F.cross_entropy(LOGITS, TARGETS).item())


def test_focal_loss_by_hand():
    # Row 0: p_y = softmax([2, .5, -1])[0]; loss -(1 - p)^2 log p; the mean of the four rows.
    expected = []
    for row, y in zip(LOGITS.tolist(), TARGETS.tolist(), strict=True):
        p = math.exp(row[y]) / sum(math.exp(v) for v in row)
        expected.append(-((1 - p) ** 2) * math.log(p))
    value = FocalLoss(COUNTS, gamma=2.0)(LOGITS, TARGETS).item()
    assert value == pytest.approx(sum(expected) / 4, rel=1e-6)
    assert value < F.cross_entropy(LOGITS, TARGETS).item()  # easy examples count less


@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5, 1.0, 2.0])
def test_focal_loss_has_a_finite_gradient_on_confident_logits(gamma):
    # p_y rounds to 1 in float32 on the first row, and is just below it on the second.
    logits = torch.tensor([[100.0, 0.0, 0.0], [17.0, 0.0, 0.0]], requires_grad=True)
    loss = FocalLoss(COUNTS, gamma=gamma)(logits, torch.tensor([0, 0]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all(), logits.grad


def test_ldam_margins_follow_n_to_the_minus_quarter_and_lower_the_true_logit():
    loss = LDAMLoss({"a": 16, "b": 81, "c": 1}, max_margin=0.5, scale=2.0)
    # n^(-1/4): 1/2, 1/3, 1; the largest is 0.5 -> 0.25, 0.1667, 0.5.
    assert loss.margins.tolist() == pytest.approx([0.25, 0.5 / 3, 0.5])
    shifted = LOGITS.clone()
    for i, y in enumerate(TARGETS.tolist()):
        shifted[i, y] -= 2.0 * [0.25, 0.5 / 3, 0.5][y]
    expected = cross_entropy_by_hand(shifted, TARGETS)
    assert loss(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)


def test_logit_adjusted_loss_by_hand():
    loss = LogitAdjustedLoss(COUNTS, tau=1.0)
    priors = [0.6, 0.3, 0.1]
    adjusted = LOGITS + torch.tensor([math.log(p) for p in priors])
    expected = cross_entropy_by_hand(adjusted, TARGETS)
    assert loss(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6)


def test_deferred_re_weighting_switches_at_its_epoch_and_only_there():
    loss = CrossEntropy(COUNTS, weighting="inverse", drw_epoch=3)
    plain = F.cross_entropy(LOGITS, TARGETS).item()
    weighted = cross_entropy_by_hand(LOGITS, TARGETS, [1 / 3, 2 / 3, 2])
    for epoch, expected in [(1, plain), (2, plain), (3, weighted), (4, weighted)]:
        loss.set_epoch(epoch)
        assert loss(LOGITS, TARGETS).item() == pytest.approx(expected, rel=1e-6), epoch


def test_class_statistics_are_buffers_that_follow_the_model():
    ldam = LDAMLoss(COUNTS, weighting="effective_number")
    assert {"margins", "weights.weights"} <= set(ldam.state_dict())
    assert "log_prior" in LogitAdjustedLoss(COUNTS).state_dict()
    moved = ldam.to(torch.float64)
    assert moved.margins.dtype == torch.float64 and moved.weights.weights.dtype == torch.float64


def test_thresholding_changes_a_prediction_as_computed_by_hand():
    correction = LogitAdjustment({"a": 90, "b": 10}, tau=1.0)
    logits = torch.tensor([[2.0, 1.5]])
    # 2 - log 0.9 = 2.105 and 1.5 - log 0.1 = 3.803: class b now wins.
    assert correction(logits).tolist()[0] == pytest.approx([2 - math.log(0.9), 1.5 - math.log(0.1)])
    assert logits.argmax().item() == 0 and correction(logits).argmax().item() == 1


def test_tau_auto_scores_only_the_classes_present_in_the_validation_split():
    """Class c has no validation image. At tau=0, recalls (a, b) = (1, 0.5): 0.75. From
    tau=0.5, one image of a goes to c and every image of b to b: (0.75, 1), 0.875. A macro
    average that counts c (predicted, never right: recall 0) would score that 0.583 and keep 0."""
    correction = LogitAdjustment({"a": 100, "b": 10, "c": 1}, tau="auto")
    logits = torch.tensor(
        [[20.0, 0, 0], [20, 0, 0], [20, 0, 0], [2, 0, 0]]  # class a
        + [[0, 1, -10], [0, 1, -10], [1, 0, -10], [1, 0, -10]]  # class b
    )
    labels = torch.tensor([0] * 4 + [1] * 4)
    assert correction.fit(logits, labels) == pytest.approx(0.5)


def test_tau_auto_is_chosen_by_balanced_accuracy_on_the_logits_it_is_given():
    correction = LogitAdjustment({"a": 90, "b": 10}, tau="auto")
    # log 0.9 - log 0.1 = 2.197: tau * 2.197 must exceed a class-a margin of 0.5 to turn the b
    # image (margin 0.5) into b, and stay below 1.5 to keep the a image: tau in (0.23, 0.68).
    logits = torch.tensor([[2.0, 0.5], [2.0, 1.5]])
    labels = torch.tensor([0, 1])
    assert correction.fit(logits, labels) == pytest.approx(0.3)  # the smallest such tau in TAUS
    assert LogitAdjustment({"a": 9, "b": 1}, tau=0.7).fit(logits, labels) == pytest.approx(0.7)
    with pytest.raises(ConfigError, match="tau=often is neither a number nor auto"):
        LogitAdjustment(COUNTS, tau="often")


def test_a_class_without_training_images_stops_every_part_that_needs_counts():
    counts = {"a": 5, "b": 0}
    labels = torch.tensor([0] * 5)
    parts = [
        lambda: CrossEntropy(counts, weighting="inverse"),
        lambda: LDAMLoss(counts),
        lambda: LogitAdjustedLoss(counts),
        lambda: LogitAdjustment(counts),
        lambda: ClassPowerSampler(labels, counts, seed=0),
        lambda: UnderSampler(labels, counts, seed=0),
        lambda: OverSampler(labels, counts, seed=0),
    ]
    for part in parts:
        with pytest.raises(ConfigError, match="class 'b' has none"):
            part()
    CrossEntropy(counts)  # plain cross-entropy does not need them


def fit(cfg, tmp_path, callbacks=()):
    data, module = build(cfg)
    trainer = make_trainer(
        cfg, accelerator="cpu", logger=False, default_root_dir=tmp_path, callbacks=list(callbacks)
    )
    trainer.fit(module, datamodule=data)
    return data, module


class Record(L.Callback):
    """The network's state at the end of every epoch, and the sampler of every epoch's loader."""

    def __init__(self):
        self.states, self.samplers = [], []

    def on_train_epoch_start(self, trainer, module):
        self.samplers.append(type(trainer.train_dataloader.sampler).__name__)

    def on_train_epoch_end(self, trainer, module):
        self.states.append({k: v.clone() for k, v in module.net.state_dict().items()})


@pytest.mark.parametrize(
    "remedy, samplers",
    [
        ("crt", ["Shuffle", "ClassPowerSampler", "ClassPowerSampler"]),
        ("two_phase", ["ClassPowerSampler", "Shuffle", "Shuffle"]),
    ],
)
def test_a_second_stage_trains_only_the_last_layer(remedy, samplers, config, tmp_path):
    record = Record()
    cfg = config(
        f"remedy={remedy}",
        "reg=norm",
        "ratio=3",
        "data.per_class=8",
        "data.image_size=16",
        "trainer.max_epochs=1",
        "remedy.stage2.epochs=2",
        "optim.schedule.every=1",  # the first stage's schedule would lower the rate each epoch
    )
    data, module = fit(cfg, tmp_path, [record])
    first_stage, stage_start, final = record.states
    last = {f"classifier.{len(module.net.classifier) - 1}.{name}" for name in ("weight", "bias")}
    for name, before in first_stage.items():
        if name in last:  # trains through the stage, after any re-initialisation
            assert not torch.equal(stage_start[name], final[name]), f"{name} did not train"
        else:  # weights, biases and batch-norm statistics, bit for bit
            assert torch.equal(before, final[name]), f"{name} changed in the second stage"
    assert [epoch["stage"] for epoch in module.history] == [1, 2, 2]
    assert [epoch["lr"] for epoch in module.history] == [cfg.optim.lr] * 3
    # cRT re-trains on class-balanced batches, two-phase fine-tunes on the data's own: the
    # Trainer's loader draws with the stage's sampler.
    assert record.samplers == samplers


def test_tau_auto_is_fitted_on_the_validation_split_every_epoch(config, tmp_path):
    cfg = config(
        "remedy=threshold",
        "remedy.correction.tau=auto",
        "data.val_fraction=0.3",
        "ratio=7",
        "data.per_class=16",
        "data.image_size=16",
        "trainer.max_epochs=2",
    )
    data, module = build(cfg)
    fitted_on = []  # the labels of what tau was chosen on, each time
    fit_tau = module.remedy.correction.fit
    module.remedy.correction.fit = lambda logits, labels: (
        fitted_on.append(labels) or fit_tau(logits, labels)
    )
    make_trainer(cfg, accelerator="cpu", logger=False, default_root_dir=tmp_path).fit(
        module, datamodule=data
    )
    # Once an epoch, on the whole validation split, never on the test split.
    val_labels = sorted(data.val_set.tensors[1].tolist())
    assert [sorted(labels.tolist()) for labels in fitted_on] == [val_labels] * 2
    assert sorted(data.test_set.tensors[1].tolist()) != val_labels
    # The last epoch's tau, fitted again here on the final network's validation logits.
    module.eval()
    with torch.no_grad():
        images, labels = data.val_set.tensors
        logits = module(images)
    expected = LogitAdjustment(data.counts("train"), tau="auto").fit(logits, labels)
    assert [epoch["tau"] for epoch in module.history][-1] == pytest.approx(expected)
    assert "val_balanced_acc" in module.history[-1]


def test_a_second_stage_on_several_devices_is_refused(config):
    cfg = config("remedy=crt")
    trainer = make_trainer(cfg, accelerator="cpu", devices=2, strategy="ddp", logger=False)
    with pytest.raises(ConfigError, match="^a remedy with a second stage .* runs on one device"):
        check_launch(trainer, RunMode.RUN, cfg.remedy)


@pytest.mark.parametrize(
    "overrides, line",
    [
        (
            ["remedy=threshold", "remedy.correction.tau=auto"],
            "^remedy.correction.tau=auto chooses tau on the valid",
        ),
        (
            ["remedy=drw", "remedy.loss.drw_epoch=60"],
            "^remedy.loss.drw_epoch=60 is beyond trainer.max_epochs",
        ),
        (["remedy=crt", "remedy.stage2.epochs=0"], "^remedy.stage2.epochs=0 must be at least 1$"),
        (
            ["remedy=drs", "remedy.sampler.drw_epoch=9", "trainer.max_epochs=3"],
            "^remedy.sampler.drw_epoch=9 is beyond trainer.max_",
        ),
        (
            ["remedy=lws", "remedy.stage2.reinit=true"],
            "^remedy.stage2.reinit=true would draw the last layer",
        ),
        (
            ["remedy=lws", "remedy.stage2=null"],
            "^LWS's scales .* and this remedy has no such stage",
        ),
        (["remedy=remix", "remedy.mix.tau=2"], "^remedy.mix: tau=2 is outside"),
    ],
)
def test_bad_remedy_settings_are_one_line(config, overrides, line):
    with pytest.raises(ConfigError, match=line):
        build(config(*overrides, "data.per_class=8"))


def test_the_default_drw_epoch_fits_a_short_run(config):
    assert config("remedy=drw", "trainer.max_epochs=3").remedy.loss.drw_epoch == 3  # the last
    # The first epoch at a lowered rate: 0.001 from 26 of 50, the paper's 0.0001 from 11.
    assert config("remedy=drw").remedy.loss.drw_epoch == 26
    assert config("remedy=drw", "experiment=paper").remedy.loss.drw_epoch == 11
    assert config("remedy=ldam_drw", "experiment=cifar10_lt").remedy.loss.drw_epoch == 161


# Round 2: mixing, progressive and deferred sampling, changes of the classifier, MaxNorm.


def test_mixup_mixes_images_and_losses_by_the_lam_and_order_of_seed_and_step():
    images = torch.arange(4 * 2, dtype=torch.float32).view(4, 2)
    mix = MixUp(COUNTS, seed=5, alpha=1.0)
    mixed, others, lam = mix(images, TARGETS, step=7)
    rng = np.random.default_rng([5, 7])  # what MixUp draws, in its order
    expected_lam, order = rng.beta(1.0, 1.0), rng.permutation(4)
    assert lam == pytest.approx(expected_lam) and 0 < lam < 1
    assert others.tolist() == TARGETS[order].tolist()
    assert torch.allclose(mixed, lam * images + (1 - lam) * images[order])
    loss = MixUp.loss(CrossEntropy(COUNTS), LOGITS, TARGETS, others, lam)
    by_hand = lam * cross_entropy_by_hand(LOGITS, TARGETS) + (1 - lam) * cross_entropy_by_hand(
        LOGITS, others
    )
    assert loss.item() == pytest.approx(by_hand, rel=1e-6)
    # alpha 0: lam is 1, the batch and its loss as they were, bit for bit.
    plain, _, one = MixUp(COUNTS, seed=5, alpha=0.0)(images, TARGETS, step=7)
    assert one == 1.0 and torch.equal(plain, images)


def test_remix_gives_the_label_to_the_minority_image_past_kappa_and_tau():
    remix = Remix(COUNTS, seed=0, kappa=3.0, tau=0.5)
    labels, others = torch.tensor([0, 2, 0, 1]), torch.tensor([2, 0, 1, 2])
    # a over c: 60 / 10 = 6 >= 3; c over a: 1/6; a over b: 2 < 3; b over c: 3 >= 3.
    assert remix.shares(0.3, labels, others).tolist() == pytest.approx([0.0, 0.3, 0.3, 0.0])
    assert remix.shares(0.8, labels, others).tolist() == pytest.approx([0.8, 1.0, 0.8, 0.8])
    assert remix.shares(0.5, labels, others).tolist() == pytest.approx([0.5] * 4)
    share = torch.tensor([0.0, 1.0, 0.3, 0.7])
    loss = MixUp.loss(CrossEntropy(COUNTS), LOGITS, TARGETS, TARGETS.flip(0), share)
    by_hand = [
        s * cross_entropy_by_hand(LOGITS[i : i + 1], TARGETS[i : i + 1])
        + (1 - s) * cross_entropy_by_hand(LOGITS[i : i + 1], TARGETS.flip(0)[i : i + 1])
        for i, s in enumerate(share.tolist())
    ]
    assert loss.item() == pytest.approx(sum(by_hand) / 4, rel=1e-6)


def test_progressive_sampling_moves_from_the_data_to_class_balance():
    labels = torch.tensor([0] * 6000 + [1] * 3000 + [2] * 1000)
    counts = {"a": 6000, "b": 3000, "c": 1000}
    sampler = ProgressiveSampler(labels, counts, seed=0, epochs=5)
    for epoch, share in [(0, 0.0), (4, 4 / 5)]:  # the first and the last epoch, t/T
        sampler.set_epoch(epoch)
        expected = (1 - share) * np.array([0.6, 0.3, 0.1]) + share / 3
        assert sampler.class_p == pytest.approx(expected)
        drawn = np.bincount(labels[list(sampler)].numpy(), minlength=3) / 10_000
        assert np.all(np.abs(drawn - expected) < 4 * np.sqrt(expected / 10_000)), drawn


def test_deferred_re_sampling_shows_every_image_once_then_balances_the_classes():
    sampler = DeferredSampler(LABELS, COUNTS, seed=2, drw_epoch=3)
    for epoch in (0, 1):  # epochs 1 and 2
        sampler.set_epoch(epoch)
        assert sorted(sampler) == list(range(100))
    balanced = ClassPowerSampler(LABELS, COUNTS, seed=2, power=0.0)
    for epoch in (2, 5):
        sampler.set_epoch(epoch)
        balanced.set_epoch(epoch)
        assert list(sampler) == list(balanced)


def last_layer(weight, bias):
    layer = torch.nn.Linear(2, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
    return layer


def test_tau_normalisation_by_hand_and_tau_0_changes_nothing():
    weight, bias = [[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]], [0.5, 0.0, -0.5]  # norms 5, 2, 1
    features = torch.tensor([[1.0, 1.0], [2.0, -1.0]])
    raw = last_layer(weight, bias)(features)
    layer = last_layer(weight, bias)
    norm = TauNorm(3, tau=1.0)
    norm.attach(layer)
    norm.train()
    assert torch.equal(layer(features), raw)  # training sees the weights as they are
    norm.eval()
    # x . w_c / ||w_c|| + b_c: (7/5 + 0.5, 2/2, 1/1 - 0.5) and (2/5 + 0.5, -2/2, 2/1 - 0.5)
    expected = torch.tensor([[1.9, 1.0, 0.5], [0.9, -1.0, 1.5]])
    assert torch.allclose(layer(features), expected)
    layer = last_layer(weight, bias)
    zero = TauNorm(3, tau=0.0)
    zero.attach(layer)
    zero.eval()
    assert torch.equal(layer(features), raw)


def test_learned_scales_multiply_each_class_logit_and_start_at_1():
    weight, bias = [[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]], [0.5, 0.0, -0.5]
    features = torch.tensor([[1.0, 1.0], [2.0, -1.0]])
    raw = last_layer(weight, bias)(features)
    layer, scales = last_layer(weight, bias), LearnedScales(3)
    scales.attach(layer)
    assert torch.equal(layer(features), raw) and not scales.scales.requires_grad
    with torch.no_grad():
        scales.scales.copy_(torch.tensor([2.0, 1.0, 0.5]))
    assert torch.equal(layer(features), raw * torch.tensor([2.0, 1.0, 0.5]))


def test_a_change_of_the_classifier_needs_a_linear_last_layer():
    with pytest.raises(ConfigError, match="^TauNorm changes a linear last layer, and this net"):
        TauNorm(3).attach(torch.nn.Identity())
    with pytest.raises(ConfigError, match="^LearnedScales changes a last layer of 4 outputs, "):
        LearnedScales(4).attach(torch.nn.Linear(2, 3))


def test_max_norm_scales_back_only_the_units_beyond_the_radius():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv2d(1, 2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[3.0, 4.0], [0.3, 0.4]]))  # norms 5 and 0.5
        net[0].bias.copy_(torch.tensor([10.0, -10.0]))
        net[1].weight.copy_(torch.tensor([2.0, -0.5]).view(2, 1, 1, 1))
    MaxNorm(radius=1.0)(net)
    assert net[0].weight.flatten().tolist() == pytest.approx([0.6, 0.8, 0.3, 0.4])
    assert net[0].bias.tolist() == [10.0, -10.0]  # biases are not constrained
    assert net[1].weight.flatten().tolist() == pytest.approx([1.0, -0.5])


class Norms(L.Callback):
    """The largest unit norm of the network's weights after every optimizer step, and the
    weight decay on the weights in every epoch."""

    def __init__(self):
        self.largest, self.decays = [], []

    def on_train_epoch_end(self, trainer, module):
        (weights,) = [g for g in trainer.optimizers[0].param_groups if g["name"] == "weights"]
        self.decays.append(weights["weight_decay"])

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.largest.append(
            max(
                torch.linalg.vector_norm(p.flatten(1), dim=1).max().item()
                for p in module.net.parameters()
                if p.ndim > 1
            )
        )


def test_weight_balancing_keeps_max_norm_after_every_step_and_decays_in_both_stages(
    config, tmp_path
):
    norms = Norms()
    cfg = config(
        "remedy=weight_balancing",
        "remedy.constraint.radius=0.2",  # below the initial norms: it binds from the first step
        "remedy.stage2.epochs=1",
        "remedy.stage2.weight_decay=0.01",
        "ratio=3",
        "data.per_class=8",
        "data.image_size=16",
        "trainer.max_epochs=1",
    )
    data, module = fit(cfg, tmp_path, [norms])
    assert len(norms.largest) == len(data.train_dataloader()) * 2
    assert max(norms.largest) <= 0.2 * (1 + 1e-6)
    assert norms.decays == [0.005, 0.01]  # the remedy's, not reg=none's 0; then the stage's
    loss = module.remedy.stage_loss  # the second stage's, class-balanced
    assert loss.weights.weighting == "effective_number" and loss.weights.active


def test_mixup_with_lam_1_is_a_plain_run(config, tmp_path):
    tiny = ["ratio=3", "data.per_class=8", "data.image_size=16", "trainer.max_epochs=2"]
    _, plain = fit(config("remedy=none", *tiny), tmp_path / "plain")
    _, mixed = fit(config("remedy=mixup", "remedy.mix.alpha=0", *tiny), tmp_path / "mixed")
    assert mixed.history == plain.history


def test_lws_learns_only_the_scales_in_its_second_stage(config, tmp_path):
    record = Record()
    cfg = config(
        "remedy=lws",
        "reg=norm",
        "ratio=3",
        "data.per_class=8",
        "data.image_size=16",
        "trainer.max_epochs=1",
        "remedy.stage2.epochs=2",
    )
    data, module = fit(cfg, tmp_path, [record])
    first_stage, _, final = record.states
    for name, before in first_stage.items():  # the whole network, its classifier too
        assert torch.equal(before, final[name]), f"{name} changed in the second stage"
    scales = module.remedy.classifier.scales
    assert (
        not torch.equal(scales, torch.ones(3)) and record.samplers[1:] == ["ClassPowerSampler"] * 2
    )
