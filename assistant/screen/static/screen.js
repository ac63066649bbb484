// The screen: shows the state the assistant pushes, and sends the answer touched.
// No build step, no library. Every state message is the whole state, so a page that
// (re)connects shows the current moment at once. Nothing here times out.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;
let state = null;
let shownCaption = -1; // the last caption number appended to the log
let shownMoment = null;
let shownAnswers = "";

const DEVICE_LOST = {
  microphone: "I can't hear you: please touch your answer.",
  loudspeaker: "The sound is not working: please read the words on the screen.",
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => setConnection("Connected to the assistant.", false);
  socket.onmessage = (event) => render(JSON.parse(event.data));
  socket.onclose = () => {
    if (state && state.running === false) {
      setConnection("The assistant has finished. Goodbye.", false);
    } else {
      setConnection("Not connected to the assistant. Trying again…", true);
    }
    setTimeout(connect, 1000);  // it may start again: the page never gives up
  };
}

function setConnection(text, lost) {
  const status = $("connection");
  if (status.textContent !== text) status.textContent = text;
  status.classList.toggle("lost", lost);
}

function answer(says, label, event) {
  if (!state || !state.view || !socket || socket.readyState !== WebSocket.OPEN) return;
  // A click with no pointer (detail 0) came from the keyboard or a switch.
  const source = event && event.detail === 0 ? "keyboard" : "touch";
  socket.send(JSON.stringify({ answer: says, moment: state.view.moment, source }));
  $("chosen").textContent = `Your answer: ${label}`;
  for (const button of document.querySelectorAll("button.answer")) {
    button.classList.toggle("chosen", button.dataset.says === says);
  }
}

function render(next) {
  state = next;
  if (!next.running) {
    setConnection("The assistant has finished. Goodbye.", false);
  }
  const view = next.view;
  const mode = view ? view.mode : "idle";
  document.body.dataset.mode = mode;
  renderDevices(next.devices || {});
  renderCaptions(next.captions || []);
  renderRoutine(view && view.exercise, view && view.paused, mode);
  renderGuidance(view && view.guidance);
  renderAnswers(view);
  setText("hint", view ? view.hint : "");
}

function renderDevices(devices) {
  const lost = Object.keys(DEVICE_LOST).filter((name) => devices[name] === false);
  const box = $("devices");
  const text = lost.map((name) => DEVICE_LOST[name]).join(" ");
  box.hidden = lost.length === 0;
  if (box.textContent !== text) box.textContent = text;
}

function renderCaptions(captions) {
  const log = $("captions");
  const first = captions.length ? captions[0].n : 0;
  if (shownCaption >= 0 && first > shownCaption + 1) shownCaption = first - 1;
  for (const caption of captions) {
    if (caption.n <= shownCaption) continue;
    const line = document.createElement("p");
    line.dataset.n = caption.n;
    line.textContent = caption.text;
    log.appendChild(line);
    shownCaption = caption.n;
  }
  // Keep only the lines the assistant still lists; mark the newest and the question.
  const wanted = new Map(captions.map((c) => [String(c.n), c]));
  for (const line of Array.from(log.children)) {
    const caption = wanted.get(line.dataset.n);
    if (!caption) { line.remove(); continue; }
    const newest = caption === captions[captions.length - 1];
    line.classList.toggle("now", newest);
    setQuestion(line, caption.question);
  }
}

function setQuestion(line, question) {
  const label = line.querySelector(".question-label");
  line.classList.toggle("question", question);
  if (question && !label) {
    const mark = document.createElement("span");
    mark.className = "question-label";
    // In the guidance the line to act on is a step, not a question.
    mark.textContent = document.body.dataset.mode === "emergency" ? "Do this now:" : "Question:";
    line.prepend(mark);
  } else if (!question && label) {
    label.remove();
  }
}

function renderRoutine(exercise, paused, mode) {
  const box = $("routine");
  box.hidden = mode !== "routine" || !exercise;
  if (box.hidden) return;
  setText("exercise-number", exercise.number ? `Exercise ${exercise.number} of ${exercise.total}` : "");
  setText("exercise-name", exercise.name);
  setText("exercise-side", exercise.side ? `${capital(exercise.side)} leg` : "");
  $("paused").hidden = !paused;
  $("rep-box").hidden = exercise.rep == null;
  setText("rep", exercise.rep == null ? "" : `${exercise.rep}${exercise.of ? ` of ${exercise.of}` : ""}`);
  $("hold-box").hidden = exercise.hold_left == null;
  setText("hold", exercise.hold_left == null ? "" : `${exercise.hold_left} s`);
  const drawing = $("drawing");
  if (drawing.dataset.name !== exercise.drawing) {
    drawing.dataset.name = exercise.drawing;
    drawing.innerHTML = drawingSvg(exercise.drawing, exercise.name);
  }
}

