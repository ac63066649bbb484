"""A picture of the dialog for clinical review, drawn from the compiled flow.

The same graph the machine is generated from and the proofs run on, drawn
with Graphviz: the symptom check and the routine as boxes, every route
between nodes as an arrow labelled with what leads there, and every way into
the call-911 guidance thick and red. Routes that keep the moment (asking
again, "repeat", "louder") and those that work everywhere (emergency, help,
stop) are described in a note instead: drawn at every node they would bury
the triage.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import graphviz

from assistant.dialog_data import Dialogs
from assistant.flow import GUIDANCE, Flow

EMERGENCY_EDGE = {"color": "red", "fontcolor": "red", "penwidth": "2.5"}
EMERGENCY_NODE = {"style": "filled", "fillcolor": "#ffd6d6", "color": "red", "penwidth": "2.5",
                  "shape": "doubleoctagon"}
NOTE = ("At every question and moment: 'emergency', or a red flag said in any words (now, or "
        "came and went recently), goes to the call-911 guidance; a doubtful one is confirmed once; "
        "a long-standing one is asked about once ('Is it new, or worse today?'). "
        "'help' asks 'Is this an emergency?' (yes, silence or unclear: the guidance); "
        "'stop' ends politely (in an exercise it first asks 'Do you feel unwell?'); 'repeat', "
        "'slower', 'louder' keep the state. An unclear or missing answer is asked again once in "
        "simpler words before its route. The guidance goes one step at a time.")
TITLE = "Leg weakness assistant: symptom check, call-911 guidance, seated routine"


def flow_graph(flow: Flow) -> graphviz.Digraph:
    """The flow as a Graphviz graph: one arrow per pair of nodes, labelled with its triggers."""
    graph = graphviz.Digraph("dialog", graph_attr={
        "label": f"{TITLE}\n\n{NOTE}", "labelloc": "b", "fontsize": "12", "rankdir": "TB",
        "compound": "true"}, node_attr={"shape": "box", "style": "rounded"})
    clusters = {"check": "symptom check", "routine": "routine"}
    for scope, label in clusters.items():
        with graph.subgraph(name=f"cluster_{scope}") as box:
            box.attr(label=label)
            for name in flow.nodes:
                if name.startswith(f"{scope}."):
                    box.node(name, name.split(".", 1)[1])
    for name in flow.nodes:
        if "." not in name:
            graph.node(name, name, **(EMERGENCY_NODE if name == GUIDANCE else {}))
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, node in flow.nodes.items():
        for route in node.routes:
            if route.to is not None and route.to != name and route.trigger not in labels[
                    (name, route.to)]:
                labels[(name, route.to)].append(route.trigger)
    for (source, dest), triggers in labels.items():
        style = EMERGENCY_EDGE if dest == GUIDANCE else {}
        graph.edge(source, dest, label=" | ".join(triggers), **style)
    return graph


def draw_dialog(dialogs: Dialogs, path: str | Path, emergency_number: str = "911") -> Path:
    """Write the flow picture; the format follows the file suffix (.png, .svg, .pdf, .dot)."""
    target = Path(path)
    graph = flow_graph(dialogs.graph)
    suffix = target.suffix.lstrip(".") or "png"
    if suffix == "dot":
        target.write_text(graph.source, encoding="utf-8")
    else:
        graph.render(outfile=str(target), format=suffix, cleanup=True)
    return target
