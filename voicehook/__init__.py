"""voicehook's composition root: the `voicehook` command line and the benchmarks."""
