"""ResNet-32: its size, its outputs, and the switches it shares with the study's CNN."""

import torch

from imbalance.models.resnet import ResNet32
from imbalance.remedies.heads import last_layer


def test_resnet32_has_the_papers_parameters_and_one_logit_per_class():
    # conv 3x3x3x16 + BN; stage 1: 5 blocks of two 16->16 convs and two BNs; stage 2: 16->32,
    # 32->32, then 4 blocks of two 32->32; stage 3 likewise to 64; a 64 -> C linear layer.
    stage1 = 5 * (2 * 16 * 16 * 9 + 2 * 32)
    stage2 = (16 * 32 * 9 + 32 * 32 * 9 + 2 * 64) + 4 * (2 * 32 * 32 * 9 + 2 * 64)
    stage3 = (32 * 64 * 9 + 64 * 64 * 9 + 2 * 128) + 4 * (2 * 64 * 64 * 9 + 2 * 128)
    for classes in (10, 100):
        net = ResNet32(3, 32, classes)
        expected = 3 * 16 * 9 + 32 + stage1 + stage2 + stage3 + 64 * classes + classes
        assert sum(p.numel() for p in net.parameters()) == expected
        assert net(torch.rand(4, 3, 32, 32) * 255).shape == (4, classes)
    assert expected == 470_004 and ResNet32(3, 32, 10).classifier[-1].out_features == 10


def test_resnet32_takes_the_remedys_head_and_the_regularizers_dropout():
    net = ResNet32(3, 32, 10, dropout=0.5, head=last_layer({"type": "cosine", "scale": 30.0}))
    dropout, last = net.classifier
    assert dropout.p == 0.5 and type(last).__name__ == "CosineLinear" and last.scale == 30.0
    before = last.weight.clone()
    net.reset_last_layer()
    assert not torch.equal(before, last.weight)
