"""Reference networks, each with an ANN twin (``ann=True``), registered by name in ``MODELS``
with the config dataclass of their options (see :mod:`spikesmith.models.options`)."""

from .blocks import ACTIVATIONS, NEURONS, make_activation, make_neuron
from .neuron_spec import NeuronSpec
from .options import ModelInput, ModelOptions, SpikeOptions, SpikingOptions, option
from .registry import MODELS, build_model, config_class, model_names, model_options, saved_arguments

# each family registers itself in MODELS when its module is imported
from .csnn import CSNN, CSNNConfig  # noqa: E402
from .fcsnn import FCSNN, FCSNNConfig  # noqa: E402
from .gated_rnn import SGRU, SLSTM, SGRUConfig, SLSTMConfig  # noqa: E402
from .resnet import SEWBasicBlock, SpikingResNet, SpikingResNetConfig  # noqa: E402
from .rsnn import RSNN, RSNNConfig  # noqa: E402
from .vgg import SpikingVGG, SpikingVGGConfig  # noqa: E402
from .lsm import LiquidOutput, LiquidStateMachine  # noqa: E402
from .lsm_family import LSMClassifier, LSMConfig  # noqa: E402  (--model lsm)
from .lsm_readout import LogisticReadout, RidgeReadout  # noqa: E402

__all__ = ["ACTIVATIONS", "CSNN", "CSNNConfig", "FCSNN", "FCSNNConfig", "MODELS", "ModelInput", "ModelOptions",
           "NEURONS", "NeuronSpec", "RSNN", "RSNNConfig", "SEWBasicBlock", "SGRU", "SGRUConfig", "SLSTM", "SLSTMConfig", "SpikeOptions", "SpikingOptions",
           "SpikingResNet", "SpikingResNetConfig", "SpikingVGG", "SpikingVGGConfig", "build_model", "config_class",
           "make_activation", "make_neuron", "model_names", "model_options", "option", "saved_arguments"]

from .dbn import DBN  # noqa: E402
from .dbn_family import DBNConfig, SpikingDBN  # noqa: E402

__all__ += ["DBN", "DBNConfig", "LSMClassifier", "LSMConfig", "LiquidOutput", "LiquidStateMachine", "LogisticReadout",
            "RidgeReadout", "SpikingDBN"]

from .ttfs import TTFSConfig, TTFSNet  # noqa: E402  (--model ttfs)

__all__ += ["TTFSConfig", "TTFSNet"]

from .audio import AudioFCSNN, AudioFCSNNConfig, AudioRSNN, AudioRSNNConfig  # noqa: E402  (--model audio_fcsnn, audio_rsnn)
from .delays import count_parameters  # noqa: E402

__all__ += ["AudioFCSNN", "AudioFCSNNConfig", "AudioRSNN", "AudioRSNNConfig", "count_parameters"]
from .spikformer import Spikformer, SpikformerConfig  # noqa: E402  (--model spikformer)
from .spike_driven_transformer import SpikeDrivenTransformer, SpikeDrivenTransformerConfig  # noqa: E402  (--model sdt)
from .qkformer import QKFormer, QKFormerConfig  # noqa: E402  (--model qkformer)

__all__ += ["QKFormer", "QKFormerConfig", "SpikeDrivenTransformer", "SpikeDrivenTransformerConfig", "Spikformer",
            "SpikformerConfig"]
