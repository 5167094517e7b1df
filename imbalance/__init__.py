"""Studies of how class imbalance hurts the training of convolutional networks."""

import warnings

# Lightning 2.6 uses a torch pytree API that torch 2.14 deprecates, and warns on import: nothing
# a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
