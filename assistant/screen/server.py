"""The screen's local web server: the page, its live state, and the answers touched on it.

Why aiohttp: one well-kept dependency (aio-libs, typed, on every distribution) gives the
static files and the WebSocket in one small asyncio server, with no ASGI server beside it
(Starlette would need uvicorn and a WebSocket library as well). It runs in its own thread
with its own event loop, beside the session: the session only hands it the state, which
never waits on the network, so a slow, closed or reloading browser cannot slow the voice.

What the page gets is the whole state every time (the moment, the captions, the devices):
a page that connects, reconnects or reloads shows the current question at once. What the
page sends is an answer, as the words a person would say, with the moment it was shown
for: an answer for a moment that has passed (someone answered by voice first) is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import WSMsgType, web

from assistant.ports import Heard, Source
from assistant.screen.staff import StaffPage
from assistant.screen.view import EMERGENCY, ScreenView

if TYPE_CHECKING:
    from assistant.alerts import MqttAlerts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
CAPTION_LINES = 6  # the line being said and the few before it
SOURCES: tuple[Source, ...] = ("touch", "keyboard")
STATIC = Path(str(files("assistant.screen") / "static"))


class TouchInbox:
    """The answer touched for the current turn; thread-safe, never blocks the touching side.

    The first answer in a turn wins and later ones in it are ignored (a double tap is one
    answer); a new moment drops an answer nobody took (voice answered first). A routine's
    beats are one moment of many turns, so Pause still works on the next beat.
    "Emergency" is taken whenever it comes: it is never late.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._moment = ""
        self._answer: Heard | None = None
        self._answered = False

    def moment(self, moment: str) -> None:
        """A new turn, at this moment (the same one again, or a new one)."""
        with self._lock:
            if moment != self._moment:
                self._moment, self._answer = moment, None
                self._ready.clear()
            self._answered = self._answer is not None

    def put(self, moment: str, text: str, source: Source) -> bool:
        """An answer touched on a page showing `moment`; False when it came too late."""
        with self._lock:
            urgent = text == EMERGENCY.says
            if (moment != self._moment or self._answered) and not urgent:
                return False
            self._answer, self._answered = Heard(text, 1.0, source), True
            self._ready.set()
            return True

    def take(self) -> Heard | None:
        with self._lock:
            answer, self._answer = self._answer, None
            self._ready.clear()
            return answer

    def wait(self, seconds: float) -> Heard | None:
        self._ready.wait(max(0.0, seconds))
        return self.take()


