"""Choosing a pattern: the chapter's decision matrix as data, and a recommender that explains itself.

The chapter's "Choosing the Right Pattern" section is kept below **verbatim** (`CHAPTER`) and parsed
into `PATTERNS` (use for / benefits / considerations of each of the eight patterns) and `MATRIX` (its
decision matrix), so every reason the recommender gives quotes the chapter word for word.

`RULES` say which requirement counts for (positive weight) or against (negative weight) which
pattern, each with the chapter's words for why. `recommend` adds up the weights of the rules that
fire and returns the patterns that some rule recommended, best first::

    from localcloud.patterns import Requirements, recommend, report
    print(report(recommend(Requirements(realtime_streams=True, ordering=True))))

A rule is plain data plus a predicate, so the matrix grows by adding one (lesson 11's lab does)::

    rule = Rule("async-queue", lambda r: r.rate_limited_downstream, 3, "Use for", "rate-limited APIs")
    recommend(Requirements(rate_limited_downstream=True), rules=RULES + (rule,))

`Chooser` is the lesson's ipywidgets front end: it only displays what `recommend` returns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

# -- the chapter, verbatim ------------------------------------------------------------------------
CHAPTER = """\
## Choosing the Right Pattern

**API Backend Pattern**:
- **Use for**: RESTful APIs, CRUD operations, mobile/web backends
- **Benefits**: Simple to implement, auto-scaling, pay-per-request
- **Considerations**: Cold starts may affect latency (use provisioned concurrency for critical paths)

**Event-Driven Processing Pattern**:
- **Use for**: File processing, ETL pipelines, reactive workflows
- **Benefits**: Decoupled components, automatic retry, parallel processing
- **Considerations**: Eventual consistency, potential for duplicate events (design for idempotency)

**Stream Processing Pattern**:
- **Use for**: Real-time analytics, IoT data, log processing, clickstream analysis
- **Benefits**: Real-time processing, ordered records, built-in checkpointing
- **Considerations**: Batch size tuning needed, error handling affects entire batch

**Microservices Pattern**:
- **Use for**: Complex applications, independent team ownership, polyglot requirements
- **Benefits**: Independent deployment, technology flexibility, team autonomy
- **Considerations**: Distributed system complexity, inter-service communication overhead

**Async Queue Pattern**:
- **Use for**: Background jobs, email sending, report generation, rate-limited APIs
- **Benefits**: Decouples producer/consumer, handles load spikes, built-in retry
- **Considerations**: Eventual processing, message ordering (FIFO queues available)

**CQRS Pattern**:
- **Use for**: High-read systems, complex queries, audit requirements, event sourcing
- **Benefits**: Optimized read/write models, independent scaling, flexible queries
- **Considerations**: Eventual consistency, increased complexity, multiple data stores

**Fan-Out Pattern**:
- **Use for**: Notifications, multi-step workflows, parallel processing
- **Benefits**: Parallel execution, failure isolation, easy to add subscribers
- **Considerations**: No guaranteed ordering, duplicate events possible

**Saga Pattern**:
- **Use for**: Distributed transactions, multi-step business processes, compensating actions
- **Benefits**: Eventual consistency, failure recovery, long-running processes
- **Considerations**: Complex compensation logic, increased latency

