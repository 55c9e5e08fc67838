"""A tiny Flask app for cloakroom's interoperability tests.

It keeps its sessions in Flask's default signed cookie
(SecureCookieSessionInterface); the demo server run as
`-backend cookie -secret <the same key>` reads and writes the same cookie.

    /usr/bin/python3 flaskapp.py PORT      # SECRET_KEY from $INTEROP_SECRET_KEY

Routes: GET /ready; POST /set stores one value of each tagged-JSON type
and flashes a message; GET /repr answers {key: repr(value)} for the whole
session; GET /flashes answers get_flashed_messages(with_categories=True).
"""

import os
import sys
import uuid
from datetime import datetime, timezone

from flask import Flask, flash, get_flashed_messages, jsonify, session

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["INTEROP_SECRET_KEY"]


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
def ready():
    return "ok"


@app.post("/set")
def set_values():
    session.update(typed_values())
    flash("Saved by Flask.", "info")
    return "", 204


@app.get("/repr")
def show():
    return jsonify({k: repr(v) for k, v in session.items()})


@app.get("/flashes")
def flashes():
    return jsonify([list(f) for f in get_flashed_messages(with_categories=True)])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), use_reloader=False)