function renderGuidance(guidance) {
  const box = $("guidance");
  box.hidden = !guidance;
  if (!guidance) return;
  setText("emergency-number", guidance.number);
  const list = $("steps");
  if (list.children.length !== guidance.steps.length) {
    list.replaceChildren(...guidance.steps.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
  }
  Array.from(list.children).forEach((item, index) => {
    const current = index === guidance.current;
    item.classList.toggle("current", current);
    if (current) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  });
}

function renderAnswers(view) {
  const answers = view ? view.answers : [];
  const key = JSON.stringify(answers);
  const moment = view ? view.moment : null;
  if (moment === shownMoment && key === shownAnswers) return;
  const area = $("answers");
  const focused = area.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  if (moment !== shownMoment) {
    $("chosen").textContent = "";
    $("emergency").classList.remove("chosen");
  }
  shownMoment = moment;
  shownAnswers = key;
  area.replaceChildren(...answers.map((b) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "answer";
    button.dataset.key = b.key;
    button.dataset.says = b.says;
    button.textContent = b.label;
    button.addEventListener("click", (event) => answer(b.says, b.label, event));
    return button;
  }));
  $("answers-title").hidden = answers.length === 0;
  // Keyboard and switch users keep their place: focus stays among the answers.
  if (focused !== null && area.children.length) {
    const same = Array.from(area.children).find((b) => b.dataset.key === focused);
    (same || area.children[0]).focus();
  }
}

function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) element.textContent = text;
}

function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- simple line drawings, one per exercise: a person seated on a chair ------------------

const CHAIR = '<path d="M40 60 V150 M40 110 H110 V150 M40 60 H48"/>';
const HEAD = (x, y) => `<circle cx="${x}" cy="${y}" r="12"/>`;
const SEATED = (torso) => `${HEAD(torso[0], torso[1] - 16)}
  <path d="M${torso[0]} ${torso[1]} L${torso[2]} ${torso[3]}"/>
  <path d="M${torso[0]} ${torso[1] + 14} L${torso[0] + 30} ${torso[1] + 40}"/>`;
const DRAWINGS = {
  seated: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 V146 H122"/><path d="M62 104 H100 V146 H114"/>`,
  leg_extension: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 V146 H122"/>
    <path d="M62 104 H150 L156 92"/><path d="M170 98 l8 -4 l-2 9" class="arrow"/>`,
  ankle_circles: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 V146 H122"/>
    <path d="M62 104 H104 L120 132 L132 128"/><circle cx="136" cy="130" r="12" class="arrow"/>`,
  ankle_flex: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 V146 H122"/>
    <path d="M62 104 H150 L160 90"/><path d="M150 104 L162 112" class="arrow"/>`,
  marching: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 V146 H122"/>
    <path d="M62 104 L100 86 V128 H114"/><path d="M130 110 V84 l-6 8 M130 84 l6 8" class="arrow"/>`,
  heel_raises: `${SEATED([62, 50, 62, 104])}<path d="M62 104 H108 L104 140 L118 146"/>
    <path d="M116 124 V110 l-5 6 M116 110 l5 6" class="arrow"/>`,
  hamstring: `${HEAD(88, 48)}<path d="M80 60 L62 104"/><path d="M74 72 L108 96"/>
    <path d="M62 104 H108 V146 H122"/><path d="M62 104 L160 140 L164 128"/>`,
  sit_to_stand: `${HEAD(140, 22)}<path d="M140 34 V90"/><path d="M140 46 L124 76"/>
    <path d="M140 90 L132 150 M140 90 L148 150"/><path d="M110 60 V30 l-6 8 M110 30 l6 8" class="arrow"/>`,
};

function drawingSvg(name, title) {
  const body = DRAWINGS[name] || DRAWINGS.seated;
  return `<svg viewBox="0 0 190 160" role="img" aria-label="Drawing: ${escapeHtml(title)}"
    fill="none" stroke="currentColor" stroke-width="5" stroke-linecap="round"
    stroke-linejoin="round">${CHAIR}${body}<path d="M20 152 H180" stroke-width="3"/></svg>`;
}

function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML.replace(/"/g, "&quot;");
}

document.addEventListener("DOMContentLoaded", () => {
  $("emergency").addEventListener("click", (event) => answer("emergency", "Emergency", event));
  connect();
});
