"""EventBridge → Lambda: rules with Lambda targets, invoked asynchronously with EventBridge's event.

moto matches event patterns and delivers to SQS targets itself, but raises NotImplementedError for a
Lambda target. The hook on moto's `Rule.send_to_targets` takes the Lambda targets (shaping the event
as AWS does, with `account` and an ISO `time`, and applying `Input` / `InputPath` /
`InputTransformer`) and leaves every other target to moto. Schedule rules (`rate(...)`,
`cron(...)`) fire on the cloud's clock — classroom time by default — on untracked timers, so
`cloud.wait()` waits for what a tick started but not for the next tick.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonpath_ng.ext import parse as jsonpath
from moto.events import models as events_models

from .. import motoadapter
from . import mappings

_orig: dict[str, Any] = {}
_targets_lock = threading.Lock()


# -- the event and its input -----------------------------------------------------------------------
def shaped(event: dict[str, Any]) -> dict[str, Any]:
    """moto's internal event as EventBridge delivers it (ISO time, no internal fields)."""
    shaped_event = copy.deepcopy(event)
    shaped_event.pop("ingestion-time", None)
    moment = shaped_event.get("time")
    if isinstance(moment, int | float):
        shaped_event["time"] = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped_event


def _find(event: dict[str, Any], path: str) -> Any:
    matches = jsonpath(path).find(event)
    return matches[0].value if matches else None


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The payload a target receives: the event, `Input`, `InputPath` or `InputTransformer`'s output."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        return json.dumps(_find(event, target["InputPath"]))
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: _find(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        text = fill_template(transformer.get("InputTemplate", ""), values)
        try:
            json.loads(text)
        except ValueError:
            text = json.dumps(text)  # a plain-text template reaches Lambda as a JSON string
        return text
    return json.dumps(event)


def fill_template(template: str, values: dict[str, Any]) -> str:
    """Replace `<name>` placeholders: raw text inside a JSON string, JSON values outside one."""
    out: list[str] = []
    in_string, escaped, i = False, False, 0
    while i < len(template):
        char = template[i]
        match = re.match(r"<([\w.\-]+)>", template[i:]) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                raw = value if isinstance(value, str) else json.dumps(value)
                out.append(json.dumps(raw)[1:-1])
            else:
                out.append(json.dumps(value))
            i += len(match.group(0))
            continue
        if char == '"' and not escaped:
            in_string = not in_string
        escaped = char == "\\" and not escaped
        out.append(char)
        i += 1
    return "".join(out)


# -- delivering ------------------------------------------------------------------------------------
def _is_lambda(target: dict[str, Any]) -> bool:
    return ":lambda:" in str(target.get("Arn", ""))


def _send_to_targets(self, original_event, transform_input=True):
    current = mappings.manager()
    lambda_targets = [t for t in self.targets if _is_lambda(t)]
    if current is None or not lambda_targets:
        return _orig["send"](self, original_event, transform_input)
    if self.state == "ENABLED" and self.event_pattern.matches_event(original_event):
        event = shaped(original_event)
        cloud = current.cloud
        for target in lambda_targets:
            fn = cloud.runtime.get(target["Arn"])
            if fn is not None:  # AWS fails a delivery to a missing function silently (metrics only)
                cloud.async_invoker.submit(fn, target_input(target, event), source=f"bus:{self.event_bus_name}")
    others = [t for t in self.targets if not _is_lambda(t)]
    if others:
        with _targets_lock:
            saved, self.targets = self.targets, others
            try:
                _orig["send"](self, original_event, transform_input)
            finally:
                self.targets = saved
    return None


# -- schedules -------------------------------------------------------------------------------------
RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
UNITS = {"minute": 60, "hour": 3600, "day": 86400}
NAMES = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}


