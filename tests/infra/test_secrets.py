from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from dyy_desk.infra.bundle_crypto import format_team_key, generate_team_key
from dyy_desk.infra.secrets import (
    ENV_VAR,
    SERVICE,
    UNPROTECTED_FILE_NAME,
    KeyLocation,
    SecretStoreError,
    TeamKeyStore,
    keyring_status,
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class RefusingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("locked")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def test_keyring_round_trip(memory: MemoryKeyring, tmp_path: Path) -> None:
    store = TeamKeyStore(tmp_path, environ={})
    key = generate_team_key()
    assert keyring_status().available
    assert store.save("team-1", key) is KeyLocation.KEYRING
    assert memory.items[(SERVICE, "team-key:team-1")] == format_team_key(key)
    assert store.load("team-1") == (key, KeyLocation.KEYRING)
    assert store.load("team-2") is None
    store.delete("team-1")
    store.delete("team-1")  # deleting twice is fine
    assert store.load("team-1") is None
    assert not (tmp_path / UNPROTECTED_FILE_NAME).exists()


def test_missing_keyring_is_reported_and_no_file_without_opt_in(no_keyring: None, tmp_path: Path) -> None:
    status = keyring_status()
    assert not status.available and status.problem and "钥匙串" in status.problem
    store = TeamKeyStore(tmp_path, environ={})
    with pytest.raises(SecretStoreError, match="未受保护的文件"):
        store.save("team-1", generate_team_key())
    assert list(tmp_path.iterdir()) == []
    assert store.load("team-1") is None


def test_unprotected_file_only_when_opted_in(no_keyring: None, tmp_path: Path) -> None:
    key, other = generate_team_key(), generate_team_key()
    store = TeamKeyStore(tmp_path / "config", allow_unprotected_file=True, environ={})
    assert store.save("team-1", key) is KeyLocation.UNPROTECTED_FILE
    assert store.save("team-2", other) is KeyLocation.UNPROTECTED_FILE
    path = tmp_path / "config" / UNPROTECTED_FILE_NAME
    assert "NOT-PROTECTED" in path.name
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.load("team-1") == (key, KeyLocation.UNPROTECTED_FILE)
    # The same file is ignored by a store the user did not opt in for.
    assert TeamKeyStore(tmp_path / "config", environ={}).load("team-1") is None
    TeamKeyStore(tmp_path / "config", environ={}).delete("team-1")
    assert store.load("team-1") is None and store.load("team-2") == (other, KeyLocation.UNPROTECTED_FILE)


def test_failing_keyring_write_falls_back_only_with_opt_in(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(RefusingKeyring())
    try:
        with pytest.raises(SecretStoreError, match="拒绝保存"):
            TeamKeyStore(tmp_path, environ={}).save("t", generate_team_key())
        opted = TeamKeyStore(tmp_path, allow_unprotected_file=True, environ={})
        assert opted.save("t", generate_team_key()) is KeyLocation.UNPROTECTED_FILE
    finally:
        keyring.set_keyring(previous)


def test_environment_variable_wins(no_keyring: None, tmp_path: Path) -> None:
    key = generate_team_key()
    store = TeamKeyStore(tmp_path, environ={ENV_VAR: format_team_key(key).lower()})
    assert store.load("any-team") == (key, KeyLocation.ENVIRONMENT)


def test_environment_is_read_from_os_environ_by_default(
    memory: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_team_key()
    monkeypatch.setenv(ENV_VAR, format_team_key(key))
    assert TeamKeyStore(tmp_path).load("t") == (key, KeyLocation.ENVIRONMENT)
    monkeypatch.setenv(ENV_VAR, "DYY1-TYPO")
    with pytest.raises(ValueError):
        TeamKeyStore(tmp_path).load("t")


def test_locked_keyring_is_reported_plainly(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        store = TeamKeyStore(tmp_path, environ={})
        with pytest.raises(SecretStoreError, match="读取系统钥匙串失败"):
            store.load("t")
        with pytest.raises(SecretStoreError, match="删除团队密钥失败"):
            store.delete("t")
    finally:
        keyring.set_keyring(previous)
