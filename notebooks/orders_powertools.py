"""The same orders API with Powertools' APIGatewayHttpResolver: one handler, routes as decorators.

Deployed as one function (``handler: orders_powertools.handler``) behind the routes
``POST /orders``, ``GET /orders/{id}`` and ``GET /orders``. The resolver parses the event, matches
the route, and turns return values and its exceptions into API Gateway responses.
"""

import json
import os
import uuid
from functools import partial

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from orders_api import BadRequest, image_link, parse_order, to_json

table = boto3.resource("dynamodb").Table(os.environ.get("ORDERS_TABLE", "Orders"))

# Without `serializer`, Powertools turns every Decimal into a string: "quantity": "2".
app = APIGatewayHttpResolver(serializer=partial(json.dumps, default=to_json))


@app.post("/orders")
def create():
    try:
        order = parse_order({"body": app.current_event.body})
    except BadRequest as error:
        raise BadRequestError("; ".join(error.problems)) from None
    order["order_id"] = str(uuid.uuid4())
    order["status"] = "placed"
    table.put_item(Item=order)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=order,
                    headers={"location": f"/orders/{order['order_id']}"})


@app.get("/orders/<order_id>")
def get(order_id: str):
    order = table.get_item(Key={"order_id": order_id}).get("Item")
    if order is None:
        raise NotFoundError(f"order {order_id} not found")
    for item in order["items"]:
        item["image_url"] = image_link(item["sku"])
    return order


@app.get("/orders")
def list_orders():
    page = table.scan(Limit=50)
    return {"orders": page["Items"], "count": len(page["Items"])}


def handler(event, context):
    return app.resolve(event, context)
