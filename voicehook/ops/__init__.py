"""The logic behind the operator commands (`events`, `replay`, `doctor`), apart from the CLI.

Each module takes plain values and, where it must, an engine or a client; the commands in
`voicehook/commands/` only parse flags, call these, and render.
"""
