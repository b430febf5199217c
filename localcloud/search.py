"""An embedded search engine standing in for OpenSearch / Elasticsearch: SQLite FTS5, no server.

The chapter's stream-processing and CQRS read sides write to Elasticsearch. A lesson needs a real
engine — ranking, full-text matching, range filters — not a hand-written dictionary, and it must run
offline in the kernel. SQLite's FTS5 (in Python's standard library) is that engine; `SearchClient`
speaks the small part of the Elasticsearch client API the chapter uses, so its code runs as printed:

    es = search.client()
    es.index(index="orders", id="o-1", body={"user_id": "u-1", "items": ["tea"], "timestamp": "2026-01-02"})
    es.search(index="orders", body={"query": {"bool": {"must": [
        {"match": {"user_id": "u-1"}}, {"range": {"timestamp": {"gte": "2026-01-01"}}}]}}})

Supported queries: match_all, match, match_phrase, multi_match, term, terms, range, and bool with
must / filter / should / must_not. Anything else raises a one-line error naming it. One difference
to know: `match` here requires every word of the query (Elasticsearch's `"operator": "and"`);
Elasticsearch's default is any word, after splitting `u-1` into `u` and `1`.

Document and search calls (index, get, delete, search, count) appear in `cloud.trace` as `call`
records on an `index:NAME` node, like boto3's calls on tables and queues, so flow graphs show the
read model being written and queried.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from .calls import CallObserver, traced
from .errors import ConfigurationError

_RANGE_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


def _flatten(document: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(field, text) pairs for every string/number leaf; lists index under their field's name."""
    if isinstance(document, dict):
        pairs = []
        for key, value in document.items():
            pairs += _flatten(value, f"{prefix}.{key}" if prefix else key)
        return pairs
    if isinstance(document, list):
        return [pair for item in document for pair in _flatten(item, prefix)]
    if document is None or isinstance(document, bool):
        return []
    return [(prefix, str(document))]


def _fts_phrase(text: str) -> str:
    """Quote each word so user text can't inject FTS5 syntax; words are ANDed, as `match` does with operator=and."""
    words = [w for w in str(text).replace('"', " ").split() if w]
    return " ".join(f'"{w}"' for w in words) or '""'


