"""API Gateway proxy integrations: events as AWS builds them, responses mapped as AWS maps them."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)

from localcloud import ConfigurationError


def test_http_api_v2_event_and_simplified_response(cloud):
    seen = []

    def get_order(event, context):
        seen.append(event)
        return {"id": event["pathParameters"]["id"], "expand": event["queryStringParameters"]["expand"]}

    api = cloud.http_api({"GET /orders/{id}": cloud.function("get-order", get_order)}, name="orders-api")
    response = api.request("GET", "/orders/o-42?expand=items", headers={"X-Trace": "abc"})
    assert response.status_code == 200 and response.json() == {"id": "o-42", "expand": "items"}
    assert response.headers["content-type"] == "application/json"
    event = APIGatewayProxyEventV2Model(**seen[0])
    assert event.routeKey == "GET /orders/{id}" and event.rawPath == "/orders/o-42"
    assert event.headers["x-trace"] == "abc" and event.requestContext.http.method == "GET"
    assert boto3.client("apigatewayv2").get_apis()["Items"][0]["Name"] == "orders-api"
    assert [r.source for r in cloud.trace.invocations] == ["api:orders-api"]


def test_rest_v1_event_with_body_and_status_code(cloud):
    seen = []

    def create(event, context):
        seen.append(event)
        body = json.loads(event["body"])
        return {"statusCode": 201, "headers": {"Location": f"/orders/{body['id']}"}, "body": json.dumps(body)}

    api = cloud.http_api({"POST /orders": cloud.function("create", create)}, payload_version="1.0")
    response = api.request("POST", "/orders", json={"id": "o-1"}, query={"tag": ["a", "b"]})
    assert response.status_code == 201 and response.headers["location"] == "/orders/o-1"
    event = APIGatewayProxyEventModel(**seen[0])
    assert event.httpMethod == "POST" and event.resource == "/orders"
    assert seen[0]["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}


def test_binary_bodies_travel_base64_encoded(cloud):
    def upload(event, context):
        data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else b""
        return {"statusCode": 200, "body": base64.b64encode(data[::-1]).decode(), "isBase64Encoded": True}

    api = cloud.http_api({"PUT /blob": cloud.function("blob", upload)})
    assert api.request("PUT", "/blob", body=b"\x00\x01\x02").body == b"\x02\x01\x00"


@pytest.mark.parametrize(
    ("answer", "status"),
    [({"statusCode": "abc"}, 502), ({"statusCode": 200, "body": {"not": "a string"}}, 502),
     ({"statusCode": 404, "body": "{}"}, 404)],
)
def test_a_malformed_handler_response_is_a_502(cloud, answer, status):
    api = cloud.http_api({"GET /x": cloud.function("x", lambda e, c: answer)})
    assert api.request("GET", "/x").status_code == status


def test_errors_unknown_routes_and_v1_without_status(cloud):
    def broken(event, context):
        raise KeyError("id")

    api = cloud.http_api({"GET /broken": cloud.function("broken", broken)})
    response = api.request("GET", "/broken")
    assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}
    assert api.request("GET", "/nowhere").status_code == 404
    rest = cloud.http_api({"GET /plain": cloud.function("plain", lambda e, c: {"no": "status"})},
                          payload_version="1.0")
    assert rest.request("GET", "/plain").status_code == 502


def test_route_specificity_greedy_paths_and_default(cloud):
    api = cloud.http_api({
        "GET /files/{proxy+}": cloud.function("files", lambda e, c: e["pathParameters"]),
        "GET /files/readme": cloud.function("readme", lambda e, c: "readme"),
        "$default": cloud.function("fallback", lambda e, c: "fallback"),
    })
    assert api.get("/files/readme").json() == "readme"
    assert api.get("/files/a/b.txt").json() == {"proxy": "a/b.txt"}
    assert api.post("/anything").json() == "fallback"


def test_bad_routes_are_refused_in_one_line(cloud):
    fn = cloud.function("f", lambda e, c: None)
    with pytest.raises(ConfigurationError, match="route 'FETCH /x' is not 'METHOD /path'"):
        cloud.http_api({"FETCH /x": fn})


def test_powertools_api_gateway_http_resolver_works_unchanged(cloud):
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError

    app = APIGatewayHttpResolver()
    orders = {"o-1": {"id": "o-1", "total": 30}}

    @app.get("/orders/<order_id>")
    def get_order(order_id: str):
        if order_id not in orders:
            raise NotFoundError(f"order {order_id} not found")
        return orders[order_id]

    @app.post("/orders")
    def create_order():
        order = app.current_event.json_body
        orders[order["id"]] = order
        return {"created": order["id"]}, 201

    fn = cloud.function("orders", lambda event, context: app.resolve(event, context))
    api = cloud.http_api({"ANY /orders/{proxy+}": fn, "ANY /orders": fn})
    assert api.get("/orders/o-1").json() == {"id": "o-1", "total": 30}
    assert api.post("/orders", json={"id": "o-2"}).status_code == 201
    assert api.get("/orders/o-9").status_code == 404


def test_a_redefined_function_answers_behind_an_existing_api(cloud):
    api = cloud.http_api({"GET /v": cloud.function("v", lambda e, c: 1)})
    assert api.get("/v").json() == 1
    cloud.function("v", lambda e, c: 2)  # re-running the cell with new code
    assert api.get("/v").json() == 2


def test_rest_apis_refuse_unknown_keys_in_a_proxy_response(cloud):
    answer = {"statusCode": 201, "order_id": "o-1"}  # the chapter's CQRS command returns this
    rest = cloud.http_api({"POST /o": cloud.function("o", lambda e, c: answer)}, payload_version="1.0")
    assert rest.post("/o").status_code == 502
    http = cloud.http_api({"POST /o": cloud.function("o2", lambda e, c: answer)})
    assert http.post("/o").status_code == 201
