"""The training batch of `data.batch_size=auto`: the folder sources' default, so that a folder of
a few hundred images and one of tens of thousands each start at a batch that suits its size."""

# An epoch of at least this many steps: a larger batch costs fewer, larger steps (faster on a CPU
# or GPU, up to the point where the hardware is full), but too few updates an epoch, and the
# larger rate a larger batch needs, slow the start of training (Goyal et al. 2017).
STEPS = 200
SMALLEST = 10  # the paper's batch, for folders of a few hundred images
LARGEST = 128  # CIFAR-LT's (Cao et al. 2019), for tens of thousands


def auto_batch_size(images: int) -> int:
    """The largest power of two that leaves at least STEPS batches in `images` training images,
    within [SMALLEST, LARGEST]: 10 below 3,200 images, then 16, 32 from 6,400, 64 from 12,800,
    128 from 25,600."""
    power = 1 << max(0, (images // STEPS).bit_length() - 1)
    return min(LARGEST, max(SMALLEST, power))
