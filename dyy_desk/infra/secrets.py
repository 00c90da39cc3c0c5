"""Where the team key lives: the OS keyring, or — only if the user says so — a plainly named file.

Headless Linux and some locked-down Windows machines have no usable keyring; keyring then picks its
"fail" or "null" backend, or raises NoKeyringError. We say so in words, and never fall back to a
file silently: the file is written only when `allow_unprotected_file` is set from an explicit user
choice, and its name says it is not protected. `DYY_DESK_TEAM_KEY` (the key text) overrides both so
automated tests and CI can run without any keyring.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors

from dyy_desk.infra.bundle_crypto import format_team_key, parse_team_key

SERVICE = "dyy-desk"
ENV_VAR = "DYY_DESK_TEAM_KEY"
UNPROTECTED_FILE_NAME = "team-keys-NOT-PROTECTED.json"


class KeyLocation(StrEnum):
    KEYRING = "keyring"
    UNPROTECTED_FILE = "unprotected_file"
    ENVIRONMENT = "environment"


class SecretStoreError(RuntimeError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class KeyringStatus:
    available: bool
    backend: str
    problem: str | None  # plain Chinese explanation when not available


def keyring_status() -> KeyringStatus:
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # keyring's backend discovery can raise anything from a broken plugin
        return KeyringStatus(False, "?", f"系统钥匙串无法加载（{type(exc).__name__}: {exc}）。")
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return KeyringStatus(
            False,
            name,
            "这台电脑没有可用的系统钥匙串（如 Windows 凭据管理器、macOS 钥匙串、Secret Service）。",
        )
    if getattr(backend, "backends", None) == []:
        return KeyringStatus(False, name, "系统钥匙串的后端列表为空，没有可用的钥匙串。")
    return KeyringStatus(True, name, None)


class TeamKeyStore:
    """Team keys by team id. Safe to use from the worker thread; holds no key in memory itself."""

    def __init__(
        self,
        config_dir: Path,
        *,
        allow_unprotected_file: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.unprotected_path = config_dir / UNPROTECTED_FILE_NAME
        self.allow_unprotected_file = allow_unprotected_file
        self._environ = os.environ if environ is None else environ

    def save(self, team_id: str, key: bytes) -> KeyLocation:
        text = format_team_key(key)
        status = keyring_status()
        problem = status.problem
        if status.available:
            try:
                keyring.set_password(SERVICE, _username(team_id), text)
                return KeyLocation.KEYRING
            except keyring.errors.KeyringError as exc:
                problem = f"系统钥匙串拒绝保存（{exc}）。"
        if not self.allow_unprotected_file:
            raise SecretStoreError(
                f"无法保存团队密钥：{problem}如需继续，请在设置中明确选择"
                f"“把团队密钥保存在未受保护的文件中”（{UNPROTECTED_FILE_NAME}，任何能打开此电脑文件的人都能读取）。"
            )
        keys = self._read_file()
        keys[team_id] = text
        self._write_file(keys)
        return KeyLocation.UNPROTECTED_FILE

    def load(self, team_id: str) -> tuple[bytes, KeyLocation] | None:
        """The key and where it came from, or None if no store has one. Bad stored text raises."""
        from_env = self._environ.get(ENV_VAR)
        if from_env:
            return parse_team_key(from_env), KeyLocation.ENVIRONMENT
        if keyring_status().available:
            try:
                text = keyring.get_password(SERVICE, _username(team_id))
            except keyring.errors.KeyringError as exc:
                raise SecretStoreError(f"读取系统钥匙串失败（{exc}）。") from exc
            if text is not None:
                return parse_team_key(text), KeyLocation.KEYRING
        if self.allow_unprotected_file:
            text = self._read_file().get(team_id)
            if text is not None:
                return parse_team_key(text), KeyLocation.UNPROTECTED_FILE
        return None

    def delete(self, team_id: str) -> None:
        """Remove the key from every store we write to, whatever the opt-in says today."""
        if keyring_status().available:
            try:
                keyring.delete_password(SERVICE, _username(team_id))
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored there
            except keyring.errors.KeyringError as exc:
                raise SecretStoreError(f"从系统钥匙串删除团队密钥失败（{exc}）。") from exc
        if self.unprotected_path.exists():
            keys = self._read_file()
            if keys.pop(team_id, None) is not None:
                self._write_file(keys)

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.unprotected_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecretStoreError(f"无法读取 {self.unprotected_path}（{exc}）。") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise SecretStoreError(f"{self.unprotected_path} 的内容格式不正确。")
        return {str(k): v for k, v in data.items()}

    def _write_file(self, keys: dict[str, str]) -> None:
        """Write to a 0600 temporary file, then rename, so a crash never leaves half a key file."""
        self.unprotected_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.unprotected_path.with_name(self.unprotected_path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle, ensure_ascii=False, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # umask cannot widen it, but a pre-existing ACL on Windows might
        os.replace(tmp, self.unprotected_path)


def _username(team_id: str) -> str:
    return f"team-key:{team_id}"
