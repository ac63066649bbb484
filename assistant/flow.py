"""The dialog data compiled into one typed graph: where every answer leads, decided once.

`compile_flow` is the only place that reads the data's destinations and turns
them into routes between named nodes; nothing after it looks at a spelling.
Every node has a kind, every route a trigger, and each knows the line of the
data that wrote it, so the safety proofs (`assistant.flow_proofs`) can name
the file, the line and the path that breaks them. The `transitions` machine,
the diagram and the tests' paths are all generated from this graph.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from assistant.dialog_data import Dialogs, Disposition, Message, Question

Kind = Literal["start", "question", "message", "help", "guidance", "routine", "goodbye"]
RouteKind = Literal["answer", "reask", "safe", "command", "sign", "routine", "keep"]

START, HELP, GUIDANCE, GOODBYE = "start", "help", "emergency", "goodbye"
RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL = (
    "routine.running", "routine.paused", "routine.check_in", "routine.which",
    "routine.ask_unwell",
)
ROUTINE_STATES = (RUNNING, PAUSED, CHECK_IN, WHICH, UNWELL)
# Commands that keep the moment (said again, slower, louder...): internal everywhere.
KEEPING = ("repeat", "what_can_i_say", "slower", "faster", "louder", "softer", "normal_speed",
           "normal_volume")
ANSWER_TRIGGERS = ("yes", "no", "unsure", "unclear", "silence")


@dataclass(frozen=True)
class Place:
    """Where something is written in the dialog data: a file and a key path."""

    file: str
    loc: tuple[str | int, ...]


@dataclass(frozen=True)
class Route:
    """One way out of a node: on `trigger`, to `to` (None: the node keeps listening)."""

    trigger: str
    to: str | None
    kind: RouteKind
    place: Place | None = None
    because: Literal["yes", "unclear", "no_answer"] | None = None  # said before an outcome


@dataclass(frozen=True)
class Node:
    name: str
    kind: Kind
    place: Place
    listens: bool
    routes: tuple[Route, ...] = ()
    scope: str | None = None  # the parent whose routes it inherits ("check", "routine")
    question: Question | None = None
    message: Message | None = None
    outcome: Disposition | None = None  # the care a message records
    red_flag: bool = False  # a question whose "yes" is an emergency


@dataclass(frozen=True)
class Flow:
    """Every node by name, the routes each scope gives its children, and the start."""

    nodes: Mapping[str, Node]
    scopes: Mapping[str, tuple[Route, ...]]
    start: str
    around_routine: frozenset[str] = field(default_factory=frozenset)
    follow_ups: frozenset[str] = field(default_factory=frozenset)

    def routes(self, name: str) -> tuple[Route, ...]:
        """The node's own routes, then those its scope gives it (the node's win)."""
        node = self.nodes[name]
        inherited = self.scopes.get(node.scope or "", ())
        own = {r.trigger for r in node.routes}
        return (*node.routes, *(r for r in inherited if r.trigger not in own))

    def route(self, name: str, trigger: str, kind: RouteKind | None = None) -> Route | None:
        """The route a trigger takes from this node (the final one after any re-ask)."""
        found = [r for r in self.routes(name) if r.trigger == trigger
                 and (kind is None or r.kind == kind)]
        final = [r for r in found if r.kind != "reask"]
        chosen = final or found
        return chosen[0] if chosen else None

    def listening(self) -> Iterator[str]:
        return (n for n, node in self.nodes.items() if node.listens)

    def level(self, name: str | None) -> Disposition | None:
        """The care a node gives at once: the guidance, or a message's outcome."""
        if name == GUIDANCE:
            return "emergency"
        node = self.nodes.get(name or "")
        return node.outcome if node is not None else None


def question_state(name: str, routine_setup: bool = False) -> str:
    return f"{'routine' if routine_setup else 'check'}.{name}"


