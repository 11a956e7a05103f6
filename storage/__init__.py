"""Where the service keeps its files (job audio, voice samples): one seam, two stores.

`protocol.ObjectStore` is the seam; `local.LocalStore` keeps files under `AUDIO_DIR` (the
default, and `voicehook dev`), `s3.S3Store` in an S3-compatible bucket (`STORAGE_URL`).
`keys` is the pure naming of objects and stores; `open_store` builds the configured one.
Depends only on `config`.
"""
