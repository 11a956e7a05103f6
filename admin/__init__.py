"""The operator dashboard at `/admin`, served by `voicehook web` (see README "Dashboard")."""
