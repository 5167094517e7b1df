"""Networks beside the study's CNN (`imbalance.model`): ResNet-32 for CIFAR-sized images, and any
torchvision classification network by name. Each takes what `imbalance.train.build` gives a
network (channels, image size, classes, the regularizer's switches, the remedy's head) and
offers what the run uses: `input` (zero-centring), `classifier` (its last layer last) and
`reset_last_layer`."""
