"""The staff page (`/staff`): the open alerts, each with an Acknowledge button.

Only with a configured token: staff sign in with it once per browser (an HttpOnly,
same-site cookie holds it), and without a token there is no staff page at all. The page
is plain server-rendered HTML in large print, refreshing itself every few seconds, so it
works on any tablet at the nurses' station without a script.
"""

from __future__ import annotations

import hmac
from html import escape
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from assistant.alerts import MqttAlerts

COOKIE = "staff_token"
STYLE = """body{font:1.4rem system-ui,sans-serif;margin:1.5rem;background:#fff;color:#111}
h1{font-size:2rem}.alert{border:3px solid #a00;border-radius:12px;padding:1rem;margin:1rem 0}
.kind{font-weight:700;color:#a00;text-transform:uppercase}button{font-size:1.4rem;
padding:.8rem 1.6rem;border-radius:10px;border:2px solid #111;background:#ffd}
dt{font-weight:700;margin-top:.4rem}dd{margin-left:1rem}input{font-size:1.4rem}"""


class StaffPage:
    def __init__(self, alerts: MqttAlerts, token: str) -> None:
        self.alerts = alerts
        self.token = token

    def _signed_in(self, request: web.Request) -> bool:
        given = request.cookies.get(COOKIE, "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def page(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            return _html("Staff sign-in", """<h1>Staff sign-in</h1>
<form method="post" action="/staff"><label>Staff token
<input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>""", status=401)
        alerts = self.alerts.open_alerts()
        body = "".join(_alert_html(record) for record in alerts) or (
            "<p>No open alerts.</p>")
        return _html("Open alerts", f"<h1>Open alerts ({len(alerts)})</h1>{body}",
                     refresh=True)

    async def sign_in(self, request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("token", ""))
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return _html("Staff sign-in", "<h1>Wrong token</h1><p><a href='/staff'>Try again"
                         "</a></p>", status=403)
        response = web.HTTPSeeOther("/staff")
        response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict")
        raise response

    async def acknowledge(self, request: web.Request) -> web.Response:
        if not self._signed_in(request):
            raise web.HTTPForbidden(text="Sign in first: /staff")
        form = await request.post()
        alert_id = str(form.get("id", ""))
        by = str(form.get("by", "")).strip()[:60] or "staff page"
        try:
            self.alerts.acknowledge(alert_id, by)
        except ValueError:
            raise web.HTTPBadRequest(text="not an alert id") from None
        raise web.HTTPSeeOther("/staff")


def _alert_html(record: dict[str, Any]) -> str:
    alert = record["alert"]
    status = "delivered to the broker" if record.get("delivered") else "waiting for the broker"
    exchanges = "".join(
        f"<dt>{escape(e['question'])}</dt><dd>{escape(e['answer'] or '(no answer)')}</dd>"
        for e in alert.get("exchanges", []))
    return f"""<section class="alert"><div class="kind">{escape(alert['kind'].replace('_', ' '))}
</div><p><strong>{escape(alert['place'])}</strong> at {escape(alert['time'])}
({escape(status)})</p><p>{escape(alert['reason'])}</p><dl>{exchanges}</dl>
<form method="post" action="/staff/ack"><input type="hidden" name="id"
value="{escape(alert['id'])}"><label>Your name <input name="by" size="12"></label>
<button type="submit">Acknowledge</button></form></section>"""


def _html(title: str, body: str, status: int = 200, refresh: bool = False) -> web.Response:
    meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
    text = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{meta}"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")
    return web.Response(text=text, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store"})
