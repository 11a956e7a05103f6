"""A local emulator of the Voice Production AI API: `create_app(settings)`, or `run_sandbox()`
to serve one on a background thread. Everything else in this package is internal."""

from sandbox.app import create_app
from sandbox.server import RunningSandbox, run_sandbox
from sandbox.settings import SandboxSettings

__all__ = ["RunningSandbox", "SandboxSettings", "create_app", "run_sandbox"]
