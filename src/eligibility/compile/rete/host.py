"""durable_rules behind one lock: the process's host, its rulesets and the sessions' facts.

durable_rules keeps rulesets in a C engine that is global to the process and not safe
under threads (segfaults measured; see the README's rete section). This module
owns that boundary: one :class:`ReteHost` (a ``durable.engine.Host`` subclass that starts
none of durable's timer threads and resolves every rule's action by name), one lock that
every call into the engine takes, and the per-session bookkeeping the actions write into
(each derived fact's current version, so a changed value replaces the old fact: durable
has no truth maintenance). Rulesets are registered once per compiled pack under a unique
name and can never be unregistered (durable has no API for it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from durable import engine as _durable

from eligibility.compile.rete.network import Action, F, Network, T, U
from eligibility.errors import EligibilityError

NotHandled = _durable.MessageNotHandledException

#: Every call into durable_rules' C engine holds this lock (the engine is process-global).
LOCK = threading.RLock()

#: durable-rules 2.0.28 fails past ~1 024 live sessions (MemoryError, then SIGSEGV).
MAX_LIVE_SESSIONS = 512


class TooManySessions(EligibilityError):
    """More live rete sessions were asked for than durable_rules survives."""


def _split(missing: str) -> list[str]:
    return missing.split("\n") if missing else []


def _join(paths: list[str]) -> str:
    return "\n".join(paths)


class SessionState:
    """The facts of one live session: type -> (fact, stored in durable)."""

    __slots__ = ("error", "facts", "sid", "statuses")

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.facts: dict[str, tuple[dict[str, Any], bool]] = {}
        self.statuses: dict[str, str] = {}
        self.error: BaseException | None = None


class ReteHost(_durable.Host):  # type: ignore[misc]
    """A durable_rules host without timer threads, resolving actions from compiled networks."""

    def __init__(self) -> None:
        self._actions: dict[str, Callable[[Any], None]] = {}
        self._sessions: dict[str, SessionState] = {}
        self._consumed: dict[str, frozenset[str]] = {}  # ruleset -> fact types rules match
        super().__init__()

    def _run(self) -> None:  # no dispatch/timer threads: every action runs synchronously
        return None

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self._actions[action_name]

    # -- rulesets -----------------------------------------------------------
    def register(self, prefix: str, network: Network) -> str:
        """Register ``network`` as a new, uniquely named ruleset; return its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with LOCK:
            rules = {}
            for rule_name, rule in network.rules.items():
                action_name = f"{name}:{rule_name}"
                self._actions[action_name] = self._make_action(name, network.actions[rule_name])
                rules[rule_name] = {**rule, "run": action_name}
            self._consumed[name] = frozenset(network.parents)
            self.set_rulesets({name: rules})
        return name

    # -- sessions -------------------------------------------------------------
    @contextmanager
    def session(self, ruleset: str, sid: str) -> Iterator[SessionState]:
        """A session for one evaluation, cleaned (state deleted) however it ends."""
        state = self.open(sid)
        try:
            yield state
        finally:
            self.close(ruleset, state)

    def open(self, sid: str) -> SessionState:
        if len(self._sessions) >= MAX_LIVE_SESSIONS:
            raise TooManySessions(f"more than {MAX_LIVE_SESSIONS} live rete sessions; close "
                                  "some (durable-rules fails past ~1 024)")
        state = SessionState(sid)
        self._sessions[sid] = state
        return state

    def close(self, ruleset: str, state: SessionState) -> None:
        with LOCK:
            self._sessions.pop(state.sid, None)
            if any(stored for _, stored in state.facts.values()):
                self.delete_state(ruleset, state.sid)

    def put(self, ruleset: str, state: SessionState, fact: dict[str, Any]) -> None:
        """Assert ``fact`` (replacing the session's fact of the same type), run the rules.

        A fact no rule matches is only recorded (durable would refuse to store it)."""
        fact["sid"] = state.sid
        t = fact["t"]
        with LOCK:
            old = state.facts.get(t)
            if old is not None:
                if old[0] == fact:
                    return
                if old[1]:
                    self.retract_fact(ruleset, old[0])
            stored = t in self._consumed[ruleset]
            if stored:
                self.assert_fact(ruleset, fact)
            state.facts[t] = (fact, stored)
            if state.error is not None:
                error, state.error = state.error, None
                raise error

    # -- actions ----------------------------------------------------------------
    def _make_action(self, ruleset: str, action: Action) -> Callable[[Any], None]:
        compute = _COMPUTE[action.kind]
        sessions = self._sessions
        consumed = self._consumed

        def run(c: Any) -> None:
            state = sessions.get(c.s.sid)
            if state is None:
                return
            try:
                facts = {alias: getattr(c, bound)._d for alias, bound in action.alias_of.items()}
                fact = compute(action, facts, state)
                if fact is None:
                    return
                fact["sid"] = state.sid
                old = state.facts.get(fact["t"])
                if old is not None:
                    if old[0] == fact:
                        return
                    if old[1]:
                        c.retract_fact(old[0])
                stored = fact["t"] in consumed[ruleset]
                if stored:
                    c.assert_fact(fact)
                state.facts[fact["t"]] = (fact, stored)
            except BaseException as exc:  # durable would swallow it into the state
                state.error = exc

        return run