def _field(spec: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """One cron field as the set of values it allows (None: any)."""
    if spec in ("*", "?"):
        return None
    allowed: set[int] = set()
    for part in spec.upper().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = int((names or {}).get(a, a)), int((names or {}).get(b, b))
        else:
            start = int((names or {}).get(part, part))
            end = high if step > 1 else start
        allowed.update(range(start, end + 1, step))
    return allowed


def next_cron(expression: str, after: datetime) -> datetime:
    """The first minute after `after` that AWS's six-field cron expression matches (UTC)."""
    fields = expression.strip()[5:-1].split()
    if len(fields) != 6:
        raise ValueError(f"cron expression {expression!r} needs 6 fields: minutes hours day-of-month "
                         "month day-of-week year")
    minutes, hours = _field(fields[0], 0, 59), _field(fields[1], 0, 23)
    days, months = _field(fields[2], 1, 31), _field(fields[3], 1, 12, NAMES)
    weekdays, years = _field(fields[4], 1, 7, DAYS), _field(fields[5], 1970, 2199)
    moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60 * 2):
        aws_weekday = (moment.isoweekday() % 7) + 1  # SUN=1 … SAT=7
        if ((years is None or moment.year in years) and (months is None or moment.month in months)
                and (days is None or moment.day in days) and (weekdays is None or aws_weekday in weekdays)):
            if hours is None or moment.hour in hours:
                if minutes is None or moment.minute in minutes:
                    return moment
                moment += timedelta(minutes=1)
            else:
                moment = moment.replace(minute=0) + timedelta(hours=1)
        else:
            moment = moment.replace(hour=0, minute=0) + timedelta(days=1)
    raise ValueError(f"cron expression {expression!r} never fires in the next two years")


class Schedule:
    """Fires one schedule rule on the cloud's clock until the rule is deleted or replaced."""

    def __init__(self, cloud: Any, backend: Any, rule: Any) -> None:
        self.cloud, self.backend, self.rule = cloud, backend, rule
        self.origin_wall = time.time()
        self.origin_real = cloud.clock.now()
        self._arm()

    def aws_now(self) -> datetime:
        elapsed = self.cloud.clock.aws(self.cloud.clock.now() - self.origin_real)
        return datetime.fromtimestamp(self.origin_wall + elapsed, UTC)

    def _arm(self) -> None:
        expression = self.rule.scheduled_expression
        now = self.aws_now()
        rate = RATE.match(expression)
        if rate:  # a fixed cadence from the rule's creation; ticks missed while the kernel was busy are skipped
            period = timedelta(seconds=int(rate.group(1)) * UNITS[rate.group(2).rstrip("s")])
            due = getattr(self, "due", now) + period
            while due <= now:
                due += period
        elif expression.startswith("cron("):
            due = next_cron(expression, now)
        else:
            return
        self.due = due
        delay = self.cloud.clock.real((due - now).total_seconds())
        self.cloud.scheduler.call_later(delay, self._fire, f"schedule {self.rule.name}", tracked=False)

    def _alive(self) -> bool:
        bus = self.backend.event_buses.get(self.rule.event_bus_name)
        return (mappings.manager() is not None and mappings.manager().cloud is self.cloud and bus is not None
                and bus.rules.get(self.rule.name) is self.rule)

    def _fire(self) -> None:
        if not self._alive():
            return
        if self.rule.state == "ENABLED":
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                     "source": "aws.events", "account": self.rule.account_id, "time": self.due.timestamp(),
                     "region": self.rule.region_name, "resources": [self.rule.arn], "detail": {}}
            self.rule.send_to_targets(event)
        self._arm()


def _put_rule(self, name, **kwargs):
    rule = _orig["put_rule"](self, name, **kwargs)
    current = mappings.manager()
    if current is not None and rule.scheduled_expression:
        Schedule(current.cloud, self, rule)
    return rule


def install_hooks() -> None:
    if _orig:
        return
    _orig["send"] = motoadapter.add_patch(events_models.Rule, "send_to_targets", _send_to_targets)
    _orig["put_rule"] = motoadapter.add_patch(events_models.EventsBackend, "put_rule", _put_rule)