**Decision Matrix**:
| Requirement | Recommended Pattern |
|-------------|-------------------|
| Simple API | API Backend |
| File upload triggers processing | Event-Driven |
| Real-time data streams | Stream Processing |
| Independent services | Microservices |
| Background tasks | Async Queue |
| High read/write ratio | CQRS |
| Multiple downstream actions | Fan-Out |
| Multi-step transactions | Saga |
"""

# The chapter's CQRS section says when to avoid it; one of its lines is a rule below.
CHAPTER_AVOID_CQRS = """\
**Avoid CQRS When**:
- Simple CRUD applications with similar read/write patterns
- Small-scale applications where complexity outweighs benefits
- Strong consistency required for all operations
- Team lacks experience with eventual consistency
"""

SOURCES = ("Decision Matrix", "Use for", "Benefits", "Considerations", "Avoid CQRS When")

# pattern key (the demo scenario's name) → the lesson that teaches it
LESSONS = {
    "api-backend": "notebooks/01-api-backend.ipynb",
    "event-driven": "notebooks/02-event-driven-processing.ipynb",
    "stream-processing": "notebooks/03-stream-processing.ipynb",
    "microservices": "notebooks/04-microservices.ipynb",
    "async-queue": "notebooks/05-async-queue.ipynb",
    "cqrs": "notebooks/06-cqrs.ipynb",
    "fan-out": "notebooks/07-fan-out.ipynb",
    "saga": "notebooks/08-saga.ipynb",
}


@dataclass(frozen=True)
class Pattern:
    """One pattern as the chapter describes it."""

    key: str  # "fan-out": also its demo scenario's name
    name: str  # "Fan-Out", as in the decision matrix
    heading: str  # "Fan-Out Pattern"
    use_for: tuple[str, ...]
    benefits: tuple[str, ...]
    considerations: tuple[str, ...]
    lesson: str

    def phrases(self, *sources: str) -> tuple[str, ...]:
        """The chapter's phrases for this pattern from `sources` (default: all of them)."""
        sources = sources or SOURCES
        out: list[str] = []
        if "Decision Matrix" in sources:
            out += [req for req, key in MATRIX.items() if key == self.key]
        if "Use for" in sources:
            out += self.use_for
        if "Benefits" in sources:
            out += self.benefits
        if "Considerations" in sources:
            out += self.considerations
        if "Avoid CQRS When" in sources and self.key == "cqrs":
            out += _bullets(CHAPTER_AVOID_CQRS)
        return tuple(out)


def _split(items: str) -> tuple[str, ...]:
    """Split a chapter line on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in items:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(p for p in parts if p)


def _bullets(text: str) -> tuple[str, ...]:
    return tuple(line[2:].strip() for line in text.splitlines() if line.startswith("- "))


def key_of(name: str) -> str:
    """A pattern's key from any of its spellings: "Event-Driven Processing", "event_driven", "Fan-Out"..."""
    text = re.sub(r"[\s_]+", "-", str(name).strip().lower()).removesuffix("-pattern")
    aliases = {
        "api": "api-backend", "api-backend": "api-backend", "rest-api": "api-backend",
        "event-driven": "event-driven", "event-driven-processing": "event-driven", "events": "event-driven",
        "stream": "stream-processing", "streams": "stream-processing", "stream-processing": "stream-processing",
        "streaming": "stream-processing", "microservice": "microservices", "microservices": "microservices",
        "queue": "async-queue", "async": "async-queue", "async-queue": "async-queue", "async-processing": "async-queue",
        "queue-based": "async-queue", "cqrs": "cqrs", "fan-out": "fan-out", "fanout": "fan-out",
        "saga": "saga", "sagas": "saga",
    }
    if text not in aliases:
        raise KeyError(f"unknown pattern {name!r}; patterns: {', '.join(LESSONS)}")
    return aliases[text]


def _parse(chapter: str) -> tuple[tuple[Pattern, ...], dict[str, str]]:
    patterns: list[Pattern] = []
    blocks = re.findall(r"^\*\*(.+? Pattern)\*\*:\n((?:- .*\n?)+)", chapter, flags=re.MULTILINE)
    for heading, body in blocks:
        parts = dict(re.findall(r"^- \*\*(.+?)\*\*: (.+)$", body, flags=re.MULTILINE))
        key = key_of(heading)
        patterns.append(Pattern(key=key, name="", heading=heading, use_for=_split(parts["Use for"]),
                                benefits=_split(parts["Benefits"]), considerations=_split(parts["Considerations"]),
                                lesson=LESSONS[key]))
    matrix: dict[str, str] = {}
    names: dict[str, str] = {}
    for requirement, name in re.findall(r"^\| (.+?) \| (.+?) \|$", chapter, flags=re.MULTILINE):
        if requirement in ("Requirement",) or set(requirement) <= {"-"}:
            continue
        matrix[requirement] = key_of(name)
        names[key_of(name)] = name
    return tuple(replace(p, name=names[p.key]) for p in patterns), matrix