class SearchIndex:
    """One index: documents by id, a full-text table of their fields, and BM25 ranking."""

    def __init__(self, engine: SearchEngine, name: str) -> None:
        self.engine, self.name = engine, name
        self._docs, self._fts = f'"docs_{name}"', f'"fts_{name}"'
        with engine.lock:
            engine.db.execute(f"CREATE TABLE IF NOT EXISTS {self._docs} (id TEXT PRIMARY KEY, source TEXT)")
            engine.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self._fts} USING fts5(id UNINDEXED, field UNINDEXED, text)")

    def put(self, doc_id: str, document: dict) -> str:
        """Index (or replace) a document; returns "created" or "updated" as Elasticsearch does."""
        with self.engine.lock:
            db = self.engine.db
            existed = db.execute(f"SELECT 1 FROM {self._docs} WHERE id = ?", (doc_id,)).fetchone() is not None
            db.execute(f"INSERT OR REPLACE INTO {self._docs} VALUES (?, ?)", (doc_id, json.dumps(document)))
            db.execute(f"DELETE FROM {self._fts} WHERE id = ?", (doc_id,))
            db.executemany(f"INSERT INTO {self._fts} VALUES (?, ?, ?)",
                           [(doc_id, field, text) for field, text in _flatten(document)])
        return "updated" if existed else "created"

    def get(self, doc_id: str) -> dict | None:
        with self.engine.lock:
            row = self.engine.db.execute(f"SELECT source FROM {self._docs} WHERE id = ?", (doc_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, doc_id: str) -> bool:
        with self.engine.lock:
            gone = self.engine.db.execute(f"DELETE FROM {self._docs} WHERE id = ?", (doc_id,)).rowcount
            self.engine.db.execute(f"DELETE FROM {self._fts} WHERE id = ?", (doc_id,))
        return bool(gone)

    def count(self) -> int:
        with self.engine.lock:
            return self.engine.db.execute(f"SELECT COUNT(*) FROM {self._docs}").fetchone()[0]

    def search(self, query: dict | None = None, *, size: int = 10, sort: list | None = None) -> list[dict]:
        """Matching documents as `{"_id", "_score", "_source"}`, best first (or by `sort`).

        Text clauses are answered by FTS5 with BM25 scores; structure (term, range, bool) by SQL over
        the stored JSON, with each text clause's matching ids passed in as a JSON list.
        """
        with self.engine.lock:
            where, params, scores = self._clause(query or {"match_all": {}})
            rows = self.engine.db.execute(f"SELECT d.id, d.source FROM {self._docs} d WHERE {where}", params).fetchall()
        hits = [{"_index": self.name, "_id": i, "_score": round(sum(s.get(i, 0.0) for s in scores) or 1.0, 4),
                 "_source": json.loads(src)} for i, src in rows]
        if sort:
            field, descending = self._sort(sort[0])
            hits.sort(key=lambda h: h["_id"])
            hits.sort(key=lambda h: (h["_source"].get(field) is None, h["_source"].get(field)), reverse=descending)
        else:
            hits.sort(key=lambda h: (-h["_score"], h["_id"]))
        return hits[:size]

    @staticmethod
    def _sort(spec: Any) -> tuple[str, bool]:
        if isinstance(spec, str):
            return spec, False
        (field, how), = spec.items()
        order = how.get("order", "asc") if isinstance(how, dict) else how
        return field, str(order).lower() == "desc"

    def _text(self, field: str | None, text: Any) -> tuple[str, list, list[dict[str, float]]]:
        sql = f"SELECT id, bm25({self._fts}) FROM {self._fts} WHERE {self._fts} MATCH ?"
        params: list[Any] = [_fts_phrase(text)]
        if field not in (None, "*", "_all"):
            sql += " AND field = ?"
            params.append(field)
        scores: dict[str, float] = {}
        for doc_id, rank in self.engine.db.execute(sql, params):
            scores[doc_id] = max(scores.get(doc_id, 0.0), -rank)  # bm25() is lower-is-better
        return "d.id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(scores))], [scores]

    def _clause(self, query: dict) -> tuple[str, list, list[dict[str, float]]]:
        """SQL for one query clause: (where, params, text scores by id)."""
        if not isinstance(query, dict) or len(query) != 1:
            raise ConfigurationError(f"search query {query!r}: give exactly one query type, e.g. {{'match': {{...}}}}")
        (kind, body), = query.items()
        if kind == "match_all":
            return "1", [], []
        if kind in ("match", "match_phrase"):
            (field, value), = body.items()
            return self._text(field, value.get("query") if isinstance(value, dict) else value)
        if kind == "multi_match":
            return self._text(None, body["query"])
        if kind == "term":
            (field, value), = body.items()
            value = value.get("value") if isinstance(value, dict) else value
            return f"json_extract(d.source, '$.{field}') = ?", [value], []
        if kind == "terms":
            (field, values), = body.items()
            return f"json_extract(d.source, '$.{field}') IN (SELECT value FROM json_each(?))", [json.dumps(values)], []
        if kind == "range":
            (field, bounds), = body.items()
            parts, params = [], []
            for op, value in bounds.items():
                if op not in _RANGE_OPS:
                    raise ConfigurationError(f"range on {field!r}: unknown bound {op!r} (use gte, gt, lte, lt)")
                parts.append(f"json_extract(d.source, '$.{field}') {_RANGE_OPS[op]} ?")
                params.append(value)
            return " AND ".join(parts) or "1", params, []
        if kind == "bool":
            return self._bool(body)
        raise ConfigurationError(
            f"search query type {kind!r} is not supported here (supported: match_all, match, match_phrase, "
            "multi_match, term, terms, range, bool)")

    def _bool(self, body: dict) -> tuple[str, list, list[dict[str, float]]]:
        parts, params, scores = [], [], []
        for key, negate, scored in (("must", False, True), ("filter", False, False), ("must_not", True, False)):
            for clause in body.get(key, []):
                where, p, s = self._clause(clause)
                parts.append(f"NOT ({where})" if negate else f"({where})")
                params += p
                scores += s if scored else []
        should = body.get("should", [])
        if should:  # alone, at least one must match; beside must/filter, they only add to the score
            required = not (body.get("must") or body.get("filter")) or bool(body.get("minimum_should_match"))
            ors, should_params = [], []
            for clause in should:
                where, p, s = self._clause(clause)
                ors.append(f"({where})")
                should_params += p
                scores += s
            if required:
                parts.append("(" + " OR ".join(ors) + ")")
                params += should_params
        return " AND ".join(parts) or "1", params, scores


class SearchEngine:
    """A set of indexes in one in-memory SQLite database, safe to use from handler threads."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self.lock = threading.RLock()
        self.indexes: dict[str, SearchIndex] = {}
        self.observer: CallObserver | None = None  # the running Cloud records the calls in its trace

    def index(self, name: str) -> SearchIndex:
        with self.lock:
            if name not in self.indexes:
                self.indexes[name] = SearchIndex(self, name)
            return self.indexes[name]

    def drop(self, name: str) -> None:
        with self.lock:
            if name in self.indexes:
                index = self.indexes.pop(name)
                self.db.execute(f"DROP TABLE IF EXISTS {index._docs}")
                self.db.execute(f"DROP TABLE IF EXISTS {index._fts}")

    def reset(self) -> None:
        for name in list(self.indexes):
            self.drop(name)


class _Indices:
    def __init__(self, engine: SearchEngine) -> None:
        self._engine = engine

    def create(self, index: str, **_: Any) -> dict:
        self._engine.index(index)
        return {"acknowledged": True, "index": index}

    def delete(self, index: str, **_: Any) -> dict:
        self._engine.drop(index)
        return {"acknowledged": True}

    def exists(self, index: str, **_: Any) -> bool:
        return index in self._engine.indexes


class SearchClient:
    """The part of the `elasticsearch` client the chapter uses, on the embedded engine."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self.indices = _Indices(engine)

    def _traced(self, operation: str, index: str, call: Any) -> Any:
        return traced(self.engine.observer, f"index:{index}", operation, call)

    def index(self, index: str, id: str, body: dict | None = None, document: dict | None = None, **_: Any) -> dict:
        def call() -> dict:
            result = self.engine.index(index).put(str(id), body if body is not None else document or {})
            return {"_index": index, "_id": str(id), "result": result}

        return self._traced("index", index, call)

    def get(self, index: str, id: str, **_: Any) -> dict:
        def call() -> dict:
            source = self.engine.index(index).get(str(id))
            return {"_index": index, "_id": str(id), "found": source is not None, "_source": source}

        return self._traced("get", index, call)

    def delete(self, index: str, id: str, **_: Any) -> dict:
        def call() -> dict:
            deleted = self.engine.index(index).delete(str(id))
            return {"_index": index, "_id": str(id), "result": "deleted" if deleted else "not_found"}

        return self._traced("delete", index, call)

    def count(self, index: str, body: dict | None = None, **_: Any) -> dict:
        def call() -> dict:
            if body and body.get("query"):
                return {"count": len(self.engine.index(index).search(body["query"], size=1_000_000))}
            return {"count": self.engine.index(index).count()}

        return self._traced("count", index, call)

    def search(self, index: str, body: dict | None = None, query: dict | None = None, size: int | None = None,
               **_: Any) -> dict:
        def call() -> dict:
            spec = dict(body or {})
            hits = self.engine.index(index).search(query or spec.get("query"), size=size or spec.get("size", 10),
                                                   sort=spec.get("sort"))
            return {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}

        return self._traced("search", index, call)


_engine = SearchEngine()


def engine() -> SearchEngine:
    """The process's engine: what handlers and cells share, like one cluster endpoint."""
    return _engine


def client() -> SearchClient:
    """An Elasticsearch-style client on the shared engine (cheap: make one per handler module)."""
    return SearchClient(_engine)
