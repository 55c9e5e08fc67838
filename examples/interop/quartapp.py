"""A tiny Quart app for cloakroom's interoperability tests, sharing its
sessions with Go through Redis in Quart-Session's layout.

Debian ships Quart (0.18) but not Quart-Session, so RedisSessionInterface
below is a small, faithful re-implementation of Quart-Session 1.0's
`quart_session.sessions.RedisSessionInterface` (with redis-py's asyncio
client in place of aioredis), limited to what these tests use:

- the cookie `session` holds the sid, `str(uuid4())`, or with
  SESSION_USE_SIGNER the sid signed by itsdangerous
  `Signer(SECRET_KEY, salt="quart-session", key_derivation="hmac")`;
- the Redis key is `session:` + sid and its value Quart's
  TaggedJSONSerializer `dumps(dict(session))`, written with
  `SETEX key <PERMANENT_SESSION_LIFETIME in seconds> value`, and only when
  the session was modified; a session emptied by the request is deleted;
- new sessions are permanent (`"_permanent": true`), as with
  Quart-Session's default SESSION_PERMANENT; an unknown, unsigned or
  undecodable sid starts a new session with a new sid.
  SESSION_PROTECTION and SESSION_STATIC_FILE are left out (both off).

    /usr/bin/python3 quartapp.py PORT   # $INTEROP_REDIS_URL, $INTEROP_SECRET_KEY,
                                        # $INTEROP_USE_SIGNER=1 to sign sids

Routes: GET /ready; POST /set stores one value of each tagged-JSON type;
GET /repr answers {key: repr(value)} for the whole session.
"""

import os
import sys
import uuid
from datetime import datetime, timezone

import redis.asyncio
from itsdangerous import BadSignature, Signer, want_bytes
from quart import Quart, jsonify, session
from quart.json.tag import TaggedJSONSerializer
from quart.sessions import SecureCookieSession, SessionInterface


class RedisSession(SecureCookieSession):
    """Quart-Session's ServerSideSession: a session that knows its sid."""

    def __init__(self, initial=None, sid=None, permanent=None):
        super().__init__(**(initial or {}))
        self.sid = sid
        if permanent:
            self.permanent = permanent
        self.modified = False


class RedisSessionInterface(SessionInterface):
    serializer = TaggedJSONSerializer()
    key_prefix = "session:"

    def __init__(self, client, use_signer=False, permanent=True):
        self.backend = client
        self.use_signer = use_signer
        self.permanent = permanent

    def _new(self):
        return RedisSession(sid=str(uuid.uuid4()), permanent=self.permanent)

    def _signer(self, app):
        return Signer(app.secret_key, salt="quart-session", key_derivation="hmac")

    async def open_session(self, app, request):
        sid = request.cookies.get(app.session_cookie_name)
        if not sid:
            return self._new()
        if self.use_signer:
            try:
                sid = self._signer(app).unsign(sid).decode()
            except BadSignature:
                return self._new()
        val = await self.backend.get(self.key_prefix + sid)
        if val is None:
            return self._new()
        try:
            data = self.serializer.loads(val)
        except Exception:
            return self._new()
        return RedisSession(data, sid)

    async def save_session(self, app, session, response):
        if not session.modified:
            return
        key = self.key_prefix + session.sid
        if not session:
            await self.backend.delete(key)
            response.delete_cookie(app.session_cookie_name, path=self.get_cookie_path(app))
            return
        seconds = int(app.permanent_session_lifetime.total_seconds())
        await self.backend.setex(key, seconds, self.serializer.dumps(dict(session)))
        sid = session.sid
        if self.use_signer:
            sid = self._signer(app).sign(want_bytes(sid)).decode()
        response.set_cookie(
            app.session_cookie_name,
            sid,
            expires=self.get_expiration_time(app, session),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
        )


app = Quart(__name__)
app.secret_key = os.environ.get("INTEROP_SECRET_KEY", "")
app.session_interface = RedisSessionInterface(
    redis.asyncio.from_url(os.environ["INTEROP_REDIS_URL"]),
    use_signer=os.environ.get("INTEROP_USE_SIGNER") == "1",
)


def typed_values():
    """One value of each type the tagged-JSON serializer tags."""
    return {
        "tuple": (1, "two", 3.5),
        "bytes": b"\x00\xffcloak",
        "uuid": uuid.UUID("12345678-9abc-4def-8123-456789abcdef"),
        "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "text": "h\u00e9llo",
    }


@app.get("/ready")
async def ready():
    return "ok"


@app.post("/set")
async def set_values():
    session.update(typed_values())
    return "", 204


@app.get("/repr")
async def show():
    return jsonify({k: repr(v) for k, v in session.items()})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), use_reloader=False)
