"""设置 → 用户与权限 in the service layer: who may add people and change roles, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import Role
from dyy_desk.services.audit import last_entries, verify_audit
from dyy_desk.services.auth_service import AccessDenied, AuthService, ScryptParams
from dyy_desk.services.errors import NotFound, ServiceError
from dyy_desk.services.user_admin import UserAdminService, assignable_roles

FAST = ScryptParams(n=2**10, r=8, p=1)


@pytest.fixture
def admin(empty_workspace: Any, clock: FakeClock) -> UserAdminService:
    return UserAdminService(engine=empty_workspace.engine, clock=clock, origin=empty_workspace.machine_id)


@pytest.fixture
def people(empty_workspace: Any) -> dict[str, Any]:
    make = empty_workspace.directory.create_user
    return {
        "admin": make(name="王总", role=Role.ADMIN)[0],
        "sup": make(name="赵敏", role=Role.SUPERVISOR)[0],
        "sup2": make(name="钱峰", role=Role.SUPERVISOR)[0],
        "agent": make(name="李娜", role=Role.AGENT)[0],
    }


def _audit(ws: Any) -> list[Any]:
    with ws.engine.connect() as conn:
        assert verify_audit(conn).ok
        return last_entries(conn)


def test_supervisor_adds_an_agent_and_the_audit_names_them(
    admin: UserAdminService, people: dict[str, Any], empty_workspace: Any
) -> None:
    user, changes = admin.add_user(actor_id=people["sup"].id, name="  孙丽 ", role=Role.AGENT)
    assert (user.name, user.role) == ("孙丽", Role.AGENT) and changes.users
    assert user in [u for u in empty_workspace.directory.users()]
    entry = _audit(empty_workspace)[-1]
    assert (entry.action, entry.actor_id, entry.target) == (
        "user_created",
        people["sup"].id,
        f"user:{user.id}",
    )
    assert '"role":"agent"' in entry.details


def test_nobody_grants_a_role_above_their_own(admin: UserAdminService, people: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied, match="不能授予管理员"):
        admin.add_user(actor_id=people["sup"].id, name="孙丽", role=Role.ADMIN)
    with pytest.raises(AccessDenied, match="仅主管或管理员"):
        admin.add_user(actor_id=people["agent"].id, name="孙丽", role=Role.AGENT)
    with pytest.raises(AccessDenied, match="不能授予管理员"):
        admin.change_role(actor_id=people["sup"].id, user_id=people["agent"].id, role=Role.ADMIN)
    assert admin.add_user(actor_id=people["admin"].id, name="孙丽", role=Role.ADMIN)[0].role is Role.ADMIN


def test_add_refuses_blank_and_taken_names(admin: UserAdminService, people: dict[str, Any]) -> None:
    with pytest.raises(ServiceError, match="不能为空"):
        admin.add_user(actor_id=people["admin"].id, name="  ", role=Role.AGENT)
    with pytest.raises(ServiceError, match="已有名为「李娜」"):
        admin.add_user(actor_id=people["admin"].id, name="李娜", role=Role.AGENT)


def test_change_role_is_audited_and_the_roster_follows(
    admin: UserAdminService, people: dict[str, Any], empty_workspace: Any
) -> None:
    user, changes = admin.change_role(
        actor_id=people["sup"].id, user_id=people["agent"].id, role=Role.SUPERVISOR
    )
    assert user.role is Role.SUPERVISOR and changes.users
    roles = {e.user.name: e.user.role for e in admin.roster()}
    assert roles["李娜"] is Role.SUPERVISOR
    entry = _audit(empty_workspace)[-1]
    assert (
        entry.action == "user_role_changed"
        and '"from":"agent"' in entry.details
        and '"to":"supervisor"' in entry.details
    )
    unchanged, nothing = admin.change_role(
        actor_id=people["sup"].id, user_id=people["agent"].id, role=Role.SUPERVISOR
    )
    assert unchanged.role is Role.SUPERVISOR and not nothing.users
    assert _audit(empty_workspace)[-1].seq == entry.seq


def test_role_change_limits(admin: UserAdminService, people: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied, match="不能修改自己的角色"):
        admin.change_role(actor_id=people["sup"].id, user_id=people["sup"].id, role=Role.AGENT)
    with pytest.raises(AccessDenied, match="无权修改管理员「王总」"):
        admin.change_role(actor_id=people["sup"].id, user_id=people["admin"].id, role=Role.AGENT)
    with pytest.raises(AccessDenied):
        admin.change_role(actor_id=people["agent"].id, user_id=people["sup"].id, role=Role.AGENT)
    with pytest.raises(NotFound):
        admin.change_role(actor_id=people["admin"].id, user_id="nobody", role=Role.AGENT)
    # a supervisor may demote a fellow supervisor (same rank), never an admin
    assert (
        admin.change_role(actor_id=people["sup"].id, user_id=people["sup2"].id, role=Role.AGENT)[0].role
        is Role.AGENT
    )


def test_an_admin_always_remains(admin: UserAdminService, people: dict[str, Any]) -> None:
    """The sole admin cannot demote themselves and nobody else may; with two, one can step down."""
    with pytest.raises(AccessDenied, match="不能修改自己的角色"):
        admin.change_role(actor_id=people["admin"].id, user_id=people["admin"].id, role=Role.SUPERVISOR)
    second, _ = admin.add_user(actor_id=people["admin"].id, name="周舟", role=Role.ADMIN)
    demoted, _ = admin.change_role(actor_id=second.id, user_id=people["admin"].id, role=Role.SUPERVISOR)
    assert demoted.role is Role.SUPERVISOR
    with pytest.raises(AccessDenied, match="无权修改管理员「周舟」"):
        admin.change_role(actor_id=people["admin"].id, user_id=second.id, role=Role.SUPERVISOR)
    assert [e.user.name for e in admin.roster() if e.user.role is Role.ADMIN] == ["周舟"]


def test_roster_orders_by_rank_and_shows_who_has_a_password(
    admin: UserAdminService, people: dict[str, Any], empty_workspace: Any, clock: FakeClock
) -> None:
    auth = AuthService(engine=empty_workspace.engine, clock=clock, params=FAST)
    auth.set_password(actor_id=people["sup"].id, user_id=people["sup"].id, new_password="zhaomin-pw")
    roster = admin.roster()
    assert [e.user.name for e in roster] == ["王总", "赵敏", "钱峰", "李娜"]
    assert {e.user.name: e.has_password for e in roster} == {
        "王总": False,
        "赵敏": True,
        "钱峰": False,
        "李娜": False,
    }


def test_assignable_roles() -> None:
    from dyy_desk.core.types import UserRow

    assert assignable_roles(UserRow("a", "a", Role.AGENT)) == ()
    assert assignable_roles(UserRow("s", "s", Role.SUPERVISOR)) == (Role.AGENT, Role.SUPERVISOR)
    assert assignable_roles(UserRow("x", "x", Role.ADMIN)) == (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
