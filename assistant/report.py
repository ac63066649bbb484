"""The progress report for the caregiver and the clinician: one HTML file, large print,
readable on paper (a print stylesheet; the browser's "Print" makes the PDF).

Read from the history (never written): emergency and urgent outcomes first, then
sessions per week against the aim of at least twice a week (brief §6), exercises
completed against planned, what stopped a session and when, and every
symptom-check outcome with its reason and date. Charts are drawn by matplotlib
(Agg, no display needed) as SVG inside the file, each with a text alternative
and the same figures in a table beside it.
"""

from __future__ import annotations

import base64
import html
import io
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure  # the object API: no pyplot, no display, thread-safe
from matplotlib.ticker import MaxNLocator

WEEKLY_AIM = 2  # brief §6: the routine is suitable at least twice a week [16][18]
AIM_SOURCE = "brief §6: at least twice a week"
LEVEL_WORDS = {"emergency": "Emergency: told to call for help now",
               "urgent": "Urgent: told to call the doctor today",
               "routine": "Routine: no warning sign found"}
STOP_WORDS = {"stop": "asked to stop", "stop_sign": "a warning sign", "red_flag": "a red flag",
              "emergency": "said it was an emergency", "no answer": "no answer"}


@dataclass(frozen=True)
class SessionRow:
    id: str
    started: datetime
    end_reason: str | None
    disposition: str | None
    planned: int
    done: int
    skipped: int
    pauses: int


@dataclass(frozen=True)
class Happening:
    """Something with a date: an outcome, a stop, a red flag."""

    at: datetime
    kind: str
    what: str
    why: str


@dataclass(frozen=True)
class ExerciseRow:
    """One exercise over the period: how often planned, completed, skipped, and the
    repetitions and holds counted against planned in the sets it was done in."""

    name: str
    planned: int
    completed: int
    skipped: int
    reps_done: int
    reps_planned: int
    holds_done: int
    holds_planned: int


@dataclass
class ReportData:
    weeks: list[date]  # the Monday of each week shown, oldest first
    today: date
    sessions: list[SessionRow] = field(default_factory=list)
    outcomes: list[Happening] = field(default_factory=list)
    stops: list[Happening] = field(default_factory=list)
    red_flags: list[Happening] = field(default_factory=list)
    exercises: list[ExerciseRow] = field(default_factory=list)

    def per_week(self) -> list[int]:
        counts = Counter(_monday(s.started.date()) for s in self.sessions)
        return [counts.get(week, 0) for week in self.weeks]

    def serious(self) -> list[Happening]:
        return [o for o in self.outcomes if o.kind in ("emergency", "urgent")]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_report(db: sqlite3.Connection, weeks: int, today: date | None = None) -> ReportData:
    """The last `weeks` weeks (this one included) of the history."""
    today = today or datetime.now().astimezone().date()
    first = _monday(today) - timedelta(weeks=weeks - 1)
    data = ReportData([first + timedelta(weeks=i) for i in range(weeks)], today)
    since = first.isoformat()
    rows = db.execute(
        "SELECT s.id, s.started, s.end_reason, s.disposition, "
        "(SELECT count(*) FROM routine_events r WHERE r.session_id = s.id AND kind = 'planned'),"
        "(SELECT count(*) FROM routine_events r WHERE r.session_id = s.id AND kind = 'done'),"
        "(SELECT count(*) FROM routine_events r WHERE r.session_id = s.id AND kind = 'skipped'),"
        "(SELECT count(*) FROM routine_events r WHERE r.session_id = s.id AND kind = 'pause') "
        "FROM sessions s WHERE s.started >= ? ORDER BY s.started", (since,)).fetchall()
    data.sessions = [SessionRow(r[0], _when(r[1]), *r[2:]) for r in rows]
    data.outcomes = [Happening(_when(at), level, reason or "", said or "") for at, level, reason,
                     said in db.execute(  # outcomes only rise in a session: its last one
                         "SELECT at, disposition, reason, said FROM outcomes o WHERE at >= ? AND "
                         "rowid = (SELECT max(rowid) FROM outcomes WHERE session_id = o.session_id)"
                         " ORDER BY at", (since,))]
    data.stops = [Happening(_when(at), "stop", exercise or "before the first exercise",
                            why or "") for at, exercise, why in db.execute(
        "SELECT at, exercise, why FROM routine_events WHERE kind = 'stop' AND at >= ? "
        "ORDER BY at", (since,))]
    data.red_flags = [Happening(_when(at), "red_flag", symptom or "", said or "")
                      for at, symptom, said in db.execute(
                          "SELECT at, symptom, said FROM red_flags WHERE at >= ? ORDER BY at",
                          (since,))]
    data.exercises = [ExerciseRow(*row) for row in db.execute(
        "SELECT r.exercise, sum(r.kind = 'planned'), sum(r.kind = 'done'), "
        "sum(r.kind = 'skipped'), "
        "coalesce((SELECT sum(reps_done) FROM exercises e JOIN sessions s ON s.id = e.session_id"
        " WHERE e.name = r.exercise AND s.started >= ?), 0), "
        "coalesce((SELECT sum(reps_planned) FROM exercises e JOIN sessions s ON "
        "s.id = e.session_id WHERE e.name = r.exercise AND s.started >= ?), 0), "
        "coalesce((SELECT sum(holds_done) FROM exercises e JOIN sessions s ON "
        "s.id = e.session_id WHERE e.name = r.exercise AND s.started >= ?), 0), "
        "coalesce((SELECT sum(holds_planned) FROM exercises e JOIN sessions s ON "
        "s.id = e.session_id WHERE e.name = r.exercise AND s.started >= ?), 0) "
        "FROM routine_events r JOIN sessions s ON s.id = r.session_id "
        "WHERE s.started >= ? AND r.exercise IS NOT NULL AND r.kind IN ('planned', 'done', "
        "'skipped') GROUP BY r.exercise ORDER BY min(r.rowid)", (since,) * 5)]
    return data


