"""Dict- and JSON-heavy request handling.

Each request arrives as a JSON body, is parsed into dicts, validated,
enriched with the user's session, and answered with a JSON response. The
session table is bounded (the oldest user is evicted), so memory stays flat.
Size (argv[1]): the number of requests.
"""

import json

from workload_timing import run

MAX_SESSIONS = 500


def request_body(number):
    return json.dumps(
        {
            "user": "user-%d" % (number % 2000),
            "action": ("view", "buy", "search")[number % 3],
            "items": [{"sku": "sku-%d" % (number + item), "qty": item} for item in range(6)],
            "meta": {"client": "bench", "attempt": number % 4},
        }
    )


def handle(body, sessions):
    request = json.loads(body)
    if not request.get("user") or not isinstance(request.get("items"), list):
        raise ValueError("bad request")
    session = sessions.pop(request["user"], None) or {"seen": 0, "history": []}
    session["seen"] += 1
    session["history"] = (session["history"] + [request["action"]])[-5:]
    sessions[request["user"]] = session
    if len(sessions) > MAX_SESSIONS:
        sessions.pop(next(iter(sessions)))
    total = sum(item["qty"] for item in request["items"])
    response = {
        "user": request["user"],
        "total": total,
        "skus": sorted(item["sku"] for item in request["items"]),
        "session": dict(session),
    }
    return json.dumps(response)


def main(size):
    sessions = {}
    answered = 0
    for number in range(size):
        answered += len(handle(request_body(number), sessions))
    return answered


run(main, 30_000)