class ScreenServer:
    """Serves the page on host:port and pushes the state to every open page."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 alerts: MqttAlerts | None = None, staff_token: str | None = None) -> None:
        self.host, self.port = host, port
        self.staff = StaffPage(alerts, staff_token) if alerts is not None and staff_token else None
        self.touches = TouchInbox()
        self._lock = threading.Lock()
        self._view: dict[str, Any] | None = None
        self._captions: deque[dict[str, Any]] = deque(maxlen=CAPTION_LINES)
        self._devices = {"microphone": True, "loudspeaker": True}
        self._running = True
        self._version = 0
        self._said = 0  # captions so far: the page appends only the new ones
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[asyncio.Queue[str]] = set()
        self._writers: set[asyncio.Task[None]] = set()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    # --- the session's side: never waits -------------------------------------------------

    def show(self, view: ScreenView) -> None:
        with self._lock:
            if self._view is not None and view.moment != self._view["moment"]:
                for line in self._captions:
                    line["question"] = False  # the question answered is no longer current
            self._view = view.to_dict()
            self.touches.moment(view.moment)
        self._publish()

    def caption(self, text: str, question: bool) -> None:
        with self._lock:
            self._said += 1
            self._captions.append({"n": self._said, "text": text, "question": question})
        self._publish()

    def device(self, name: Literal["microphone", "loudspeaker"], working: bool) -> None:
        with self._lock:
            self._devices[name] = working
        self._publish()

    def clear(self) -> None:
        """Between residents (kiosk): the captions and the last moment are gone."""
        with self._lock:
            self._captions.clear()
            self._view = None
            self._devices = {"microphone": True, "loudspeaker": True}
        self._publish()

    def watched(self) -> bool:
        return bool(self._clients)

    def finished(self) -> None:
        """The assistant is stopping: the page says so rather than waiting for an answer."""
        with self._lock:
            self._running = False
        self._publish()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"version": self._version, "running": self._running, "view": self._view,
                    "captions": list(self._captions), "devices": dict(self._devices)}

    def _publish(self) -> None:
        with self._lock:
            self._version += 1
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        message = json.dumps(self.snapshot())
        with contextlib.suppress(RuntimeError):  # the loop stopped in between: nobody to tell
            loop.call_soon_threadsafe(self._send_all, message)

    # --- the server's thread ------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> str:
        """Start serving in a background thread; return the page's address."""
        self._thread = threading.Thread(target=self._serve, name="screen", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"the screen did not start on {self.url} in {timeout:.0f} s")
        if self._failure is not None:
            raise self._failure
        return self.url

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(TimeoutError, RuntimeError):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            self._failure = exc
            self._started.set()
            loop.close()
            return
        self._loop = loop
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _open(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/state", self._state)
        app.router.add_get("/ws", self._socket)
        app.router.add_static("/static/", STATIC, show_index=False)
        staff = self.staff
        if staff is not None:
            app.router.add_get("/staff", staff.page)
            app.router.add_post("/staff", staff.sign_in)
            app.router.add_post("/staff/ack", staff.acknowledge)
        else:
            app.router.add_get("/staff", _no_staff_page)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # a free port was asked for: say which one it got
            self.port = int(self._runner.addresses[0][1])

    async def _shutdown(self) -> None:
        self._closing = True
        for queue in list(self._clients):
            queue.put_nowait("")  # each page's writer sends the last state, then closes
        if self._writers:
            await asyncio.wait(set(self._writers), timeout=2)
        if self._runner is not None:
            await self._runner.cleanup()

    def _send_all(self, message: str) -> None:
        for queue in self._clients:
            queue.put_nowait(message)

    async def _index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html",
                                headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot(), headers={"Cache-Control": "no-store"})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._clients.add(queue)
        queue.put_nowait(json.dumps(self.snapshot()))  # the current state, at once
        writer = asyncio.create_task(self._write(ws, queue))
        self._writers.add(writer)
        writer.add_done_callback(self._writers.discard)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._answer(message.data)
        finally:
            self._clients.discard(queue)
            if not self._closing:
                writer.cancel()
        return ws

    async def _write(self, ws: web.WebSocketResponse, queue: asyncio.Queue[str]) -> None:
        """Sends each page the newest state; an empty message closes it (after the state
        before it, so a page learns that the assistant finished)."""
        while True:
            messages = [await queue.get()]
            while not queue.empty():
                messages.append(queue.get_nowait())
            closing = "" in messages
            states = [m for m in messages if m]
            try:
                if states:  # only the newest state matters
                    await ws.send_str(states[-1])
                if closing:
                    await ws.close()
                    return
            except (ConnectionError, RuntimeError):
                return

    def _answer(self, data: str) -> None:
        try:
            message = json.loads(data)
            text, moment = str(message["answer"]), str(message["moment"])
            source = message.get("source")
        except (ValueError, KeyError, TypeError):
            return  # not an answer: nothing a person meant
        with self._lock:
            offered = {b["says"] for b in self._view["answers"]} if self._view else set()
        if text in offered or text == EMERGENCY.says:
            self.touches.put(moment, text, source if source in SOURCES else "touch")


async def _no_staff_page(request: web.Request) -> web.Response:
    return web.Response(status=404, text="No staff page: no staff token is configured "
                        "(--staff-token) or no alerts are kept.")
