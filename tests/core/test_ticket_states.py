from __future__ import annotations

import itertools

import pytest

from dyy_desk.core.ticket_states import IllegalTransition, allowed_targets, check_transition, is_reopen
from dyy_desk.core.types import TicketStatus as S


def test_forward_path_is_allowed() -> None:
    path = [S.NEW, S.IN_PROGRESS, S.WAITING_BUYER, S.IN_PROGRESS, S.RESOLVED, S.CLOSED]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_new_cannot_jump_to_closed_and_message_lists_allowed() -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(S.NEW, S.CLOSED)
    message = str(info.value)
    assert "新建" in message and "已关闭" in message
    for allowed in ("处理中", "待买家回复", "待平台处理", "已解决"):
        assert allowed in message


def test_reopen_from_resolved_and_closed() -> None:
    assert is_reopen(S.CLOSED, S.IN_PROGRESS)
    assert is_reopen(S.RESOLVED, S.IN_PROGRESS)
    assert not is_reopen(S.NEW, S.IN_PROGRESS)
    check_transition(S.CLOSED, S.IN_PROGRESS)


def test_closed_can_only_reopen() -> None:
    assert allowed_targets(S.CLOSED) == [S.IN_PROGRESS]
    with pytest.raises(IllegalTransition):
        check_transition(S.CLOSED, S.RESOLVED)


def test_no_status_transitions_to_itself() -> None:
    for status in S:
        assert status not in allowed_targets(status)
