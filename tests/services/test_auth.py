"""Passwords for supervisors and admins: scrypt hashes, throttled and audited failures, role checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import Role, UserRow
from dyy_desk.services.audit import last_entries, verify_audit
from dyy_desk.services.auth_service import (
    AccessDenied,
    AuthService,
    PasswordNotSet,
    ScryptParams,
    TooManyAttempts,
    WrongPassword,
    check_password,
    hash_password,
    require_role,
    throttle_delay,
)
from dyy_desk.services.errors import NotFound, ServiceError

FAST = ScryptParams(n=2**10, r=8, p=1)


@pytest.fixture
def team(empty_workspace: Any, clock: FakeClock) -> tuple[AuthService, dict[str, UserRow]]:
    directory = empty_workspace.directory
    people = {
        "agent": directory.create_user(name="李娜", role=Role.AGENT)[0],
        "sup": directory.create_user(name="赵敏", role=Role.SUPERVISOR)[0],
        "sup2": directory.create_user(name="王强", role=Role.SUPERVISOR)[0],
        "admin": directory.create_user(name="陈总", role=Role.ADMIN)[0],
    }
    return AuthService(engine=empty_workspace.engine, clock=clock, params=FAST), people


def _actions(auth: AuthService) -> list[str]:
    with auth._engine.connect() as conn:
        return [e.action for e in last_entries(conn)]


def test_hash_format_salt_and_verify() -> None:
    encoded = hash_password("s3cret!", params=FAST)
    scheme, n, r, p, _salt, _digest = encoded.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", FAST.n, FAST.r, FAST.p)
    assert check_password("s3cret!", encoded)
    assert not check_password("s3cret", encoded)
    assert hash_password("s3cret!", params=FAST) != encoded  # a fresh salt every time
    assert not check_password("s3cret!", "scrypt$bad")
    assert not check_password("s3cret!", encoded.replace("scrypt", "md5", 1))


def test_default_parameters_round_trip() -> None:
    encoded = hash_password("默认参数密码")
    assert encoded.split("$")[1] == str(2**14)
    assert check_password("默认参数密码", encoded) and not check_password("默认参数", encoded)


def test_throttle_schedule() -> None:
    assert [throttle_delay(n).total_seconds() for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    assert throttle_delay(60) == timedelta(minutes=15)


def test_first_set_then_authenticate(team: Any) -> None:
    auth, people = team
    sup = people["sup"]
    assert auth.needs_password(sup) and not auth.needs_password(people["agent"])
    assert not auth.has_password(user_id=sup.id)
    with pytest.raises(PasswordNotSet):
        auth.authenticate(user_id=sup.id, password="whatever")
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="zhaomin-1")
    assert auth.has_password(user_id=sup.id)
    assert auth.authenticate(user_id=sup.id, password="zhaomin-1") == sup
    with pytest.raises(WrongPassword, match="密码不正确"):
        auth.authenticate(user_id=sup.id, password="zhaomin-2")
    assert _actions(auth) == ["user_created"] * 4 + ["password_first_set", "auth_ok", "auth_failed"]


def test_change_needs_old_password_and_others_need_admin(team: Any) -> None:
    auth, people = team
    sup, sup2, admin, agent = people["sup"], people["sup2"], people["admin"], people["agent"]
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="first-pw")
    with pytest.raises(WrongPassword):
        auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="second-pw", old_password="nope!!")
    with pytest.raises(WrongPassword):
        auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="second-pw")
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="second-pw", old_password="first-pw")
    assert auth.authenticate(user_id=sup.id, password="second-pw") == sup
    with pytest.raises(AccessDenied, match="仅本人或管理员"):
        auth.set_password(actor_id=sup2.id, user_id=sup.id, new_password="hijacked")
    with pytest.raises(AccessDenied):
        auth.set_password(actor_id=agent.id, user_id=sup.id, new_password="hijacked")
    auth.set_password(actor_id=admin.id, user_id=sup.id, new_password="reset-by-admin")
    assert auth.authenticate(user_id=sup.id, password="reset-by-admin") == sup
    with pytest.raises(ServiceError, match="至少 6 位"):
        auth.set_password(actor_id=admin.id, user_id=sup.id, new_password="short")
    with pytest.raises(ServiceError, match="不需要密码"):
        auth.set_password(actor_id=admin.id, user_id=agent.id, new_password="agent-pw")
    assert "password_reset" in _actions(auth)


def test_failures_are_throttled_with_the_clock_and_audited(team: Any, clock: FakeClock) -> None:
    auth, people = team
    sup = people["sup"]
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="right-pw")
    for _ in range(2):
        with pytest.raises(WrongPassword):
            auth.authenticate(user_id=sup.id, password="wrong")
    with pytest.raises(WrongPassword, match="2 秒后再试"):
        auth.authenticate(user_id=sup.id, password="wrong")
    # while blocked even the right password is refused without being checked
    with pytest.raises(TooManyAttempts) as blocked:
        auth.authenticate(user_id=sup.id, password="right-pw")
    assert blocked.value.retry_after == timedelta(seconds=2)
    clock.advance(seconds=2)
    with pytest.raises(WrongPassword, match="4 秒后再试"):
        auth.authenticate(user_id=sup.id, password="wrong")
    clock.advance(seconds=3)
    with pytest.raises(TooManyAttempts, match="1 秒"):
        auth.authenticate(user_id=sup.id, password="right-pw")
    clock.advance(seconds=1)
    assert auth.authenticate(user_id=sup.id, password="right-pw") == sup
    # success resets the counter: the next mistake is free again
    with pytest.raises(WrongPassword) as again:
        auth.authenticate(user_id=sup.id, password="wrong")
    assert "再试" not in str(again.value)
    actions = _actions(auth)
    assert actions.count("auth_failed") == 5 and actions.count("auth_throttled") == 2
    with auth._engine.connect() as conn:
        assert verify_audit(conn).ok


def test_throttle_survives_a_new_service_instance(team: Any, clock: FakeClock) -> None:
    auth, people = team
    sup = people["sup"]
    auth.set_password(actor_id=sup.id, user_id=sup.id, new_password="right-pw")
    for _ in range(3):
        with pytest.raises(WrongPassword):
            auth.authenticate(user_id=sup.id, password="wrong")
    fresh = AuthService(engine=auth._engine, clock=clock, params=FAST)
    with pytest.raises(TooManyAttempts):
        fresh.authenticate(user_id=sup.id, password="right-pw")


def test_require_role(team: Any) -> None:
    auth, people = team
    with auth._engine.connect() as conn:
        assert require_role(conn, people["sup"].id, {Role.SUPERVISOR, Role.ADMIN}) == people["sup"]
        with pytest.raises(AccessDenied, match="客服「李娜」无权执行此操作：仅主管或管理员可以操作"):
            require_role(conn, people["agent"].id, {Role.SUPERVISOR, Role.ADMIN})
        with pytest.raises(AccessDenied):
            require_role(conn, people["sup"].id, {Role.ADMIN})
        with pytest.raises(NotFound):
            require_role(conn, None, Role)
        with pytest.raises(NotFound):
            require_role(conn, "no-such-user", Role)


def test_user_by_name(team: Any) -> None:
    auth, people = team
    assert auth.user_by_name(name=" 赵敏 ") == people["sup"]
    with pytest.raises(NotFound, match="没有名为「谁」的用户"):
        auth.user_by_name(name="谁")
