"""Lesson 09's exchange-rate handlers: the chapter's circuit breaker, and the one that works.

Deployed as module handlers (``best_practices_rates.chapter_handler`` and so on), so each Lambda
execution environment imports this module afresh and gets **its own breaker**, as on AWS: the
breaker's state is a module global, living exactly as long as the environment.

Configured by environment variables: ``RATES_URL`` (the dependency), ``RECOVERY_TIMEOUT_S`` (the
breaker's recovery timeout; the chapter's 60 s by default) and ``RATES_TIMEOUT_S`` (how long one
request may wait).
"""

import os
import time

import requests
from circuitbreaker import CircuitBreaker, CircuitBreakerError, circuit


# -- the chapter's code, as printed; only the address comes from the environment -----------------
@circuit(failure_threshold=5, recovery_timeout=60)
def call_external_api():
    response = requests.get(os.environ["RATES_URL"])
    return response.json()


def chapter_handler(event, context):
    return {"statusCode": 200, "rates": call_external_api()}


# -- the fixed breaker ---------------------------------------------------------------------------
# The breaker is an object we keep, so the handler can report its state (the lesson plots it).
breaker = CircuitBreaker(
    failure_threshold=5,
    recovery_timeout=float(os.environ.get("RECOVERY_TIMEOUT_S", "60")),
    expected_exception=requests.RequestException,  # only the dependency's failures count, not our bugs
    name="rates-api",
)


def fetch_rates():
    """One request with a timeout; a 5xx (or 4xx) answer is a failure, not a result."""
    response = requests.get(os.environ["RATES_URL"], timeout=float(os.environ.get("RATES_TIMEOUT_S", "0.1")))
    response.raise_for_status()
    return response.json()


get_rates = breaker(fetch_rates)


def _answer(call):
    before, started = breaker.state, time.perf_counter()
    try:
        status, body = 200, call()
    except CircuitBreakerError:
        status, body = 503, {"message": "rates unavailable (circuit open): try again later"}
    except requests.RequestException as error:
        status, body = 502, {"message": f"rates service failed: {type(error).__name__}"}
    return {"statusCode": status, "body": body, "breaker_before": before, "breaker_after": breaker.state,
            "failures": breaker.failure_count, "waited_ms": (time.perf_counter() - started) * 1000}


def handler(event, context):
    """GET /rates with the breaker: fails fast (503) while the circuit is open."""
    return _answer(get_rates)


def handler_without_breaker(event, context):
    """The same request, timeout and error handling, but no breaker: every call waits on the dependency."""
    return _answer(fetch_rates)
