"""The ``spikeforge`` command: one file per sub-command."""
