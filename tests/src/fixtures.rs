//! The café's resources created in an emulator as they are deployed (the `orders` table, queues,
//! a topic with a subscribed queue), and what they hold read back (a table's items, a queue's
//! messages).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};

use crate::template::orders_table_key;

/// The `orders` table as deployed: the template's key, on demand, NEW_IMAGE stream. Returns the
/// stream's ARN.
pub async fn create_orders_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let key = orders_table_key();
    let output = dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(&key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the orders table");
    output
        .table_description()
        .and_then(|table| table.latest_stream_arn())
        .expect("the table has a stream")
        .to_owned()
}

/// Every item of a table, as plain JSON, page after page.
pub async fn scan_json(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = dynamodb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(
            output
                .items()
                .iter()
                .map(|item| serde_dynamo::from_item(item.clone()).expect("plain JSON")),
        );
        start = output.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

/// A topic with an SQS queue subscribed to it (envelope delivery, as an SQS subscriber gets it).
/// Returns (topic ARN, queue URL).
pub async fn topic_with_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
) -> (String, String) {
    let topic_arn = sns
        .create_topic()
        .name(topic)
        .send()
        .await
        .expect("create topic");
    let topic_arn = topic_arn.topic_arn().expect("topic ARN").to_owned();
    let queue_url = create_queue(sqs, &format!("{topic}-subscriber")).await;
    let queue_arn = queue_arn(sqs, &queue_url).await;
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribe the queue");
    (topic_arn, queue_url)
}

pub async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    let output = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue");
    output.queue_url().expect("queue URL").to_owned()
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> String {
    let output = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    output
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("queue ARN")
        .clone()
}

/// Receives (and deletes) everything currently on a queue.
pub async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive");
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return all;
        }
        for message in &messages {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
        all.extend(messages);
    }
}