# --- charts ---------------------------------------------------------------------------------

STYLE: dict[Any, Any] = {"font.size": 15, "svg.fonttype": "none", "axes.spines.top": False,
         "axes.spines.right": False}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def weeks_chart(data: ReportData) -> tuple[str, str]:
    """Sessions per week with the aim drawn across: (SVG as base64, text alternative)."""
    counts = data.per_week()
    labels = [week.strftime("%d %b") for week in data.weeks]
    with rc_context(STYLE):
        fig = Figure(figsize=(9, 4))
        ax = fig.subplots()
        colors = ["#1b5e20" if c >= WEEKLY_AIM else "#b26a00" for c in counts]
        ax.bar(labels, counts, color=colors)
        ax.axhline(WEEKLY_AIM, color="#000000", linestyle="--", linewidth=2)
        ax.text(len(labels) - 0.5, WEEKLY_AIM + 0.1, f"aim: {WEEKLY_AIM} a week", ha="right",
                va="bottom")
        ax.set_ylabel("sessions")
        ax.set_xlabel("week beginning")
        ax.set_ylim(0, max([*counts, WEEKLY_AIM]) + 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelrotation=45)
        svg = _svg(fig)
    met = sum(c >= WEEKLY_AIM for c in counts)
    alt = (f"Bar chart of sessions per week over {len(counts)} weeks: "
           + ", ".join(f"{label}: {c}" for label, c in zip(labels, counts, strict=True))
           + f". The aim of {WEEKLY_AIM} a week was met in {met} of {len(counts)} weeks.")
    return svg, alt


def exercises_chart(data: ReportData) -> tuple[str, str] | None:
    """Exercises completed against planned, per session with a routine."""
    rows = [s for s in data.sessions if s.planned]
    if not rows:
        return None
    labels = [s.started.strftime("%d %b") for s in rows]
    with rc_context(STYLE):
        fig = Figure(figsize=(9, 4))
        ax = fig.subplots()
        positions = list(range(len(rows)))
        ax.bar(positions, [s.planned for s in rows], color="#d9d9d9", label="planned",
               edgecolor="#555555")
        ax.bar(positions, [s.done for s in rows], color="#0d47a1", width=0.55,
               label="completed")
        ax.set_xticks(positions, labels, rotation=45)
        ax.set_ylabel("exercises")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        svg = _svg(fig)
    done, planned = sum(s.done for s in rows), sum(s.planned for s in rows)
    full = sum(s.done == s.planned for s in rows)
    alt = (f"Bar chart of exercises completed against planned in {len(rows)} sessions with the "
           f"routine: {done} of {planned} completed in all; every exercise done in {full} "
           "sessions. " + "; ".join(f"{label}: {s.done} of {s.planned}"
                                    for label, s in zip(labels, rows, strict=True)) + ".")
    return svg, alt


# --- the page -------------------------------------------------------------------------------

