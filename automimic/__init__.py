"""automimic: probabilistic automata and the RNNs that imitate them — command line and pipeline."""

__version__ = "0.1.0"
