"""The sandbox's in-memory records and their lookups, scoped by workspace.

Only code running on the sandbox's event loop touches this state, and no method awaits, so
each method runs whole without interleaving; that is what guards it (a lock would add nothing).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sandbox.errors import ApiKeyTaken
from sandbox.models import CloneJob, Generation, Plan, Upload, Voice, WebhookEndpoint, Workspace
from sandbox.voices import PRESET_VOICES

DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"


def new_id() -> str:
    return str(uuid.uuid4())


def new_api_key() -> str:
    return f"vk_test_{uuid.uuid4().hex}"


class SandboxState:
    """Workspaces and keys, voices, generations, clone jobs, uploads and webhook endpoints."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget everything (the control API's reset)."""
        self.workspaces: dict[str, Workspace] = {}
        self.generations: dict[str, Generation] = {}
        self.clone_jobs: dict[str, CloneJob] = {}
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self._keys: dict[str, str] = {}
        self._cloned_voices: dict[str, Voice] = {}
        self._uploads: dict[tuple[str, str], Upload] = {}

    def create_workspace(
        self,
        *,
        plan: Plan,
        credits: int,
        name: str = "Sandbox workspace",
        api_key: str | None = None,
        workspace_id: str | None = None,
    ) -> Workspace:
        workspace = Workspace(id=workspace_id or new_id(), name=name, plan=plan, credits=credits)
        self.workspaces[workspace.id] = workspace
        self.add_key(workspace, api_key or new_api_key())
        return workspace

    def add_key(self, workspace: Workspace, key: str) -> str:
        """Give `workspace` another API key; raises ApiKeyTaken if the key is taken."""
        if key in self._keys:
            raise ApiKeyTaken("that API key already belongs to a workspace")
        self._keys[key] = workspace.id
        workspace.api_keys.append(key)
        return key

    def workspace_for_key(self, key: str) -> Workspace | None:
        workspace_id = self._keys.get(key)
        return self.workspaces.get(workspace_id) if workspace_id else None

    def voices_for(self, workspace_id: str) -> list[Voice]:
        """The presets, then the workspace's cloned voices, oldest first."""
        return [*PRESET_VOICES, *self.cloned_voices(workspace_id)]

    def cloned_voice(self, voice_id: str) -> Voice | None:
        return self._cloned_voices.get(voice_id)

    def cloned_voices(self, workspace_id: str) -> list[Voice]:
        return [v for v in self._cloned_voices.values() if v.workspace_id == workspace_id]

    def voice_for(self, workspace_id: str, voice_id: str) -> Voice | None:
        for preset in PRESET_VOICES:
            if preset.id == voice_id:
                return preset
        voice = self._cloned_voices.get(voice_id)
        return voice if voice and voice.workspace_id == workspace_id else None

    def add_cloned_voice(
        self, workspace_id: str, name: str, language: str, created_at: datetime, job_id: str | None
    ) -> Voice:
        voice = Voice(
            id=new_id(),
            name=name,
            kind="cloned",
            language=language,
            created_at=created_at,
            workspace_id=workspace_id,
            clone_job_id=job_id,
        )
        self._cloned_voices[voice.id] = voice
        return voice

    def generation_for(self, workspace_id: str, generation_id: str) -> Generation | None:
        generation = self.generations.get(generation_id)
        return generation if generation and generation.workspace_id == workspace_id else None

    def add_upload(self, upload: Upload) -> None:
        self._uploads[(upload.workspace_id, upload.path)] = upload

    def upload_for(self, workspace_id: str, path: str) -> Upload | None:
        return self._uploads.get((workspace_id, path))

    def endpoints_for(self, workspace_id: str) -> list[WebhookEndpoint]:
        return [e for e in self.endpoints.values() if e.workspace_id == workspace_id]