PATTERNS, MATRIX = _parse(CHAPTER)  # MATRIX: the chapter's requirement → pattern key, in its order
BY_KEY: dict[str, Pattern] = {p.key: p for p in PATTERNS}


def pattern(name: str) -> Pattern:
    """The chapter's entry for a pattern, by key or any spelling of its name."""
    return BY_KEY[key_of(name)]


def quoted(text: str) -> bool:
    """True when `text` is the chapter's own words (in its "Choosing" section or its CQRS guidance)."""
    return bool(text) and (text in CHAPTER or text in CHAPTER_AVOID_CQRS)


# -- requirements -----------------------------------------------------------------------------------
def _need(label: str, default: Any = False, **extra: Any) -> Any:
    return field(default=default, metadata={"label": label, **extra})


READ_WRITE_CHOICES = (1, 10, 100, 1000)


@dataclass(frozen=True)
class Requirements:
    """What a system needs. Every default means "no particular need"; set what applies."""

    simple_api: bool = _need("Clients call a simple request/response API (CRUD, a web or mobile backend)")
    file_uploads: bool = _need("A file upload triggers processing")
    realtime_streams: bool = _need("Continuous real-time data streams (IoT, clicks, logs)")
    ordering: bool = _need("Records must be handled in order (per device, per user, per key)")
    background_work: bool = _need("The work can run in the background, after the caller got an answer")
    spiky_load: bool = _need("Traffic comes in spikes the work must absorb")
    rate_limited_downstream: bool = _need("A downstream API is rate-limited (the chapter's matrix has no row)")
    multiple_downstream_actions: bool = _need("One event triggers several independent actions")
    multi_step_transactions: bool = _need("Steps across services must all succeed, or be undone")
    read_write_ratio: int = _need("Reads per write", 1, choices=READ_WRITE_CHOICES)
    complex_queries: bool = _need("Complex queries or search over the data")
    audit_trail: bool = _need("An audit trail, or events to replay")
    strong_consistency: bool = _need("Every read must see the latest write, everywhere")
    latency_sensitive: bool = _need("A user waits for the result (latency-sensitive)")
    teams: int = _need("Independent teams owning parts of the system", 1, min=1, max=10)

    def __post_init__(self) -> None:
        if not (isinstance(self.read_write_ratio, int | float) and self.read_write_ratio > 0):
            raise ValueError(f"read_write_ratio is reads per write, a positive number: got {self.read_write_ratio!r}")
        if not (isinstance(self.teams, int) and self.teams >= 1):
            raise ValueError(f"teams is a number of teams, at least 1: got {self.teams!r}")

    @classmethod
    def of(cls, needs: Requirements | Mapping[str, Any]) -> Requirements:
        """`needs` as Requirements; a dict's unknown keys are an error that lists the known ones."""
        if isinstance(needs, cls):
            return needs
        known = {f.name for f in fields(cls)}
        unknown = set(needs) - known
        if unknown:
            raise KeyError(f"unknown requirement {', '.join(sorted(unknown))}; requirements: {', '.join(known)}")
        return cls(**needs)

    def chosen(self) -> dict[str, Any]:
        """Only what differs from "no particular need", for short printouts."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}


# -- rules and the recommender ----------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """When `when(requirements)` holds, `weight` counts for `pattern` (or against it, if negative),
    for the reason the chapter gives in `quote` (its words, verbatim) under `source`."""

    pattern: str
    when: Callable[[Requirements], bool] = field(repr=False)
    weight: int
    source: str
    quote: str
    why: str = ""  # the requirement in plain words, shown before the quote

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", key_of(self.pattern))
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}: got {self.source!r}")
        if not isinstance(self.weight, int) or self.weight == 0:
            raise ValueError(f"weight must be a non-zero whole number: got {self.weight!r}")

    def problems(self) -> list[str]:
        """What is wrong with this rule as a row of the chapter's matrix ([] when nothing is)."""
        found: list[str] = []
        if not quoted(self.quote):
            found.append(f"the quote {self.quote!r} is not the chapter's words")
        elif self.quote not in BY_KEY[self.pattern].phrases(self.source):
            found.append(f"the chapter does not list {self.quote!r} under {self.source} for {BY_KEY[self.pattern].name}")
        return found


