"""Kill switches: the operator's halts by scope, folded from the compacted ``ctl.risk`` topic.

Scopes are ``global``, ``account:<name>``, ``deployment:<name>`` and ``strategy:<name>``; an order
is stopped when any scope covering it is halted. A switch is released by a record with
``halted=False`` for its scope (a tombstone alone does not release it: the stage never learns
which key a tombstone deleted).
"""

from __future__ import annotations

from platform_streams.schemas import RiskControl

GLOBAL_SCOPE = "global"
SCOPE_KINDS = ("account", "deployment", "strategy")


class KillSwitchError(ValueError):
    """A control record names a scope that is none of the known kinds."""


def validate_scope(scope: str) -> str:
    kind, _, name = scope.partition(":")
    if scope != GLOBAL_SCOPE and (kind not in SCOPE_KINDS or not name):
        raise KillSwitchError(
            f"kill switch scope {scope!r} is not 'global' or one of {', '.join(k + ':<name>' for k in SCOPE_KINDS)}"
        )
    return scope


class KillSwitches:
    """Which scopes are halted, and why."""

    def __init__(self) -> None:
        self.halted: dict[str, RiskControl] = {}
        self._latest: dict[str, RiskControl] = {}  # the newest record of each scope, a release included

    def apply(self, control: RiskControl) -> None:
        scope = validate_scope(control.scope)
        current = self._latest.get(scope)
        if current is not None and current.ts_ns > control.ts_ns:
            return  # an older record read late changes nothing (not even after a release)
        self._latest[scope] = control
        if control.halted:
            self.halted[scope] = control
        else:
            self.halted.pop(scope, None)

    def covering(self, account: str, deployment: str, strategy: str) -> RiskControl | None:
        """The halt that stops an order of ``deployment`` (running ``strategy``) in ``account``, if any."""
        halted = self.halted
        if not halted:
            return None
        for scope in (GLOBAL_SCOPE, f"account:{account}", f"deployment:{deployment}", f"strategy:{strategy}"):
            control = halted.get(scope)
            if control is not None:
                return control
        return None
