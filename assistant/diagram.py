"""A picture of the dialog for clinical review, drawn from the same data as the machine.

Global commands (emergency, help, repeat, ...) work in every listening state;
drawing them everywhere would hide the triage, so a note says so instead.
Every way into the call-911 guidance is drawn thick and red.
"""

from __future__ import annotations

from pathlib import Path

from transitions.extensions import HierarchicalGraphMachine

from assistant.dialog import DialogMachine, DottedState
from assistant.dialog_data import Dialogs


class DialogGraphMachine(HierarchicalGraphMachine):
    state_cls = DottedState


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


def draw_dialog(dialogs: Dialogs, path: str | Path, emergency_number: str = "911") -> Path:
    """Write the flow picture; the format follows the file suffix (.png, .svg, .pdf, .dot)."""
    target = Path(path)
    built = DialogMachine(
        dialogs, emergency_number, machine_class=DialogGraphMachine, with_global_commands=False,
        graph_engine="graphviz", show_conditions=False, show_state_attributes=False,
        title="Leg weakness assistant: symptom check, call-911 guidance, seated routine",
    )
    machine = built.machine
    machine.style_attributes["edge"]["emergency"] = EMERGENCY_EDGE
    machine.style_attributes["node"]["emergency"] = EMERGENCY_NODE
    graph = machine.model_graphs[id(built.model)]
    graph.reset_styling()
    for event in machine.events.values():
        for source, transitions in event.transitions.items():
            # Asking again keeps the state; drawn, those loops would bury the triage.
            transitions[:] = [t for t in transitions if t.dest is not None]
            if any(t.dest == "emergency" for t in transitions):
                graph.custom_styles["edge"][source]["emergency"] = "emergency"
    machine._needs_update = True  # the markup behind the picture is cached
    graph.custom_styles["node"]["emergency"] = "emergency"
    picture = graph.get_graph()
    picture.attr(label=NOTE, labelloc="b", fontsize="12", rankdir="TB")
    suffix = target.suffix.lstrip(".") or "png"
    if suffix == "dot":
        target.write_text(picture.source, encoding="utf-8")
    else:
        picture.render(outfile=str(target), format=suffix, cleanup=True)
    return target