def _day(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M")


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th scope=\"col\">{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _figure(chart: tuple[str, str], caption: str) -> str:
    svg, alt = chart
    return (f"<figure><img src=\"data:image/svg+xml;base64,{svg}\" alt=\"{html.escape(alt)}\">"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _stop_why(why: str) -> str:
    kind, _, said = why.partition(": ")
    return f"{STOP_WORDS.get(kind, kind)}: {said}" if said else STOP_WORDS.get(kind, kind)


def render_report(data: ReportData, name: str | None = None) -> str:
    """The report as one self-contained HTML page."""
    sessions, weeks = data.sessions, data.per_week()
    title = f"Leg health helper: progress report{f' for {name}' if name else ''}"
    period = f"{data.weeks[0]:%d %B %Y} to {data.today:%d %B %Y}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class=\"period\">{html.escape(period)} ({len(data.weeks)} weeks). "
             "Guidance only: this report is not a diagnosis.</p>"]
    serious = data.serious()
    if serious:
        parts.append("<section class=\"alert\" aria-labelledby=\"serious\">"
                     "<h2 id=\"serious\">Emergency and urgent outcomes</h2>"
                     + _table(["Date", "Outcome", "Why"],
                              [[_day(o.at), LEVEL_WORDS.get(o.kind, o.kind), o.what]
                               for o in reversed(serious)]) + "</section>")
    else:
        parts.append("<section class=\"calm\"><h2>Emergency and urgent outcomes</h2>"
                     "<p>None in this period.</p></section>")
    done, planned = sum(s.done for s in sessions), sum(s.planned for s in sessions)
    met = sum(c >= WEEKLY_AIM for c in weeks)
    parts.append(
        "<section><h2>At a glance</h2><ul class=\"glance\">"
        f"<li><strong>{len(sessions)}</strong> sessions in {len(weeks)} weeks</li>"
        f"<li>The aim of at least {WEEKLY_AIM} a week was met in <strong>{met}</strong> of "
        f"{len(weeks)} weeks</li>"
        f"<li><strong>{done}</strong> of {planned} planned exercises completed</li>"
        f"<li><strong>{len(data.stops)}</strong> routines stopped before the end</li>"
        "</ul></section>")
    parts.append("<section><h2>Sessions per week</h2>"
                 + _figure(weeks_chart(data), f"Sessions each week; the dashed line is the aim "
                           f"({AIM_SOURCE}).")
                 + _table(["Week beginning", "Sessions", "Aim met"],
                          [[f"{w:%d %b %Y}", str(c), "yes" if c >= WEEKLY_AIM else "no"]
                           for w, c in zip(data.weeks, weeks, strict=True)]) + "</section>")
    chart = exercises_chart(data)
    routine_rows = [[_day(s.started), f"{s.done} of {s.planned}", str(s.skipped), str(s.pauses)]
                    for s in sessions if s.planned]
    parts.append("<section><h2>Exercises completed against planned</h2>"
                 + (_figure(chart, "Grey: exercises planned; blue: completed.") if chart else
                    "<p>No routine was started in this period.</p>")
                 + (_table(["Session", "Completed", "Skipped", "Pauses"], routine_rows)
                    if routine_rows else "") + "</section>")
    if data.exercises:
        parts.append("<section><h2>Each exercise</h2><p>How often it was planned, completed "
                     "and skipped; repetitions and holds counted against planned in the sets "
                     "that were started.</p>"
                     + _table(["Exercise", "Completed", "Skipped", "Repetitions", "Holds"],
                              [[e.name, f"{e.completed} of {e.planned}", str(e.skipped),
                                f"{e.reps_done} of {e.reps_planned}",
                                f"{e.holds_done} of {e.holds_planned}" if e.holds_planned
                                else "-"] for e in data.exercises]) + "</section>")
    parts.append("<section><h2>What stopped a routine, and when</h2>"
                 + (_table(["Date", "During", "Why"],
                           [[_day(s.at), s.what, _stop_why(s.why)] for s in data.stops])
                    if data.stops else "<p>No routine was stopped early.</p>") + "</section>")
    if data.red_flags:
        parts.append("<section><h2>Warning signs mentioned</h2>"
                     + _table(["Date", "Sign", "Words said"],
                              [[_day(f.at), f.what.replace("_", " "), f.why]
                               for f in data.red_flags]) + "</section>")
    parts.append("<section><h2>Every symptom check</h2>"
                 + (_table(["Date", "Outcome", "Reason"],
                           [[_day(o.at), LEVEL_WORDS.get(o.kind, o.kind), o.what or "-"]
                            for o in data.outcomes])
                    if data.outcomes else "<p>No symptom check was finished.</p>")
                 + "</section>")
    generated = datetime.now().astimezone().strftime("%d %B %Y, %H:%M")
    parts.append(f"<footer>Made {html.escape(generated)} from the assistant's history on this "
                 "device. Every record is in run.py history --export csv DIR.</footer>")
    return PAGE.format(title=html.escape(title), body="\n".join(parts))


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 22px; line-height: 1.5;
         color: #000; background: #fff; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }}
  h1 {{ font-size: 2rem; margin-bottom: 0.25rem; }}
  h2 {{ font-size: 1.5rem; border-bottom: 3px solid #000; padding-bottom: 0.2rem; }}
  .period {{ font-size: 1.1rem; }}
  .alert {{ border: 6px solid #b00020; padding: 0 1rem 1rem; }}
  .alert h2 {{ color: #b00020; border-color: #b00020; }}
  .calm {{ border: 3px solid #1b5e20; padding: 0 1rem 0.5rem; }}
  .glance {{ font-size: 1.2rem; }}
  table {{ border-collapse: collapse; width: 100%; margin: 0.75rem 0 1.5rem; }}
  th, td {{ border: 2px solid #444; padding: 0.35rem 0.6rem; text-align: left;
            vertical-align: top; }}
  th {{ background: #e8e8e8; }}
  figure {{ margin: 0.5rem 0; }}
  figure img {{ width: 100%; height: auto; }}
  figcaption {{ font-size: 1rem; }}
  footer {{ font-size: 1rem; margin-top: 2rem; border-top: 2px solid #000; padding-top: 0.5rem; }}
  @media print {{
    @page {{ size: A4; margin: 15mm; }}
    body {{ font-size: 14pt; max-width: none; margin: 0; padding: 0; }}
    section, figure, tr {{ break-inside: avoid; }}
    h2 {{ break-after: avoid; }}
    th {{ background: #e8e8e8; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
