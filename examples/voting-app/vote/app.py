"""vote: the front-end where visitors vote for option a or b.

Each visitor gets a random `voter_id` cookie on the first visit. A vote is pushed to the Redis
list `votes` as JSON {"voter_id", "vote", "time"}; the worker keeps each voter's latest vote
(by `time`), so changing one's vote is just voting again.
"""

import json
import os
import re
import secrets
import socket
from datetime import datetime, timezone

import redis
from flask import Flask, make_response, request

OPTIONS = {"a": os.getenv("OPTION_A", "Cats"), "b": os.getenv("OPTION_B", "Dogs")}
HOSTNAME = socket.gethostname()
VOTER_ID = re.compile(r"[0-9a-f]{32}")

app = Flask(__name__)
pool = redis.ConnectionPool(
    host=os.getenv("REDIS_HOST", "redis"),
    port=int(os.getenv("REDIS_PORT", "6379")),
    socket_timeout=5,
    socket_connect_timeout=5,
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ options.a }} vs {{ options.b }}</title>
<style>
body { font-family: sans-serif; max-width: 32rem; margin: 3rem auto; text-align: center; }
button { font-size: 1.5rem; width: 100%; margin: .5rem 0; padding: 1rem; cursor: pointer; }
button.chosen { font-weight: bold; background: #2a7; color: #fff; }
.error { color: #b00; }
footer { color: #777; font-size: .8rem; margin-top: 2rem; }
</style>
</head>
<body>
<h1>{{ options.a }} vs {{ options.b }}!</h1>
<form method="post" action="/">
{% for key, name in options.items() %}
<button name="vote" value="{{ key }}"{% if vote == key %} class="chosen" aria-pressed="true"{% endif %}>{{ name }}{% if vote == key %} &#10003;{% endif %}</button>
{% endfor %}
</form>
{% if vote %}<p id="chosen" data-vote="{{ vote }}">You voted for {{ options[vote] }}. You may change your vote.</p>{% endif %}
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<footer>Processed by container {{ hostname }}</footer>
</body>
</html>
"""

# Compiled once: render_template_string would compile it again on every request.
TEMPLATE = app.jinja_env.from_string(PAGE)


def current_voter():
    """The visitor's voter id from the cookie, or a fresh unguessable one."""
    voter_id = request.cookies.get("voter_id", "")
    return voter_id if VOTER_ID.fullmatch(voter_id) else secrets.token_hex(16)


def page(voter_id, vote=None, error=None, status=200):
    body = TEMPLATE.render(options=OPTIONS, vote=vote, error=error, hostname=HOSTNAME)
    resp = make_response(body, status)
    resp.set_cookie("voter_id", voter_id, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return resp


@app.get("/")
def index():
    return page(current_voter())


@app.post("/")
def vote():
    voter_id = current_voter()
    choice = request.form.get("vote", "")
    if choice not in OPTIONS:
        return page(voter_id, error="Choose one of the two options.", status=400)
    item = json.dumps(
        {
            "voter_id": voter_id,
            "vote": choice,
            "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        }
    )
    try:
        redis.Redis(connection_pool=pool).rpush("votes", item)
    except redis.RedisError as exc:
        app.logger.warning("vote not recorded, redis unavailable: %s", exc)
        return page(voter_id, error="Your vote could not be recorded; please try again.", status=503)
    return page(voter_id, vote=choice)


@app.get("/healthz")
def healthz():
    try:
        redis.Redis(connection_pool=pool).ping()
    except redis.RedisError as exc:
        return {"status": "unavailable", "redis": str(exc)}, 503
    return {"status": "ok"}