@dataclass(frozen=True)
class Reason:
    weight: int
    source: str
    quote: str
    why: str = ""

    def __str__(self) -> str:
        why = f"{self.why} — " if self.why else ""
        return f"{self.weight:+d}  {why}{self.source}: “{self.quote}”"


@dataclass(frozen=True)
class Recommendation:
    pattern: str  # the key, e.g. "stream-processing" (also its demo scenario's name)
    score: int
    reasons: tuple[Reason, ...]
    lesson: str

    @property
    def name(self) -> str:
        return BY_KEY[self.pattern].name

    @property
    def considerations(self) -> tuple[str, ...]:
        return BY_KEY[self.pattern].considerations

    def __str__(self) -> str:
        return f"{self.name} (score {self.score}) → {self.lesson}"


def _r(pattern: str, when: Callable[[Requirements], bool], weight: int, source: str, quote: str, why: str) -> Rule:
    return Rule(pattern, when, weight, source, quote, why)


RULES: tuple[Rule, ...] = (
    # the decision matrix, row by row: the strongest signal
    _r("api-backend", lambda r: r.simple_api, 3, "Decision Matrix", "Simple API", "clients call a simple API"),
    _r("event-driven", lambda r: r.file_uploads, 3, "Decision Matrix", "File upload triggers processing",
       "uploads start the work"),
    _r("stream-processing", lambda r: r.realtime_streams, 3, "Decision Matrix", "Real-time data streams",
       "records arrive as a continuous stream"),
    _r("microservices", lambda r: r.teams >= 2, 3, "Decision Matrix", "Independent services",
       "several teams own parts of the system"),
    _r("async-queue", lambda r: r.background_work, 3, "Decision Matrix", "Background tasks",
       "the work can run after the caller got an answer"),
    _r("cqrs", lambda r: r.read_write_ratio >= 10, 3, "Decision Matrix", "High read/write ratio",
       "many more reads than writes"),
    _r("fan-out", lambda r: r.multiple_downstream_actions, 3, "Decision Matrix", "Multiple downstream actions",
       "one event, several independent reactions"),
    _r("saga", lambda r: r.multi_step_transactions, 3, "Decision Matrix", "Multi-step transactions",
       "steps across services must all happen or be undone"),
    # use for / benefits: weaker signals that add up
    _r("stream-processing", lambda r: r.ordering, 2, "Benefits", "ordered records", "order matters"),
    _r("async-queue", lambda r: r.spiky_load, 2, "Benefits", "handles load spikes", "traffic comes in spikes"),
    _r("cqrs", lambda r: r.complex_queries, 2, "Use for", "complex queries", "reads need search or complex queries"),
    _r("cqrs", lambda r: r.audit_trail, 2, "Use for", "audit requirements", "an audit trail is required"),
    # considerations: what counts against a pattern for these requirements (the chapter's "avoid" outweighs
    # everything CQRS can score: 3 + 2 + 2)
    _r("api-backend", lambda r: r.latency_sensitive, -1, "Considerations",
       "Cold starts may affect latency (use provisioned concurrency for critical paths)", "a user waits"),
    _r("event-driven", lambda r: r.strong_consistency, -2, "Considerations", "Eventual consistency",
       "reads must see the latest write"),
    _r("stream-processing", lambda r: r.latency_sensitive, -1, "Considerations", "Batch size tuning needed",
       "a user waits, and batches add delay"),
    _r("microservices", lambda r: r.latency_sensitive, -1, "Considerations",
       "inter-service communication overhead", "a user waits"),
    _r("async-queue", lambda r: r.latency_sensitive, -2, "Considerations", "Eventual processing",
       "a user waits for the result"),
    _r("async-queue", lambda r: r.ordering, -1, "Considerations", "message ordering (FIFO queues available)",
       "order matters"),
    _r("cqrs", lambda r: r.strong_consistency, -7, "Avoid CQRS When",
       "Strong consistency required for all operations", "reads must see the latest write"),
    _r("fan-out", lambda r: r.ordering, -2, "Considerations", "No guaranteed ordering", "order matters"),
    _r("saga", lambda r: r.latency_sensitive, -1, "Considerations", "increased latency", "a user waits"),
)


