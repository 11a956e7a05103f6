"""One module per command group of the `voicehook` CLI."""