Facts = Mapping[str, Mapping[str, Any]]


def _cmp(action: Action, facts: Facts, state: SessionState) -> dict[str, Any]:
    return {"t": action.target, "v": action.value, "n": facts["a"]["n"]}


def _decisive(action: Action, facts: Facts, state: SessionState) -> dict[str, Any]:
    return {"t": action.target, "v": action.value, "n": ""}


def _rest(action: Action, facts: Facts, state: SessionState) -> dict[str, Any]:
    kids = [facts[a] for a in action.aliases]
    value = U if any(k["v"] == U for k in kids) else T - action.value
    missing = [p for k in kids for p in _split(k["n"])]
    return {"t": action.target, "v": value, "n": _join(missing)}


def _not(action: Action, facts: Facts, state: SessionState) -> dict[str, Any]:
    kid = facts["a"]
    return {"t": action.target, "v": T - kid["v"], "n": kid["n"]}


def _outcome(action: Action, facts: Facts, state: SessionState) -> dict[str, Any]:
    q = facts["q"]
    extra = action.extra
    waived = -1
    seen: list[str] = []
    if "waived" in extra:
        outcome = "waived"
        waived = extra["waived"]
    elif extra.get("fixed") == "met":
        outcome = "met"
    else:
        missing = _split(q["n"])
        for alias in action.aliases:
            missing.extend(_split(facts[alias]["n"]))
        seen = list(dict.fromkeys(missing))
        if extra.get("fixed") == "discretionary":
            outcome = "discretionary"
        elif q["v"] == F and not missing:
            outcome = "not_met"
        else:
            outcome = "unknown"
        if outcome == "not_met":
            seen = []
    return {"t": action.target, "o": outcome, "w": waived, "n": _join(seen), "v": q["v"]}


def _status(action: Action, facts: Facts, state: SessionState) -> None:
    outcomes = [facts[a]["o"] for a in action.aliases]
    if "not_met" in outcomes:
        status = "not_eligible"
    elif "unknown" in outcomes or "discretionary" in outcomes:
        status = "undetermined"
    else:
        status = "eligible"
    state.statuses[action.target] = status
    return None


_COMPUTE: dict[str, Callable[[Action, Facts, SessionState], dict[str, Any] | None]] = {
    "cmp": _cmp, "decisive": _decisive, "rest": _rest, "not": _not,
    "outcome": _outcome, "status": _status,
}

_HOST: list[ReteHost] = []


def host() -> ReteHost:
    """The process's one rete host (durable_rules' engine is process-global)."""
    with LOCK:
        if not _HOST:
            _HOST.append(ReteHost())
        return _HOST[0]
