"""Module handlers for the runtime tests: imported fresh per execution environment, as on AWS."""

import os
import time

INIT_AT = time.monotonic()
calls = 0


def count(event, context):
    """Module globals live as long as the environment: the count restarts on a cold start."""
    global calls
    calls += 1
    return {"calls": calls, "init_at": INIT_AT, "table": os.environ.get("TABLE")}


def slow(event, context):
    time.sleep(event.get("sleep", 0.2))
    return {"remaining_ms": context.get_remaining_time_in_millis()}