def compile_flow(d: Dialogs) -> Flow:
    """The graph of the validated data. Destinations were checked at load: here they
    are only resolved ("next", "routine", "start") to node names."""
    nodes: dict[str, Node] = {START: Node(START, "start", Place("symptom_check.yaml",
                                                              ("greeting",)), False,
                                          (Route("begin", question_state(d.check.start),
                                                 "answer", Place("symptom_check.yaml",
                                                                 ("start",))),))}
    for section, file, items, setup in (
            ("nodes", "symptom_check.yaml", d.check.nodes, False),
            ("setup", "routine.yaml", d.routine.setup, True)):
        order = list(items)
        for name, item in items.items():
            here = question_state(name, setup)
            place = Place(file, (section, name))

            def to(destination: str, name: str = name, order: list[str] = order,
                   setup: bool = setup) -> str:
                return _resolve(d, destination, name, order, setup)

            if isinstance(item, Message):
                routes = (Route("proceed", to(item.then), "answer",
                                Place(file, (section, name, "then"))),)
                nodes[here] = Node(here, "message", place, False, routes,
                                   message=item, outcome=item.outcome)
            else:
                nodes[here] = Node(here, "question", place, True,
                                   _answer_routes(item, to, file, (section, name)),
                                   scope="routine" if setup else "check", question=item,
                                   red_flag=item.red_flag)
    nodes |= _routine_nodes(d)
    nodes[HELP] = Node(HELP, "help", Place("phrases.yaml", ("prompts", "help_question")), True,
                       (*(Route(t, GUIDANCE, "safe") for t in ("yes", "unsure", "unclear",
                                                               "silence", "emergency",
                                                               "red_flag")),
                        Route("no", None, "command"), Route("help", None, "keep"),
                        Route("stop", GOODBYE, "command"),
                        *(Route(t, None, "keep") for t in KEEPING)))
    nodes[GUIDANCE] = Node(GUIDANCE, "guidance", Place("emergency.yaml", ("emergency",)), True,
                           _guidance_routes())
    nodes[GOODBYE] = Node(GOODBYE, "goodbye", Place("phrases.yaml", ("prompts", "goodbye")),
                          False)
    safe_end = _resolve(d, d.routine.check_in.unclear.then, "", [], True)
    offers = [question_state(n) for n, q in d.check.nodes.items()
              if isinstance(q, Question) and q.if_yes == "routine"]
    around = frozenset([*ROUTINE_STATES, *offers, *(question_state(n, True)
                                                    for n in d.routine.setup)])
    follow_ups = frozenset(s.follow_up for s in d.words.symptoms.values() if s.follow_up)
    scopes = {"check": _global_routes(follow_ups), "routine": _global_routes(frozenset())}
    nodes = {n: _with_signs(d, node, around, safe_end) for n, node in nodes.items()}
    return Flow(nodes, scopes, START, around, follow_ups)


def _resolve(d: Dialogs, destination: str, here: str, order: list[str], setup: bool) -> str:
    if destination == "next":
        return question_state(order[order.index(here) + 1], setup)
    if destination == "routine":
        return question_state(next(iter(d.routine.setup)), True)
    if destination == "start":
        return RUNNING
    if destination in (GUIDANCE, GOODBYE):
        return destination
    return question_state(destination, setup)


def _answer_routes(q: Question, to: object, file: str, loc: tuple[str, ...]
                   ) -> tuple[Route, ...]:
    assert callable(to)

    def at(field: str) -> Place:
        return Place(file, (*loc, field))

    return (
        Route("yes", to(q.if_yes), "answer", at("if_yes"), "yes"),
        Route("no", to(q.if_no), "answer", at("if_no")),
        *(Route(t, None, "reask", at(f)) for t, f in (
            ("unsure", "if_unclear"), ("unclear", "if_unclear"), ("silence", "if_no_answer"))),
        Route("unsure", to(q.if_unclear), "safe", at("if_unclear"), "unclear"),
        Route("unclear", to(q.if_unclear), "safe", at("if_unclear"), "unclear"),
        Route("silence", to(q.if_no_answer), "safe", at("if_no_answer"), "no_answer"),
    )


def _global_routes(follow_ups: frozenset[str]) -> tuple[Route, ...]:
    """What works at every question and moment of a scope."""
    return (
        Route("emergency", GUIDANCE, "command"),
        Route("red_flag", GUIDANCE, "command"),
        Route("help", HELP, "command"),
        Route("stop", GOODBYE, "command"),
        *(Route(t, None, "keep") for t in KEEPING),
        *(Route(f"ask_{q}", question_state(q), "command") for q in sorted(follow_ups)),
    )


