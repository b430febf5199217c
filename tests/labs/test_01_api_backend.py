"""Checks for lab 01 — API backend (``solutions/01-api-backend.ipynb``)."""

from __future__ import annotations

import base64
import json

from localcloud.grading import Exercises, NotAttempted

EXERCISES = Exercises("01-api-backend")


# -- helpers ---------------------------------------------------------------------------------------
def orders_table(cloud):
    cloud.client("dynamodb").create_table(
        TableName="Orders",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return cloud.resource("dynamodb").Table("Orders")


def handler_error(cloud, function: str) -> str:
    """The last error of `function` in the trace ('' if none); NotAttempted means: not attempted."""
    errors = [r.error or "" for r in cloud.trace.filter(kind="invoke", function=function)
              if r.outcome != "success"]
    if any("NotAttempted" in e for e in errors):
        raise NotAttempted(f"function '{function}'")
    return errors[-1] if errors else ""


def expect(cloud, function: str, response, status: int, what: str) -> None:
    """`response` has `status`, or fail saying what came back (and why, if the handler failed)."""
    if response.status_code == status:
        return
    error = handler_error(cloud, function)
    why = f" — the handler raised {error}" if error and response.status_code >= 500 else ""
    body = "" if why else f" (body: {response.text[:120]!r})"
    raise AssertionError(f"{what} answered {response.status_code}, expected {status}{why}{body}")


def json_body(response, what: str):
    try:
        return json.loads(response.body)
    except ValueError:
        raise AssertionError(f"{what}: the body must be JSON (json.dumps), got {response.text[:80]!r}") from None


# -- exercise 1 ----------------------------------------------------------------------------------
ORDER = {"order_id": "o-1", "customer": "Ada", "status": "placed", "total_cents": 1999,
         "items": [{"sku": "book", "quantity": 2}]}


@EXERCISES.check(
    1,
    "GET an order: path parameter, 404, Decimal",
    hint="The id is event['pathParameters']['id']; table.get_item(Key={'order_id': id}).get('Item') is None "
    "when there is no such order (answer 404). Numbers come back as Decimal: json.dumps(order, default=...) "
    "with a function that returns int(value) for whole numbers and float(value) otherwise.",
    solution="get_item by the path parameter; 404 with a JSON message when missing; 200 with "
    "json.dumps(order, default=to_json) and a content-type header.",
)
def check_get_order(ns, cloud):
    orders_table(cloud).put_item(Item=ORDER)
    fn = cloud.function("GetOrder", ns.get_order)
    api = cloud.http_api({"GET /orders/{id}": fn}, name="lab01-get")
    found = api.request("GET", "/orders/o-1")
    expect(cloud, "GetOrder", found, 200, "GET /orders/o-1")
    body = json_body(found, "GET /orders/o-1")
    assert isinstance(body, dict) and body.get("order_id") == "o-1", f"GET /orders/o-1 should return the order, got {body!r}"
    quantity = (body.get("items") or [{}])[0].get("quantity")
    assert quantity == 2 and type(quantity) is int, (
        f"numbers must stay numbers: items[0].quantity came back as {quantity!r} ({type(quantity).__name__}), "
        "expected 2 (int)"
    )
    assert body.get("total_cents") == 1999, f"total_cents should be 1999, got {body.get('total_cents')!r}"
    content_type = found.headers.get("content-type", "")
    assert "application/json" in content_type, f"say what the body is: header content-type should be application/json, got {content_type!r}"
    missing = api.request("GET", "/orders/o-404")
    expect(cloud, "GetOrder", missing, 404, "GET /orders/o-404 (no such order)")
    message = json_body(missing, "GET /orders/o-404")
    assert isinstance(message, dict) and message.get("message"), f"a 404 should carry a JSON {{'message': ...}}, got {message!r}"


GET_START = ("# Exercise 1\nimport boto3, json\ndef get_order(event, context):\n"
             "    order = boto3.resource('dynamodb').Table('Orders').get_item("
             "Key={'order_id': event['pathParameters']['id']}).get('Item')\n")
NOT_FOUND = "    if order is None:\n        return {'statusCode': 404, 'body': json.dumps({'message': 'not found'})}\n"
EXERCISES.known_wrong(
    1,
    GET_START + NOT_FOUND + "    return {'statusCode': 200, 'body': json.dumps(order)}\n",
    reason="answered 500, expected 200 — the handler raised TypeError: Object of type Decimal is not JSON serializable",
)
EXERCISES.known_wrong(
    1,
    GET_START + NOT_FOUND + "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'}, "
    "'body': json.dumps(order, default=str)}\n",
    reason="numbers must stay numbers: items[0].quantity came back as '2' (str)",
)
EXERCISES.known_wrong(
    1,
    GET_START + "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'}, "
    "'body': json.dumps(order, default=int)}\n",
    reason="GET /orders/o-404 (no such order) answered 200, expected 404",
)


# -- exercise 2 ----------------------------------------------------------------------------------
BAD_REQUESTS = [
    ("a body that is not JSON", "customer=Ada"),
    ("a JSON list", [1, 2]),
    ("no body at all", None),
    ("no customer", {"items": [{"sku": "book", "quantity": 1}]}),
    ("an empty customer", {"customer": " ", "items": [{"sku": "book", "quantity": 1}]}),
    ("no items", {"customer": "Ada"}),
    ("items: 'lots'", {"customer": "Ada", "items": "lots"}),
    ("an empty items list", {"customer": "Ada", "items": []}),
    ("quantity 0", {"customer": "Ada", "items": [{"sku": "book", "quantity": 0}]}),
    ("quantity '2' (a string)", {"customer": "Ada", "items": [{"sku": "book", "quantity": "2"}]}),
    ("an item without sku", {"customer": "Ada", "items": [{"quantity": 1}]}),
]


@EXERCISES.check(
    2,
    "POST an order: 201 or 400 with reasons",
    hint="Parse with json.loads inside try/except ValueError; check that the result is a dict, that customer is a "
    "non-empty string and items a non-empty list of {'sku': str, 'quantity': int from 1 to 100}. Collect the problems "
    "in a list: if any, return 400 with {'errors': problems} before writing anything. Otherwise put the item and "
    "return 201, the order as the body and headers={'location': f'/orders/{order_id}'}.",
    solution="validate → 400 {'errors': [...]}; else put_item and 201 with the order and a location header.",
)
def check_create_order(ns, cloud):
    table = orders_table(cloud)
    fn = cloud.function("CreateOrder", ns.create_order)
    api = cloud.http_api({"POST /orders": fn}, name="lab01-create")
    good = api.request("POST", "/orders", json={"customer": "Ada", "items": [{"sku": "book", "quantity": 2}]})
    expect(cloud, "CreateOrder", good, 201, "POST a good order")
    order = json_body(good, "POST a good order")
    order_id = order.get("order_id") if isinstance(order, dict) else None
    assert isinstance(order_id, str) and order_id, f"the 201's body should hold the new order_id, got {order!r}"
    location = good.headers.get("location")
    assert location == f"/orders/{order_id}", f"the 201 should carry header location: /orders/{order_id}, got {location!r}"
    stored = table.get_item(Key={"order_id": order_id}).get("Item")
    assert stored, f"the order {order_id} is not in the table 'Orders'"
    assert stored.get("customer") == "Ada" and stored.get("items") == [{"sku": "book", "quantity": 2}], (
        f"the stored order should hold customer 'Ada' and items [{{'sku': 'book', 'quantity': 2}}], got {stored!r}"
    )
    for label, body in BAD_REQUESTS:
        if body is None:
            response = api.request("POST", "/orders")
        elif isinstance(body, str):
            response = api.request("POST", "/orders", body=body)
        else:
            response = api.request("POST", "/orders", json=body)
        expect(cloud, "CreateOrder", response, 400, f"POST {label}")
        errors = json_body(response, f"POST {label}")
        assert isinstance(errors, dict) and isinstance(errors.get("errors"), list) and errors["errors"], (
            f"POST {label}: a 400 should list the problems as {{'errors': [...]}}, got {errors!r}"
        )
    count = table.scan()["Count"]
    assert count == 1, f"only the good order may be stored; the table holds {count} items"


CREATE_START = ("# Exercise 2\nimport boto3, json, uuid\ndef create_order(event, context):\n"
                "    data = json.loads(event['body'])\n")
EXERCISES.known_wrong(
    2,
    CREATE_START + "    order = {'order_id': str(uuid.uuid4()), 'customer': data['customer'], 'items': data['items']}\n"
    "    boto3.resource('dynamodb').Table('Orders').put_item(Item=order)\n"
    "    return {'statusCode': 201, 'headers': {'location': '/orders/' + order['order_id']}, 'body': json.dumps(order)}\n",
    reason="POST a body that is not JSON answered 500, expected 400",
)
EXERCISES.known_wrong(
    2,
    CREATE_START + "    order = {'order_id': str(uuid.uuid4()), 'customer': data['customer'], 'items': data['items']}\n"
    "    boto3.resource('dynamodb').Table('Orders').put_item(Item=order)\n"
    "    return {'statusCode': 200, 'body': json.dumps(order)}\n",
    reason="POST a good order answered 200, expected 201",
)
EXERCISES.known_wrong(
    2,
    CREATE_START + "    order = {'order_id': str(uuid.uuid4()), 'customer': data['customer'], 'items': data['items']}\n"
    "    boto3.resource('dynamodb').Table('Orders').put_item(Item=order)\n"
    "    return {'statusCode': 201, 'body': json.dumps(order)}\n",
    reason="the 201 should carry header location",
)


# -- exercise 3 ----------------------------------------------------------------------------------
ORDER_IDS = [f"o-{i:02d}" for i in range(23)]


@EXERCISES.check(
    3,
    "GET /orders, one page at a time",
    hint="Read limit and next from event.get('queryStringParameters') or {}. Scan with Limit=limit and, when a "
    "token came, ExclusiveStartKey=json.loads(base64.urlsafe_b64decode(token)). Return LastEvaluatedKey (if any) "
    "as next=base64.urlsafe_b64encode(json.dumps(key).encode()).decode(), else None. A limit that is not a whole "
    "number from 1 to 100, or a token that does not decode to a dict, is the client's mistake: 400.",
    solution="validate limit and next (400), Scan(Limit, ExclusiveStartKey), encode LastEvaluatedKey as an "
    "opaque string token.",
)
def check_list_orders(ns, cloud):
    table = orders_table(cloud)
    with table.batch_writer() as batch:
        for order_id in ORDER_IDS:
            batch.put_item(Item={"order_id": order_id, "customer": "Ada", "status": "placed"})
    fn = cloud.function("ListOrders", ns.list_orders)
    api = cloud.http_api({"GET /orders": fn}, name="lab01-list")

    first = api.request("GET", "/orders")
    expect(cloud, "ListOrders", first, 200, "GET /orders")
    page = json_body(first, "GET /orders")
    assert isinstance(page, dict) and isinstance(page.get("orders"), list) and "next" in page, (
        f"GET /orders should answer {{'orders': [...], 'next': ...}}, got {str(page)[:120]}"
    )
    assert len(page["orders"]) == 10, f"without ?limit= a page holds 10 orders, got {len(page['orders'])}"
    assert isinstance(page["next"], str) and page["next"], (
        f"with 23 orders the first page needs a next token (a string a client can put in a URL), got {page['next']!r}"
    )

    seen: list[str] = []
    token = None
    for _ in range(8):
        query = {"limit": 7, **({"next": token} if token else {})}
        response = api.request("GET", "/orders", query=query)
        expect(cloud, "ListOrders", response, 200, f"GET /orders?limit=7{'&next=…' if token else ''}")
        page = json_body(response, "GET /orders?limit=7")
        orders = page.get("orders") if isinstance(page, dict) else None
        assert isinstance(orders, list), f"each page should hold a list 'orders', got {str(page)[:120]}"
        assert len(orders) <= 7, f"?limit=7 returned {len(orders)} orders"
        seen.extend(str(o.get("order_id")) for o in orders if isinstance(o, dict))
        token = page.get("next")
        assert token is None or isinstance(token, str), (
            f"next must be a string token (or null on the last page), got {type(token).__name__}: {str(token)[:60]}"
        )
        if token is None:
            break
    else:
        raise AssertionError(f"following next with limit=7 did not end after 8 pages (23 orders): "
                             f"{len(seen)} orders seen, {len(set(seen))} different — are the pages repeated?")
    assert len(seen) == len(set(seen)), f"the pages repeated orders: {len(seen)} seen, {len(set(seen))} different"
    assert sorted(seen) == ORDER_IDS, f"walking the pages should give all 23 orders once, got {len(set(seen))}"

    for label, query in (("limit=0", {"limit": 0}), ("limit=101", {"limit": 101}), ("limit=ten", {"limit": "ten"}),
                         ("next=garbage", {"next": "garbage"}),
                         ("next=<base64 of 'not json'>", {"next": base64.urlsafe_b64encode(b"not json").decode()})):
        expect(cloud, "ListOrders", api.request("GET", "/orders", query=query), 400, f"GET /orders?{label}")


LIST_START = ("# Exercise 3\nimport base64, boto3, json\ndef list_orders(event, context):\n"
              "    query = event.get('queryStringParameters') or {}\n"
              "    limit = int(query.get('limit', 10))\n")
LIST_END = ("    return {'statusCode': 200, 'body': json.dumps({'orders': page['Items'], 'next': NEXT})}\n")
ENCODED = "base64.urlsafe_b64encode(json.dumps(page['LastEvaluatedKey']).encode()).decode() if 'LastEvaluatedKey' in page else None"
EXERCISES.known_wrong(
    3,
    LIST_START + "    page = boto3.resource('dynamodb').Table('Orders').scan(Limit=limit)\n"
    + LIST_END.replace("NEXT", ENCODED),
    reason="did not end after 8 pages",
)
EXERCISES.known_wrong(
    3,
    LIST_START + "    kwargs = {'ExclusiveStartKey': json.loads(query['next'])} if 'next' in query else {}\n"
    "    page = boto3.resource('dynamodb').Table('Orders').scan(Limit=limit, **kwargs)\n"
    + LIST_END.replace("NEXT", "page.get('LastEvaluatedKey')"),
    reason="with 23 orders the first page needs a next token (a string a client can put in a URL), got {'order_id'",
)
EXERCISES.known_wrong(
    3,
    LIST_START + "    kwargs = {}\n    if 'next' in query:\n"
    "        kwargs['ExclusiveStartKey'] = json.loads(base64.urlsafe_b64decode(query['next']))\n"
    "    page = boto3.resource('dynamodb').Table('Orders').scan(Limit=limit, **kwargs)\n"
    + LIST_END.replace("NEXT", ENCODED),
    reason="GET /orders?limit=0 answered 500, expected 400",
)


# -- exercise 4 ----------------------------------------------------------------------------------
@EXERCISES.check(
    4,
    "add an endpoint: DELETE /orders/{id} cancels",
    hint="One conditional write does it atomically: table.update_item(Key=..., UpdateExpression='SET #s = :c', "
    "ConditionExpression='attribute_exists(order_id) AND #s = :p', ...). Catch "
    "table.meta.client.exceptions.ConditionalCheckFailedException and then tell 404 (no such order) from 409 "
    "(it exists, but is not 'placed'). In wire_up: create_table, cloud.function('CancelOrder', cancel_order), "
    "return cloud.http_api({'DELETE /orders/{id}': fn}).",
    solution="a conditional update_item (exists and placed) → 200; on ConditionalCheckFailed, 404 if the item is "
    "missing, else 409; wire_up creates the table, the function and the route.",
)
def check_cancel_order(ns, cloud):
    api = ns.wire_up(cloud)
    assert hasattr(api, "request"), f"wire_up should return the API from cloud.http_api(...), got {api!r}"
    tables = cloud.client("dynamodb").list_tables()["TableNames"]
    assert "Orders" in tables, f"wire_up should create a DynamoDB table named 'Orders' (tables: {tables})"
    table = cloud.resource("dynamodb").Table("Orders")
    table.put_item(Item={"order_id": "o-placed", "customer": "Ada", "status": "placed"})
    table.put_item(Item={"order_id": "o-shipped", "customer": "Grace", "status": "shipped"})

    def status_of(order_id):
        item = table.get_item(Key={"order_id": order_id}).get("Item")
        return item.get("status") if item else None

    cancelled = api.request("DELETE", "/orders/o-placed")
    if cancelled.status_code == 404 and not cloud.trace.invocations:
        raise AssertionError("DELETE /orders/o-placed reached no function: is the route 'DELETE /orders/{id}'?")
    function = cloud.trace.invocations[-1].function if cloud.trace.invocations else "CancelOrder"
    expect(cloud, function, cancelled, 200, "DELETE /orders/o-placed")
    body = json_body(cancelled, "DELETE /orders/o-placed")
    assert isinstance(body, dict) and body.get("status") == "cancelled", f"the 200 should return the cancelled order, got {body!r}"
    assert status_of("o-placed") == "cancelled", f"o-placed should now be 'cancelled' in the table, is {status_of('o-placed')!r}"
    expect(cloud, function, api.request("DELETE", "/orders/o-placed"), 409, "DELETE /orders/o-placed a second time")
    expect(cloud, function, api.request("DELETE", "/orders/o-shipped"), 409, "DELETE /orders/o-shipped")
    assert status_of("o-shipped") == "shipped", f"a shipped order must stay shipped, is {status_of('o-shipped')!r}"
    expect(cloud, function, api.request("DELETE", "/orders/o-missing"), 404, "DELETE /orders/o-missing")
    assert status_of("o-missing") is None, "cancelling a missing order created it: update_item writes an item unless a condition stops it"


WIRE_UP = """
def wire_up(cloud):
    CREATE_TABLE
    fn = cloud.function("CancelOrder", cancel_order)
    return cloud.http_api({"DELETE /orders/{id}": fn}, name="lab01-cancel")
"""
CREATE_TABLE = ("cloud.client('dynamodb').create_table(TableName='Orders', BillingMode='PAY_PER_REQUEST', "
                "KeySchema=[{'AttributeName': 'order_id', 'KeyType': 'HASH'}], "
                "AttributeDefinitions=[{'AttributeName': 'order_id', 'AttributeType': 'S'}])")
CANCEL_START = ("# Exercise 4\nimport boto3, json\ndef cancel_order(event, context):\n"
                "    table = boto3.resource('dynamodb').Table('Orders')\n"
                "    key = {'order_id': event['pathParameters']['id']}\n")
CANCELLED = ("    return {'statusCode': 200, 'body': json.dumps(table.get_item(Key=key)['Item'])}\n")
EXERCISES.known_wrong(
    4,
    CANCEL_START + "    table.update_item(Key=key, UpdateExpression='SET #s = :c', ExpressionAttributeNames={'#s': 'status'},\n"
    "                      ExpressionAttributeValues={':c': 'cancelled'})\n" + CANCELLED
    + WIRE_UP.replace("CREATE_TABLE", CREATE_TABLE),
    reason="DELETE /orders/o-placed a second time answered 200, expected 409",
)
EXERCISES.known_wrong(
    4,
    CANCEL_START + "    try:\n"
    "        table.update_item(Key=key, UpdateExpression='SET #s = :c', ConditionExpression='#s = :p',\n"
    "                          ExpressionAttributeNames={'#s': 'status'},\n"
    "                          ExpressionAttributeValues={':c': 'cancelled', ':p': 'placed'})\n"
    "    except table.meta.client.exceptions.ConditionalCheckFailedException:\n"
    "        return {'statusCode': 409, 'body': json.dumps({'message': 'cannot cancel'})}\n" + CANCELLED
    + WIRE_UP.replace("CREATE_TABLE", CREATE_TABLE),
    reason="DELETE /orders/o-missing answered 409, expected 404",
)
EXERCISES.known_wrong(
    4,
    CANCEL_START + "    return {'statusCode': 200, 'body': '{}'}\n" + WIRE_UP.replace("CREATE_TABLE", "pass"),
    reason="wire_up should create a DynamoDB table named 'Orders'",
)
