"""The embedded search engine: full-text matching, ranking, filters, and the chapter's query as printed."""

from __future__ import annotations

import threading

import pytest

from localcloud import ConfigurationError, search


@pytest.fixture
def es():
    engine = search.SearchEngine()
    return search.SearchClient(engine)


def orders(es):
    for i, (user, items, day) in enumerate([("u-1", "green tea and biscuits", "2026-01-03"),
                                            ("u-2", "black tea", "2026-01-05"),
                                            ("u-1", "coffee beans", "2025-12-30"),
                                            ("u-1", "tea tea tea sampler", "2026-02-01")]):
        es.index(index="orders", id=f"o-{i}", body={"order_id": f"o-{i}", "user_id": user, "items": items,
                                                    "timestamp": day, "total": 10 * (i + 1)})


def ids(result) -> list[str]:
    return [hit["_id"] for hit in result["hits"]["hits"]]


def test_the_chapters_cqrs_query_runs_as_printed(es):
    orders(es)
    results = es.search(index="orders", body={"query": {"bool": {"must": [
        {"match": {"user_id": "u-1"}}, {"range": {"timestamp": {"gte": "2026-01-01"}}}]}}})
    assert sorted(ids(results)) == ["o-0", "o-3"]


def test_full_text_matching_is_ranked_by_relevance(es):
    orders(es)
    result = es.search(index="orders", body={"query": {"match": {"items": "tea"}}})
    assert ids(result)[0] == "o-3"  # "tea tea tea" ranks first (BM25)
    assert sorted(ids(result)) == ["o-0", "o-1", "o-3"]
    assert ids(es.search(index="orders", body={"query": {"multi_match": {"query": "coffee"}}})) == ["o-2"]


def test_filters_sort_size_and_updates(es):
    orders(es)
    result = es.search(index="orders", body={"query": {"bool": {"filter": [{"term": {"user_id": "u-1"}}],
                                                                "must_not": [{"match": {"items": "coffee"}}]}},
                                             "sort": [{"total": {"order": "desc"}}], "size": 1})
    assert ids(result) == ["o-3"]
    assert es.index(index="orders", id="o-3", body={"user_id": "u-9"})["result"] == "updated"
    assert es.get(index="orders", id="o-3")["_source"] == {"user_id": "u-9"}
    assert es.count(index="orders")["count"] == 4
    assert es.delete(index="orders", id="o-3")["result"] == "deleted"
    assert es.count(index="orders", body={"query": {"match": {"items": "tea"}}})["count"] == 2


def test_user_text_cannot_break_the_query_and_unknown_queries_are_named(es):
    orders(es)
    assert ids(es.search(index="orders", body={"query": {"match": {"items": 'tea" OR "coffee'}}})) == []
    with pytest.raises(ConfigurationError, match="'fuzzy' is not supported"):
        es.search(index="orders", body={"query": {"fuzzy": {"items": "te"}}})


def test_handlers_on_many_threads_index_without_losing_documents(es):
    def writer(n):
        for i in range(50):
            es.index(index="clicks", id=f"{n}-{i}", body={"page": f"/p/{i}", "user": str(n)})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert es.count(index="clicks")["count"] == 400


def test_should_clauses_rank_beside_must_and_select_when_alone(es):
    orders(es)
    ranked = es.search(index="orders", body={"query": {"bool": {"must": [{"match": {"items": "tea"}}],
                                                                "should": [{"match": {"items": "biscuits"}}]}}})
    assert sorted(ids(ranked)) == ["o-0", "o-1", "o-3"]
    alone = es.search(index="orders", body={"query": {"bool": {"should": [{"match": {"items": "coffee"}},
                                                                          {"term": {"user_id": "u-2"}}]}}})
    assert sorted(ids(alone)) == ["o-1", "o-2"]


def test_search_calls_join_the_trace_and_the_flow_graph_as_boto3_calls_do(cloud):
    from localcloud import trace as tr
    from localcloud.pictures import flow

    es = search.client()

    def project(event, context):  # a read-model projector, as in the CQRS lesson
        es.index(index="orders", id=event["id"], body={"user_id": event["user"], "items": "tea"})

    cloud.function("project", project)
    cloud.client("lambda").invoke(FunctionName="project", Payload=b'{"id": "o-1", "user": "u-1"}')
    assert es.search(index="orders", body={"query": {"match": {"items": "tea"}}})["hits"]["total"]["value"] == 1
    with pytest.raises(ConfigurationError):
        es.search(index="orders", body={"query": {"fuzzy": {"items": "tee"}}})

    calls = [r for r in cloud.trace if r.kind == tr.CALL and r.target == "index:orders"]
    assert [(c.source, c.operation, c.outcome) for c in calls] == [
        ("function:project", "index", tr.SUCCESS), ("client", "search", tr.SUCCESS), ("client", "search", tr.ERROR)]
    assert "fuzzy" in calls[2].error
    assert flow.flow_data(cloud.trace).edge("function:project", "index:orders").calls == 1


def test_search_calls_made_by_the_runtime_or_without_a_cloud_are_not_recorded():
    from localcloud import Cloud

    es = search.client()
    with Cloud() as cloud:
        records_before = len(cloud.trace)
    es.index(index="orders", id="o-1", body={"items": "tea"})  # the cloud is closed: nothing to record into
    assert len(cloud.trace) == records_before and search.engine().observer is None
