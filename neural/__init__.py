"""RNN language models on strings of symbols: Elman, LSTM and GRU, trained the way the field does.

``neural`` knows nothing of automata: it takes strings (sequences of symbols) and an alphabet.
Next-symbol distributions have the columns ``alphabet + ("$",)``.
"""

from neural.checkpoint import CheckpointError
from neural.config import TrainConfig
from neural.distributed import resolve_device
from neural.ensemble import Ensemble, one_network, validation_bits, validation_margin
from neural.loading import load
from neural.model import RNNConfig, RNNLanguageModel
from neural.trained import Samples, TrainedModel
from neural.training import TrainingDiverged, TrainingInterrupted, train
from neural.vocab import EOS, CorpusError, Vocabulary, infer_alphabet

__all__ = [
    "EOS",
    "Ensemble",
    "CheckpointError",
    "CorpusError",
    "RNNConfig",
    "RNNLanguageModel",
    "Samples",
    "TrainConfig",
    "TrainedModel",
    "TrainingDiverged",
    "TrainingInterrupted",
    "Vocabulary",
    "infer_alphabet",
    "load",
    "one_network",
    "resolve_device",
    "train",
    "validation_bits",
    "validation_margin",
]
