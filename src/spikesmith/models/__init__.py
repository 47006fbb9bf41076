"""Reference networks, each with an ANN twin (``ann=True``)."""

from .blocks import ACTIVATIONS, NEURONS, make_activation, make_neuron
from .csnn import CSNN
from .fcsnn import FCSNN
from .registry import MODELS, build_model, model_names
from .resnet import SEWBasicBlock, SpikingResNet
from .rsnn import RSNN
from .vgg import SpikingVGG

__all__ = ["ACTIVATIONS", "CSNN", "FCSNN", "MODELS", "NEURONS", "RSNN", "SEWBasicBlock", "SpikingResNet", "SpikingVGG", "build_model", "make_activation",
           "make_neuron", "model_names"]
