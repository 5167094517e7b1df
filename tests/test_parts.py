"""What each part of a remedy must do (imbalance/remedies/parts.py): a part written from the
README's recipe trains, and one that is not of its kind is refused in one line."""

import json

import pytest
import torch

from helpers import TINY, run_main
from imbalance.remedies.parts import Correction, Loss, Mix

# The README's recipe for a new loss ("How to extend"), written as a user writes it.
USER_LOSS = """
import torch.nn.functional as F

from imbalance.remedies.parts import Loss


class PlainLoss(Loss):
    def __init__(self, class_counts, label_smoothing=0.0):
        super().__init__()
        self.label_smoothing = label_smoothing

    def per_sample(self, logits, labels):
        return F.cross_entropy(
            logits, labels, label_smoothing=self.label_smoothing, reduction="none"
        )
"""


@pytest.fixture
def user_parts(tmp_path, monkeypatch):
    """The user's loss in a module of their own, and two remedies that train with it: alone
    (`mine`), and with remix's mixing, which weighs each image's loss (`mine_remix`)."""
    (tmp_path / "user_loss.py").write_text(USER_LOSS)
    (tmp_path / "user_module.py").write_text(
        "from torch import nn\n\n\nclass NotALoss(nn.Module):\n"
        "    def __init__(self, class_counts, label_smoothing=0.0):\n        super().__init__()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    remedies = tmp_path / "conf" / "remedy"
    remedies.mkdir(parents=True)
    for name, base in [("mine", "none"), ("mine_remix", "remix")]:
        (remedies / f"{name}.yaml").write_text(
            f"defaults: [{base}, _self_]\nloss:\n  _target_: user_loss.PlainLoss\n"
        )
    return tmp_path


def history(tmp_path, *overrides) -> list[dict]:
    run_dir = tmp_path / "_".join(overrides).replace("=", "-")
    result = run_main(
        *overrides,
        "ratio=3",
        *TINY,
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((run_dir / "results.json").read_text())["history"]


@pytest.mark.parametrize("mine, same", [("mine", "none"), ("mine_remix", "remix")])
def test_a_loss_written_from_the_readme_trains_as_the_loss_it_equals(user_parts, mine, same):
    # Plain cross-entropy per image, averaged: the same run as the built-in cross-entropy, with
    # and without mixing (remix calls per_sample, the other remedies the loss itself).
    ours, builtin = history(user_parts, f"remedy={mine}"), history(user_parts, f"remedy={same}")
    assert len(ours) == 2
    for epoch, reference in zip(ours, builtin, strict=True):
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert epoch[key] == pytest.approx(reference[key], rel=1e-5), key


def test_a_part_that_is_not_of_its_kind_is_refused_in_one_line(user_parts):
    result = run_main("remedy.loss._target_=user_module.NotALoss", *TINY, cwd=user_parts)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: remedy.loss: user_module.NotALoss is no imbalance.remedies.parts.Loss: subclass "
        "it, and give what its documentation asks of a part of its kind"
    )


def test_what_a_part_leaves_out_does_nothing_or_the_plain_thing():
    class Squared(Loss):
        def per_sample(self, logits, labels):
            return (logits[:, 0] - labels) ** 2

    loss = Squared()
    loss.set_epoch(3)  # nothing changes between epochs
    logits, labels = torch.tensor([[1.0, 0.0], [3.0, 0.0]]), torch.tensor([0.0, 1.0])
    assert loss(logits, labels).item() == (1 + 4) / 2  # the mean of per_sample
    with pytest.raises(NotImplementedError, match="Loss must define per_sample"):
        Loss()(logits, labels)

    class Halve(Correction):
        def forward(self, logits):
            return logits / 2

    halve = Halve()
    assert halve.fit(logits, labels) is None and halve.values() == {} and not halve.auto
    assert torch.equal(halve(logits), logits / 2)


def test_a_mixed_batchs_loss_weighs_the_two_labels_by_their_share():
    class Squared(Loss):
        def per_sample(self, logits, labels):
            return (logits[:, 0] - labels) ** 2

    logits = torch.tensor([[1.0], [3.0]])
    labels, others = torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0])
    # one share for the batch: 0.25 * mean(1, 4) + 0.75 * mean(0, 0)
    assert Mix.loss(Squared(), logits, labels, others, 0.25).item() == 0.25 * 2.5
    # a share per image: mean(0.5 * 1 + 0.5 * 0, 1.0 * 4 + 0 * 0)
    share = torch.tensor([0.5, 1.0])
    assert Mix.loss(Squared(), logits, labels, others, share).item() == (0.5 + 4) / 2
