"""Safety, proved over the compiled flow at every start: whatever loads is safe.

Each proof walks the graph the machine is generated from, so no edit to the
data can load if it breaks one; a failure names the file, the line and the
path that breaks it. The proofs:

1. From every listening node, "emergency" reaches the call-911 guidance in one
   turn, and "help" then silence in two; so does a red flag said in any words.
2. An unclear or missing answer never leads to less care than a "yes" to the
   same question would: a red flag's unclear and silent routes end in
   emergency or urgent care (clinical reference §4.1).
3. Every node reaches goodbye, and nothing leaves the guidance but goodbye.
4. Every stop sign reaches its declared outcome from every moment of the
   routine and of the moments that lead into it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from assistant.dialog_data import DISPOSITION_RANK, Dialogs
from assistant.flow import GOODBYE, GUIDANCE, HELP, WHICH, Flow, Place

Problem = tuple[Place, str]


def prove(flow: Flow, dialogs: Dialogs) -> list[Problem]:
    """Every way the flow breaks a safety rule (an empty list: it is safe)."""
    return [*_emergency_in_one_turn(flow), *_unclear_is_never_less_care(flow),
            *_everything_ends_in_goodbye(flow), *_stop_signs(flow, dialogs)]


def _emergency_in_one_turn(flow: Flow) -> Iterator[Problem]:
    help_silence = flow.route(HELP, "silence")
    if help_silence is None or help_silence.to != GUIDANCE:
        yield flow.nodes[HELP].place, "silence after 'Is this an emergency?' must be the guidance"
    for name in flow.listening():
        node = flow.nodes[name]
        for trigger in ("emergency", "red_flag"):
            route = flow.route(name, trigger)
            stays = name == GUIDANCE and route is not None and route.to is None
            if not stays and (route is None or route.to != GUIDANCE):
                yield node.place, f"'{trigger}' at {name} does not reach the guidance in one turn"
        route = flow.route(name, "help")
        if name not in (HELP, GUIDANCE) and (route is None or route.to != HELP):
            yield node.place, f"'help' at {name} does not ask 'Is this an emergency?'"


def _follow(flow: Flow, name: str | None, seen: frozenset[str] = frozenset()) -> str | None:
    """Where a route ends once messages have been said (they move on by themselves)."""
    node = flow.nodes.get(name or "")
    if node is None or node.kind != "message" or name in seen:
        return name
    proceed = flow.route(node.name, "proceed")
    if proceed is None or node.outcome is not None:
        return name
    return _follow(flow, proceed.to, seen | {node.name})


def _unclear_is_never_less_care(flow: Flow) -> Iterator[Problem]:
    for name, node in flow.nodes.items():
        if node.kind != "question":
            continue
        yes = flow.route(name, "yes")
        wanted = flow.level(_follow(flow, yes.to if yes else None))
        if node.red_flag:
            wanted = "urgent"  # the guidance, or at least the doctor today (§4.1)
        if wanted is None:
            continue
        for trigger in ("unclear", "silence"):  # "unsure" takes the unclear route
            route = flow.route(name, trigger, "safe")
            end = _follow(flow, route.to if route else None)
            got = flow.level(end)
            if got is None or DISPOSITION_RANK[got] < DISPOSITION_RANK[wanted]:
                yield (route.place if route and route.place else node.place,
                       f"{name} --{trigger}--> {end} gives {got or 'no outcome'}, less than "
                       f"{wanted}: an unclear or missing answer must never lower the care")


def _everything_ends_in_goodbye(flow: Flow) -> Iterator[Problem]:
    back: dict[str, set[str]] = {n: set() for n in flow.nodes}
    for name in flow.nodes:
        for route in flow.routes(name):
            if route.to is not None:
                back.setdefault(route.to, set()).add(name)
    reach, queue = {GOODBYE}, deque([GOODBYE])
    while queue:
        for before in back.get(queue.popleft(), ()):
            if before not in reach:
                reach.add(before)
                queue.append(before)
    for name, node in flow.nodes.items():
        if name not in reach:
            yield node.place, f"{name} can never reach goodbye"
    for route in flow.routes(GUIDANCE):
        if route.to not in (None, GUIDANCE, GOODBYE):
            yield (route.place or flow.nodes[GUIDANCE].place,
                   f"the guidance goes to {route.to} on '{route.trigger}': only goodbye leaves it")


def _stop_signs(flow: Flow, dialogs: Dialogs) -> Iterator[Problem]:
    for sign_name, sign in dialogs.routine.stop_signs.items():
        wanted = {"emergency": GUIDANCE, "which": WHICH}.get(sign.then, GOODBYE)
        for name in sorted(flow.around_routine):
            route = flow.route(name, sign_name)
            if name == wanted == WHICH:  # said again to "which is it?": asked, then the safe end
                route = route if route is not None and route.kind == "safe" else None
            elif route is None or route.to != wanted:
                route = None
            if route is None:
                yield (Place("routine.yaml", ("stop_signs", sign_name)),
                       f"'{sign_name}' at {name} does not reach {wanted}")