def recommend(requirements: Requirements | Mapping[str, Any], rules: Iterable[Rule] = RULES) -> list[Recommendation]:
    """The patterns some rule recommends for `requirements`, best first, each with its reasons.

    A pattern's score is the sum of the weights of its rules that fire. A pattern is recommended
    when at least one rule counts for it and its score stays above zero; ties keep the chapter's
    order. Requirements no rule speaks to recommend nothing: an empty list, not a guess.
    """
    needs = Requirements.of(requirements)
    fired: dict[str, list[Reason]] = {p.key: [] for p in PATTERNS}
    for rule in rules:
        if rule.when(needs):
            fired[rule.pattern].append(Reason(rule.weight, rule.source, rule.quote, rule.why))
    order = {p.key: i for i, p in enumerate(PATTERNS)}
    found = [
        Recommendation(key, sum(r.weight for r in reasons),
                       tuple(sorted(reasons, key=lambda r: -r.weight)), LESSONS[key])
        for key, reasons in fired.items()
        if any(r.weight > 0 for r in reasons) and sum(r.weight for r in reasons) > 0
    ]
    return sorted(found, key=lambda rec: (-rec.score, order[rec.pattern]))


def report(recommendations: list[Recommendation], *, considerations: bool = True) -> str:
    """Stable text: each recommended pattern, its score, reasons, the chapter's considerations, lesson."""
    if not recommendations:
        return "no pattern recommended: no rule of the matrix speaks to these requirements"
    lines: list[str] = []
    for i, rec in enumerate(recommendations, 1):
        lines.append(f"{i}. {rec.name} (score {rec.score}) → {rec.lesson}")
        lines += [f"     {reason}" for reason in rec.reasons]
        if considerations:
            lines.append(f"     plan for: {', '.join(rec.considerations)}")
    return "\n".join(lines)


# -- the quiz ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    number: int
    text: str
    answer: str  # pattern key
    explanation: str
    requirements: Requirements  # how the recommender reads the scenario (tests check it agrees)


