"""SpikingJelly's ``spikingjelly.activation_based`` on spikesmith: change ``spikingjelly.`` into
``spikesmith.compat.spikingjelly.`` (or call ``spikesmith.compat.install_spikingjelly_alias()``).

Submodules: ``neuron``, ``layer``, ``functional``, ``surrogate``, ``monitor``, ``encoding``, ``base``,
``rnn`` (explicit-state spiking LSTM / GRU / vanilla RNN), ``learning`` and ``ann2snn`` (the last two
imported from their own modules on first use).
"""

from . import ann2snn, base, encoding, functional, layer, learning, monitor, neuron, rnn, surrogate

__all__ = ["ann2snn", "base", "encoding", "functional", "layer", "learning", "monitor", "neuron", "rnn", "surrogate"]
