"""The ``spikesmith`` command: one file per sub-command."""
