#!/usr/bin/env python3
"""The café's AWS on this machine: moto in server mode on 127.0.0.1:4566 (MOTO_PORT), with the
resources both pipelines use created in it under the same names the deployed stack uses.

Run by `make emulator`; stops on Ctrl-C or SIGTERM. Nothing is kept between runs.
"""

import json
import logging
import os
import signal
import threading

import boto3
from moto.server import ThreadedMotoServer

HOST = "127.0.0.1"
PORT = int(os.environ.get("MOTO_PORT", "4566"))
REGION = os.environ.get("AWS_REGION") or "us-east-1"


def setting(name, default):
    return os.environ.get(name) or default


ORDERS_TABLE = setting("ORDERS_TABLE", "orders")
ORDERS_QUEUE = setting("ORDERS_QUEUE", "orders-queue")
ORDERS_DLQ = setting("ORDERS_DLQ", "orders-dlq")
ORDER_TOPIC = setting("ORDER_TOPIC", "OrderNotifications")
REPORT_TOPIC = setting("REPORT_TOPIC", "EmailReport")
REPORTS_BUCKET = setting("REPORTS_BUCKET", "cafe-reports")
# A message that fails this many receives is moved to the DLQ.
MAX_RECEIVE_COUNT = 3


def provision(endpoint):
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    sqs, dynamodb, sns, s3 = (
        session.client(service, endpoint_url=endpoint)
        for service in ("sqs", "dynamodb", "sns", "s3")
    )

    dlq_url = sqs.create_queue(QueueName=ORDERS_DLQ)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    sqs.create_queue(
        QueueName=ORDERS_QUEUE,
        Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
    )

    dynamodb.create_table(
        TableName=ORDERS_TABLE,
        AttributeDefinitions=[{"AttributeName": "orderID", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "orderID", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )

    topics = {name: sns.create_topic(Name=name)["TopicArn"] for name in (ORDER_TOPIC, REPORT_TOPIC)}
    s3.create_bucket(Bucket=REPORTS_BUCKET)
    return {
        "queue": ORDERS_QUEUE,
        "dlq": ORDERS_DLQ,
        "table": ORDERS_TABLE,
        "topics": topics,
        "bucket": REPORTS_BUCKET,
    }


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address=HOST, port=PORT, verbose=False)
    server.start()
    endpoint = f"http://{HOST}:{PORT}"
    resources = provision(endpoint)
    print(f"AWS emulator at {endpoint} with {json.dumps(resources)}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