def _guidance_routes() -> tuple[Route, ...]:
    """The guidance never goes back to questions or exercises: only goodbye leaves it."""
    place = Place("emergency.yaml", ("emergency", "steps"))
    return (
        Route("next", None, "keep", place), Route("repeat", None, "keep", place),
        Route("acknowledged", None, "keep", place), Route("unclear", None, "keep", place),
        *(Route(t, None, "keep", place) for t in ("emergency", "help", "red_flag")),
        *(Route(t, None, "keep") for t in KEEPING if t != "repeat"),
        Route("silence", None, "reask", Place("emergency.yaml", ("emergency", "reminders"))),
        Route("silence", GOODBYE, "safe", Place("emergency.yaml", ("emergency", "reminders"))),
        Route("stop", GOODBYE, "command"),
    )


def _routine_nodes(d: Dialogs) -> dict[str, Node]:
    r = d.routine
    unclear = Place("routine.yaml", ("check_in", "unclear", "then"))
    safe_end = _resolve(d, r.check_in.unclear.then, "", [], True)
    well = _resolve(d, r.stop_question.well.then, "", [], True)

    def asked(triggers: tuple[str, ...]) -> tuple[Route, ...]:
        return (*(Route(t, None, "reask", unclear) for t in triggers),
                *(Route(t, safe_end, "safe", unclear) for t in triggers))

    return {
        RUNNING: Node(RUNNING, "routine", Place("routine.yaml", ("exercises",)), True, (
            Route("tick", None, "routine"), Route("check", CHECK_IN, "routine"),
            Route("finished", GOODBYE, "routine", Place("routine.yaml", ("summary",))),
            Route("pause", PAUSED, "command"), Route("skip", None, "command"),
            Route("stop", UNWELL, "command", Place("routine.yaml", ("stop_question",))),
        ), scope="routine"),
        PAUSED: Node(PAUSED, "routine", Place("routine.yaml", ("paused",)), True, (
            Route("resume", RUNNING, "command"), Route("yes", RUNNING, "answer"),
            Route("skip", RUNNING, "command"), Route("unclear", None, "keep"),
            Route("silence", None, "reask", Place("routine.yaml", ("paused", "reminders"))),
            Route("silence", GOODBYE, "safe", Place("routine.yaml", ("paused", "reminders"))),
        ), scope="routine"),
        CHECK_IN: Node(CHECK_IN, "routine", Place("routine.yaml", ("check_in",)), True, (
            Route("no", RUNNING, "answer"), Route("yes", WHICH, "answer"),
            Route("stop", UNWELL, "command", Place("routine.yaml", ("stop_question",))),
            *asked(("unclear", "unsure", "silence")),
        ), scope="routine"),
        WHICH: Node(WHICH, "routine", Place("routine.yaml", ("check_in", "which")), True,
                    asked(("unclear", "unsure", "silence", "yes", "no")), scope="routine"),
        UNWELL: Node(UNWELL, "routine", Place("routine.yaml", ("stop_question",)), True, (
            Route("yes", WHICH, "answer"),
            Route("no", well, "answer", Place("routine.yaml", ("stop_question", "well"))),
            # After "stop", not sure means stop safely, at once: no asking again.
            *(Route(t, safe_end, "safe", unclear) for t in ("unclear", "unsure", "silence")),
        ), scope="routine"),
    }


def _with_signs(d: Dialogs, node: Node, around: frozenset[str], safe_end: str) -> Node:
    """The routine's stop signs, at every moment of it and of the moments leading in.

    A sign that says only "I feel unwell" asks which it is (`then: which`); said again
    to that very question, it is no answer to it: asked again, then the safe end."""
    if node.name not in around:
        return node
    unclear = Place("routine.yaml", ("check_in", "unclear", "then"))
    signs: list[Route] = []
    for name, sign in d.routine.stop_signs.items():
        place = Place("routine.yaml", ("stop_signs", name, "then"))
        if sign.then == "which" and node.name == WHICH:
            signs += [Route(name, None, "reask", unclear), Route(name, safe_end, "safe", unclear)]
            continue
        to = {"emergency": GUIDANCE, "which": WHICH}.get(sign.then, GOODBYE)
        signs.append(Route(name, to, "sign", place))
    return Node(node.name, node.kind, node.place, node.listens, (*node.routes, *signs),
                node.scope, node.question, node.message, node.outcome, node.red_flag)
