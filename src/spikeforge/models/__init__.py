"""Reference networks, each with an ANN twin (``ann=True``)."""

from .blocks import ACTIVATIONS, NEURONS, make_activation, make_neuron
from .csnn import CSNN
from .fcsnn import FCSNN
from .registry import MODELS, build_model, model_names

__all__ = ["ACTIVATIONS", "CSNN", "FCSNN", "MODELS", "NEURONS", "build_model", "make_activation",
           "make_neuron", "model_names"]
