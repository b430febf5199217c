"""Checks for lab 04 — microservices (``solutions/04-microservices.ipynb``)."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from localcloud.grading import Exercises, handler_errors

EXERCISES = Exercises("04-microservices")
SERVICE = Path(__file__).resolve().parents[2] / "notebooks" / "services" / "ecommerce"
TABLES = {"orders": "order_id", "payments": "payment_id", "notifications": "message_id"}


def deploy(cloud):
    dynamodb = cloud.client("dynamodb")
    for name, key in TABLES.items():
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}])
    return cloud.deploy(SERVICE / "serverless.yml")


def place(deployment, order_id: str, price, quantity: int = 1, customer: str = "ada@example.com") -> None:
    response = deployment.api.request("POST", "/orders", json={
        "order_id": order_id, "customer": customer, "items": [{"sku": "book", "quantity": quantity, "price": price}]})
    assert response.status_code == 201, f"POST /orders answered {response.status_code}: {response.text}"




def scan(cloud, table: str) -> list[dict]:
    return cloud.resource("dynamodb").Table(table).scan()["Items"]


def give_up_after_two_receives(cloud, queue_url: str) -> None:
    """A redrive policy on the queue, so a message sendNotification cannot read leaves it (for a DLQ)
    instead of coming back for ever — the check must end even when the student's message is wrong."""
    sqs = cloud.client("sqs")
    dlq = sqs.create_queue(QueueName="payment-completed-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})})


# -- exercise 1 ----------------------------------------------------------------------------------
@EXERCISES.check(
    1,
    "the payments handler",
    hint="For each record: order = json.loads(record['Sns']['Message']); put_item into Table('payments') with "
    "payment_id, order_id, amount=Decimal(str(order['total'])), status='CAPTURED'; then sqs.send_message("
    "QueueUrl=sqs.get_queue_url(QueueName='payment-completed')['QueueUrl'], MessageBody=json.dumps({...})).",
    solution="charge → put the payment item → send the PaymentCompleted JSON (type, order_id, payment_id, customer, "
    "amount) to the payment-completed queue.",
)
def check_process_payment(ns, cloud):
    deployment = deploy(cloud)
    name = deployment.functions["processPayment"].name
    cloud.function(name, ns.process_payment, timeout=6, memory=1024)
    give_up_after_two_receives(cloud, deployment.queues["payment-completed"])
    place(deployment, "o-1", 12.5, 3)
    place(deployment, "o-2", 100, 2, customer="grace@example.com")
    cloud.wait()
    errors = handler_errors(cloud, name)
    assert not errors, f"processPayment failed: {errors[0]}"
    payments = {item.get("order_id"): item for item in scan(cloud, "payments")}
    assert sorted(payments) == ["o-1", "o-2"], (
        f"the payments table should hold one payment per order (o-1, o-2), found orders {sorted(map(str, payments))}")
    for order_id, total in (("o-1", Decimal("37.5")), ("o-2", Decimal("200"))):
        item = payments[order_id]
        assert item.get("status") == "CAPTURED", f"payment of {order_id}: status should be 'CAPTURED', got {item.get('status')!r}"
        assert item.get("amount") == total, f"payment of {order_id}: amount should be {total}, got {item.get('amount')!r}"
    note_errors = handler_errors(cloud, "ecommerce-dev-sendNotification")
    assert not note_errors, (
        f"sendNotification could not read your PaymentCompleted message: {note_errors[0]} "
        "(the contract: type, order_id, payment_id, customer, amount)")
    notified = sorted(item.get("order_id") for item in scan(cloud, "notifications"))
    assert notified == ["o-1", "o-2"], (
        f"sendNotification should have emailed about o-1 and o-2, it did for {notified} — "
        "did you send PaymentCompleted to the queue 'payment-completed'?")


HEADER1 = "# Exercise 1\nimport json\nfrom decimal import Decimal\nimport boto3\n"
EXERCISES.known_wrong(
    1,
    HEADER1 + "def process_payment(event, context):\n"
    "    table = boto3.resource('dynamodb').Table('payments')\n"
    "    for record in event['Records']:\n"
    "        order = json.loads(record['Sns']['Message'])\n"
    "        table.put_item(Item={'payment_id': 'pay-' + order['order_id'], 'order_id': order['order_id'],\n"
    "                             'amount': Decimal(str(order['total'])), 'status': 'CAPTURED'})\n",
    reason="did you send PaymentCompleted to the queue 'payment-completed'?",
)
EXERCISES.known_wrong(
    1,
    HEADER1 + "def process_payment(event, context):\n"
    "    for record in event['Records']:\n"
    "        order = json.loads(record['body'])\n",
    reason="processPayment failed: KeyError",
)
EXERCISES.known_wrong(
    1,
    HEADER1 + "def process_payment(event, context):\n"
    "    table = boto3.resource('dynamodb').Table('payments')\n"
    "    for record in event['Records']:\n"
    "        order = json.loads(record['Sns']['Message'])\n"
    "        table.put_item(Item={'payment_id': 'pay-' + order['order_id'], 'order_id': order['order_id'],\n"
    "                             'amount': order['total'], 'status': 'CAPTURED'})\n",
    reason="processPayment failed: TypeError",
)
EXERCISES.known_wrong(
    1,
    HEADER1 + "def process_payment(event, context):\n"
    "    table = boto3.resource('dynamodb').Table('payments')\n"
    "    sqs = boto3.client('sqs')\n"
    "    url = sqs.get_queue_url(QueueName='payment-completed')['QueueUrl']\n"
    "    for record in event['Records']:\n"
    "        order = json.loads(record['Sns']['Message'])\n"
    "        table.put_item(Item={'payment_id': 'pay-' + order['order_id'], 'order_id': order['order_id'],\n"
    "                             'amount': Decimal(str(order['total'])), 'status': 'CAPTURED'})\n"
    "        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({'order': order['order_id']}))\n",
    reason="sendNotification could not read your PaymentCompleted message",
)


# -- exercise 2 ----------------------------------------------------------------------------------
@EXERCISES.check(
    2,
    "a subscriber with a filter policy",
    hint="sns.subscribe(TopicArn=topic_arn, Protocol='lambda', Endpoint=fn.arn, Attributes={'FilterPolicy': "
    "json.dumps({'total': [{'numeric': ['>=', 500]}]})}) — createOrder sends 'total' as a Number attribute.",
    solution="a numeric filter policy on the message attribute 'total': {'total': [{'numeric': ['>=', 500]}]}.",
)
def check_fraud_review(ns, cloud):
    deployment = deploy(cloud)
    subscription = ns.add_fraud_review(cloud, deployment.topics["order-created"])
    assert isinstance(subscription, str) and subscription.startswith("arn:aws:sns:"), (
        f"add_fraud_review should return the subscription ARN, got {subscription!r}")
    tables = cloud.client("dynamodb").list_tables()["TableNames"]
    assert "fraud-reviews" in tables, f"add_fraud_review should create the table 'fraud-reviews' (tables: {tables})"
    for order_id, price, quantity in (("o-small", 10, 1), ("o-almost", 499.99, 1), ("o-500", 500, 1),
                                      ("o-big", 600, 2)):
        place(deployment, order_id, price, quantity)
    cloud.wait()
    errors = handler_errors(cloud, "fraud-review")
    assert not errors, f"the function 'fraud-review' failed: {errors[0]}"
    reviewed = sorted(str(item.get("order_id")) for item in scan(cloud, "fraud-reviews"))
    assert reviewed == ["o-500", "o-big"], (
        "of orders totalling 10, 499.99, 500 and 1200, fraud-reviews should hold o-500 and o-big, "
        f"found {reviewed}")
    invoked = len(cloud.trace.invocations.filter(function="fraud-review"))
    assert invoked == 2, (
        f"fraud-review was invoked {invoked} times for 4 orders, only 2 of them of 500 or more: give the "
        "subscription a FilterPolicy so that SNS does not invoke (and bill) it for the small ones")


REVIEW = """# Exercise 2
import json
from decimal import Decimal
import boto3
def review_order(event, context):
    table = boto3.resource("dynamodb").Table("fraud-reviews")
    for record in event["Records"]:
        order = json.loads(record["Sns"]["Message"])
        CONDITION
        table.put_item(Item={"order_id": order["order_id"], "total": Decimal(str(order["total"]))})
def add_fraud_review(cloud, topic_arn):
    cloud.client("dynamodb").create_table(
        TableName="fraud-reviews", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}])
    fn = cloud.function("fraud-review", review_order)
    return cloud.client("sns").subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=fn.arn,
                                         Attributes=ATTRIBUTES)["SubscriptionArn"]
"""
EXERCISES.known_wrong(
    2,
    REVIEW.replace("CONDITION", 'if order["total"] < 500: continue').replace("ATTRIBUTES", "{}"),
    reason="give the subscription a FilterPolicy",
)
EXERCISES.known_wrong(
    2,
    REVIEW.replace("CONDITION", "pass").replace("ATTRIBUTES", '{"FilterPolicy": json.dumps({"total": [500]})}'),
    reason="fraud-reviews should hold o-500 and o-big",
)
EXERCISES.known_wrong(
    2,
    REVIEW.replace("CONDITION", "pass").replace(
        "ATTRIBUTES", '{"FilterPolicy": json.dumps({"total": [{"numeric": [">", 500]}]})}'),
    reason="found ['o-big']",
)


# -- exercise 3 ----------------------------------------------------------------------------------
@EXERCISES.check(
    3,
    "a new microservice with its own serverless.yml",
    hint="In serverless.yml: `- sns: {arn: 'arn:aws:sns:${aws:region}:${aws:accountId}:order-created'}`, "
    "resources.Resources.PointsTable of Type AWS::DynamoDB::Table (TableName loyalty-points, hash key customer, "
    "PAY_PER_REQUEST), and provider.environment.POINTS_TABLE: !Ref PointsTable. Points: int(total // 10).",
    solution="a service 'loyalty' whose awardPoints subscribes by ARN and ADDs int(total // 10) points per order "
    "to its own CloudFormation table.",
)
def check_loyalty_service(ns, cloud):
    ecommerce = deploy(cloud)
    folder = Path(tempfile.mkdtemp()) / "loyalty"
    ns.write_loyalty_service(folder)
    for name in ("serverless.yml", "loyalty.py"):
        assert (folder / name).is_file(), f"write_loyalty_service should write {name} into the folder it is given"
    try:
        loyalty = cloud.deploy(folder / "serverless.yml")
    except Exception as error:  # noqa: BLE001 — whatever the deployer says is the student's reason
        raise AssertionError(f"cloud.deploy refused your serverless.yml: {error}") from None
    assert loyalty.service == "loyalty", f"the service should be called 'loyalty', not {loyalty.service!r}"
    assert "awardPoints" in loyalty.functions, f"the service needs a function 'awardPoints' (has {sorted(loyalty.functions)})"
    assert not loyalty.topics, (
        f"the loyalty service declares the topic(s) {sorted(loyalty.topics)} itself: subscribe to the orders "
        "service's topic by ARN — arn:aws:sns:${aws:region}:${aws:accountId}:order-created")
    assert "loyalty-points" in loyalty.resources.values(), (
        "declare the table loyalty-points in the service's resources.Resources (AWS::DynamoDB::Table), "
        f"found resources {loyalty.resources}")
    function = loyalty.functions["awardPoints"].name
    endpoints = [s["Endpoint"] for s in cloud.client("sns").list_subscriptions_by_topic(
        TopicArn=ecommerce.topics["order-created"])["Subscriptions"]]
    assert any(e.endswith(f":{function}") for e in endpoints), (
        f"awardPoints is not subscribed to the topic order-created (its subscribers: {endpoints})")
    place(ecommerce, "o-1", 12.5, 2)  # 25: 2 points
    place(ecommerce, "o-2", 130)  # 130: 13 points
    place(ecommerce, "o-3", 9.99, customer="grace@example.com")  # 0 points
    cloud.wait()
    errors = handler_errors(cloud, function)
    assert not errors, f"awardPoints failed: {errors[0]}"
    points = {str(item.get("customer")): item.get("points", 0) for item in scan(cloud, "loyalty-points")}
    assert points.get("ada@example.com") == 15, (
        f"ada ordered 25 and 130, so she should have 2 + 13 = 15 points, got {points.get('ada@example.com')!r}")
    assert points.get("grace@example.com", 0) == 0, (
        f"grace ordered 9.99, so she should have 0 points, got {points.get('grace@example.com')!r}")
    notified = len(scan(cloud, "notifications"))
    assert notified == 3, f"the ecommerce chain should still email about all 3 orders, it did for {notified}"


LOYALTY = '''# Exercise 3
from pathlib import Path
from textwrap import dedent
def write_loyalty_service(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "loyalty.py").write_text(dedent("""
        import json, os
        from decimal import Decimal
        import boto3
        table = boto3.resource("dynamodb").Table(os.environ["POINTS_TABLE"])
        def award(event, context):
            for record in event["Records"]:
                order = json.loads(record["Sns"]["Message"])
                points = <POINTS>
                table.update_item(Key={"customer": order["customer"]}, UpdateExpression="ADD points :p",
                                  ExpressionAttributeValues={":p": points})
        """))
    (folder / "serverless.yml").write_text(dedent("""
        service: loyalty
        provider:
          name: aws
          environment:
            POINTS_TABLE: loyalty-points
        functions:
          awardPoints:
            handler: loyalty.award
            events:
              - sns: <TOPIC>
        <RESOURCES>
        """))
'''
TABLE = """resources:
          Resources:
            PointsTable:
              Type: AWS::DynamoDB::Table
              Properties:
                TableName: loyalty-points
                AttributeDefinitions: [{AttributeName: customer, AttributeType: S}]
                KeySchema: [{AttributeName: customer, KeyType: HASH}]
                BillingMode: PAY_PER_REQUEST"""
BY_ARN = "{arn: 'arn:aws:sns:${aws:region}:${aws:accountId}:order-created'}"
GOOD_POINTS = 'int(Decimal(str(order["total"])) // 10)'


def loyalty(points: str = GOOD_POINTS, topic: str = BY_ARN, resources: str = TABLE) -> str:
    return LOYALTY.replace("<POINTS>", points).replace("<TOPIC>", topic).replace("<RESOURCES>", resources)


EXERCISES.known_wrong(3, loyalty(topic="order-created"), reason="subscribe to the orders service's topic by ARN")
EXERCISES.known_wrong(3, loyalty(points='int(Decimal(str(order["total"])))'),
                      reason="she should have 2 + 13 = 15 points, got Decimal('155')")
EXERCISES.known_wrong(3, loyalty(resources=""), reason="declare the table loyalty-points")
