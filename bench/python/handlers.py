"""The seeds' handlers, for comparison only: written the way the original lab and exercise do it
(boto3 clients at import, a uuid4 put_item per record, the typed NewImage published as is,
SELECT * and a join in code, an HTML string, a presigned URL). Run by awslambdaric under the
benchmark's Runtime API host; never deployed.
"""

import html
import json
import os
import uuid
from datetime import UTC, datetime

import boto3
import pymysql

dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ.get("ORDERS_TABLE", "orders"))
sns = boto3.client("sns")
s3 = boto3.client("s3")


def order_writer(event, context):
    for record in event["Records"]:
        payload = record["body"]
        table.put_item(Item={"orderID": str(uuid.uuid4()), "order": payload})


def order_notifier(event, context):
    for record in event["Records"]:
        if record["eventName"] == "INSERT":
            new_record = record["dynamodb"]["NewImage"]
            sns.publish(
                TargetArn=os.environ["ORDER_TOPIC_ARN"],
                Message=json.dumps({"default": json.dumps(new_record)}),
                MessageStructure="json",
            )


def _connection():
    url = os.environ["DATABASE_URL"]  # mysql://user[:password]@host:port/database
    from urllib.parse import urlparse

    parts = urlparse(url)
    # Over TLS when the benchmark's cold scenario names its CA, as the Rust reader is there.
    ca_file = os.environ.get("DB_CA_FILE")
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                           password=parts.password or "", database=parts.path.lstrip("/"),
                           cursorclass=pymysql.cursors.DictCursor,
                           ssl={"ca": ca_file} if ca_file else None)


def inventory_reader(event, context):
    connection = _connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM suppliers")
            suppliers = cursor.fetchall()
            cursor.execute("SELECT * FROM beans")
            beans = cursor.fetchall()
    finally:
        connection.close()
    for supplier in suppliers:
        supplier["beans"] = [b for b in beans if b["supplier_id"] == supplier["id"]]
    return {"suppliers": suppliers}


def report_renderer(event, context):
    inventory = event["inventory"]["inline"]
    parts = ["<html><head><title>Bean quantity report</title></head><body><h1>Bean quantity report</h1>",
             f"<p>{datetime.now(UTC).isoformat()}</p>"]
    for supplier in inventory["suppliers"]:
        parts.append(f"<h2>{html.escape(supplier['name'])}</h2><p>{html.escape(supplier['address'])}"
                     f" {html.escape(supplier['phone'])}</p>")
        for bean in supplier["beans"]:
            parts.append(f"<div class='card'><b>{html.escape(bean['type'])}</b> "
                         f"{html.escape(bean['productName'])} {bean['quantity']}</div>")
    parts.append("</body></html>")
    body = "".join(parts)
    s3.put_object(Bucket=os.environ["REPORTS_BUCKET"], Key=event["reportKey"], Body=body,
                  ContentType="text/html")
    return {"key": event["reportKey"], "bytes": len(body)}


def report_mailer(event, context):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": os.environ["REPORTS_BUCKET"],
                                                          "Key": event["reportKey"]}, ExpiresIn=120)
    sns.publish(TopicArn=os.environ["REPORT_TOPIC_ARN"], Subject="Your report", Message=url)
    return {"sent": True}
