"""The networks a run trains: the study's CNN from a layer list (`cnn`), ResNet-32 for
CIFAR-sized images (`resnet`), and any torchvision classification network by name (`named`),
on their shared base (`network`). Each takes what `imbalance.build` gives a network (channels,
image size, classes, the regularizer's switches, the remedy's head) and offers what the run
uses: `input` (zero-centring), `classifier` (its last layer last), `reset_last_layer`."""