QUIZ: tuple[Question, ...] = (
    Question(1, "An IoT fleet of 5,000 sensors sends a temperature reading every second; the dashboards need "
             "each device's readings in order.", "stream-processing",
             "A continuous stream of small records, in order per device: a Kinesis stream with the device id as "
             "partition key keeps each device's records in order in one shard, and Lambda reads them in batches "
             "(“Real-time data streams”, “IoT data”, “ordered records”). Fan-out or a standard queue would "
             "not keep the order.",
             Requirements(realtime_streams=True, ordering=True)),
    Question(2, "A small charity's website: volunteers add, edit and list events in a form; a few requests a "
             "minute, one developer.", "api-backend",
             "Plain CRUD behind HTTP (“Simple API”, “CRUD operations”): API Gateway → Lambda → DynamoDB, "
             "pay-per-request. CQRS or microservices would be complexity with nothing to pay for it.",
             Requirements(simple_api=True)),
    Question(3, "Users upload profile photos to S3; each one must be resized and scanned for faces before it "
             "is shown.", "event-driven",
             "The upload itself is the event (“File upload triggers processing”, “File processing”): an S3 "
             "notification invokes the processing, with automatic retries. Design it idempotent: S3 may "
             "deliver an event twice.",
             Requirements(file_uploads=True)),
    Question(4, "When a customer signs up: send a welcome email, create the CRM contact, start a trial and "
             "record it for analytics; each may fail on its own without holding up the others.", "fan-out",
             "One event, several independent reactions (“Multiple downstream actions”): an SNS topic with one "
             "subscriber per reaction gives parallel execution and failure isolation. They need no order, and "
             "they do not have to succeed together — otherwise it would be a saga.",
             Requirements(multiple_downstream_actions=True)),
    Question(5, "At the end of each month every customer can ask for a PDF statement that takes about two "
             "minutes to build; they get an email when it is ready.", "async-queue",
             "Slow work nobody waits for (“Background tasks”, “report generation”): the API answers 202 and "
             "puts a message on SQS; workers drain the queue at their own pace, and the month-end spike "
             "waits in the queue (“handles load spikes”).",
             Requirements(background_work=True, spiky_load=True)),
    Question(6, "A news site: editors publish about 50 articles a day; millions of readers search them by "
             "tag, author and date. A new article may take a few seconds to appear in search.", "cqrs",
             "Reads outnumber writes by far (“High read/write ratio”) and need search (“complex queries”): "
             "write to DynamoDB, build a search read model from its events. The few seconds of delay are the "
             "“Eventual consistency” the readers can live with.",
             Requirements(read_write_ratio=1000, complex_queries=True)),
    Question(7, "Booking a trip: a flight, a hotel and a car from three different services. If the car cannot "
             "be booked, the hotel and the flight must be cancelled.", "saga",
             "Steps across services that must all happen or be undone (“Multi-step transactions”, "
             "“compensating actions”): there is no transaction across three services, so each step has a "
             "compensation that runs when a later step fails. Expect “Complex compensation logic”.",
             Requirements(multi_step_transactions=True)),
    Question(8, "An online shop is built by six teams — catalogue, cart, payments, shipping, search, "
             "accounts — each deploying on its own schedule, one of them in Node.js.", "microservices",
             "Independent team ownership and a polyglot requirement (“Independent services”, “team "
             "autonomy”, “technology flexibility”): each team deploys its own functions and data and talks "
             "to the others through events and APIs — at the price of “Distributed system complexity”.",
             Requirements(teams=6)),
    Question(9, "A sports app sends a push-and-SMS alert after each goal: 200,000 messages in a burst, "
             "through an SMS provider that accepts 100 requests a second.", "async-queue",
             "A burst the downstream cannot take at once (“rate-limited APIs”, “handles load spikes”): the "
             "messages wait in an SQS queue and a capped number of workers (the mapping's maximum "
             "concurrency) send them as fast as the provider allows. The chapter's decision matrix has no "
             "row for rate limits — lesson 11's lab adds one.",
             Requirements(background_work=True, spiky_load=True, rate_limited_downstream=True)),
)


@dataclass(frozen=True)
class QuizResult:
    correct: int
    answered: int
    lines: tuple[str, ...]

    def __str__(self) -> str:
        total = len(QUIZ)
        head = f"{self.correct} of {total} right" + (f" ({total - self.answered} not answered yet)"
                                                      if self.answered < total else "")
        return "\n".join((head, *self.lines))


def grade_quiz(answers: Mapping[int, str | None]) -> QuizResult:
    """Grade `answers` ({question number: pattern}); explain every answered question, right or wrong."""
    lines: list[str] = []
    correct = answered = 0
    for q in QUIZ:
        given = answers.get(q.number)
        if given is None or str(given).strip() in ("", "..."):
            lines.append(f"  {q.number}. not answered")
            continue
        answered += 1
        try:
            key = key_of(given)
        except KeyError:
            lines.append(f"✗ {q.number}. {given!r} is not one of the patterns: {', '.join(LESSONS)}")
            continue
        if key == q.answer:
            correct += 1
            lines.append(f"✓ {q.number}. {BY_KEY[key].name}. {q.explanation}")
        else:
            lines.append(f"✗ {q.number}. not {BY_KEY[key].name}: {BY_KEY[q.answer].name}. {q.explanation}")
    return QuizResult(correct, answered, tuple(lines))


# -- the widget: displays what `recommend` returns ----------------------------------------------------
def recommendations_html(recommendations: list[Recommendation], *, lesson_base: str = "") -> str:
    """The recommendations as HTML, linking each pattern to its lesson (`lesson_base` + file name)."""
    if not recommendations:
        return "<p><i>No pattern recommended: pick the requirements that apply.</i></p>"
    items = []
    for rec in recommendations:
        link = lesson_base + rec.lesson.rsplit("/", 1)[-1]
        reasons = "".join(
            f"<li style='color:{'#1a7f37' if r.weight > 0 else '#b35900'}'>{r.weight:+d} "
            f"{html.escape(r.why)} — <i>{html.escape(r.source)}</i>: “{html.escape(r.quote)}”</li>"
            for r in rec.reasons)
        plan = html.escape(", ".join(rec.considerations))
        items.append(f"<li><b><a href='{html.escape(link)}' target='_blank'>{html.escape(rec.name)}</a></b> "
                     f"(score {rec.score})<ul>{reasons}<li>plan for: {plan}</li></ul></li>")
    return "<ol>" + "".join(items) + "</ol>"


class Chooser:
    """Pick requirements, read the recommended patterns with the chapter's reasons and lesson links."""

    def __init__(self, rules: Iterable[Rule] = RULES, *, lesson_base: str = "") -> None:
        import ipywidgets as w

        self.rules = tuple(rules)
        self.lesson_base = lesson_base
        self.controls: dict[str, Any] = {}
        layout = w.Layout(width="auto")
        for f in fields(Requirements):
            label = f.metadata["label"]
            if f.type == "bool" or isinstance(f.default, bool):
                control = w.Checkbox(value=f.default, description=label, indent=False, layout=layout)
            elif "choices" in f.metadata:
                control = w.SelectionSlider(options=list(f.metadata["choices"]), value=f.default,
                                            description=label, style={"description_width": "initial"})
            else:
                control = w.IntSlider(value=f.default, min=f.metadata["min"], max=f.metadata["max"],
                                      description=label, style={"description_width": "initial"})
            control.observe(lambda _change: self.refresh(), names="value")
            self.controls[f.name] = control
        self.result = w.HTML()
        self.widget = w.HBox([w.VBox(list(self.controls.values()), layout=w.Layout(width="48%")),
                              w.VBox([w.HTML("<b>Recommended patterns</b>"), self.result],
                                     layout=w.Layout(width="52%"))])
        self.refresh()

    def requirements(self) -> Requirements:
        return Requirements(**{name: control.value for name, control in self.controls.items()})

    def set(self, **values: Any) -> Chooser:
        """Set requirements as a student would tick them (tests and presenters use this)."""
        for name, value in values.items():
            self.controls[name].value = value
        return self

    @property
    def recommendations(self) -> list[Recommendation]:
        return recommend(self.requirements(), self.rules)

    def refresh(self) -> None:
        self.result.value = recommendations_html(self.recommendations, lesson_base=self.lesson_base)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
