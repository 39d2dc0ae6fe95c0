//! A stand-in for the AWS services the functions write to, for their warm latency: it answers
//! each call with success after a fixed service time, serving all requests at once as the real
//! services do. moto serves one request at a time at its own speed, which decides the comparison
//! it is used in; against this store, what is measured is the functions' own time.
//!
//! It answers DynamoDB `PutItem` (the writer), SNS `PublishBatch` and `Publish` (the notifier and
//! the mailer), and S3 `PutObject` and `HeadObject` (the renderer and the mailer); anything else
//! is an error that shows in the scenario's errors.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

const DYNAMODB_JSON: [(header::HeaderName, &str); 1] =
    [(header::CONTENT_TYPE, "application/x-amz-json-1.0")];
const XML: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "text/xml")];
const SNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// Starts the store on a free loopback port; returns its endpoint URL.
pub async fn start(service_time: Duration) -> std::io::Result<String> {
    let app = Router::new().fallback(
        move |method: Method, headers: HeaderMap, body: Bytes| async move {
            tokio::time::sleep(service_time).await;
            answer(&method, &headers, &body)
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}"))
}

/// The success the service would answer `method` with, or an error naming what is not served.
fn answer(method: &Method, headers: &HeaderMap, body: &[u8]) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default();
    let form = String::from_utf8_lossy(body);
    let action = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or_default();
    match (method.as_str(), target, action) {
        ("POST", "DynamoDB_20120810.PutItem", _) => (DYNAMODB_JSON, "{}").into_response(),
        ("POST", "", "Publish") => (
            XML,
            format!(
                r#"<PublishResponse xmlns="{SNS}"><PublishResult><MessageId>{}</MessageId></PublishResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></PublishResponse>"#,
                uuid::Uuid::new_v4()
            ),
        )
            .into_response(),
        ("POST", "", "PublishBatch") => {
            let successful: String = batch_ids(&form)
                .map(|id| {
                    format!(
                        "<member><Id>{id}</Id><MessageId>{}</MessageId></member>",
                        uuid::Uuid::new_v4()
                    )
                })
                .collect();
            (
                XML,
                format!(
                    r#"<PublishBatchResponse xmlns="{SNS}"><PublishBatchResult><Successful>{successful}</Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></PublishBatchResponse>"#
                ),
            )
                .into_response()
        }
        ("PUT", _, _) => ([(header::ETAG, "\"bench\"")], "").into_response(),
        ("HEAD", _, _) => (
            [
                (header::ETAG, "\"bench\""),
                (header::CONTENT_TYPE, "text/html"),
                (header::LAST_MODIFIED, "Sat, 05 Dec 2026 00:00:00 GMT"),
            ],
            "",
        )
            .into_response(),
        _ => {
            let error = serde_json::json!({
                "__type": "com.amazon.coral.validate#ValidationException",
                "message": format!("the bench store does not serve {method} {target:?} {action:?}"),
            });
            (StatusCode::BAD_REQUEST, DYNAMODB_JSON, error.to_string()).into_response()
        }
    }
}

/// The entries' ids of a `PublishBatch` form (`PublishBatchRequestEntries.member.N.Id=…`).
fn batch_ids(form: &str) -> impl Iterator<Item = &str> {
    form.split('&').filter_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.starts_with("PublishBatchRequestEntries.member.") && key.ends_with(".Id"))
            .then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_batch_is_answered_with_every_entry_successful() {
        let form = "Action=PublishBatch&PublishBatchRequestEntries.member.1.Id=0\
                    &PublishBatchRequestEntries.member.1.Message=a\
                    &PublishBatchRequestEntries.member.2.Id=1&TopicArn=t";
        assert_eq!(batch_ids(form).collect::<Vec<_>>(), ["0", "1"]);
    }

    #[test]
    fn what_the_store_does_not_serve_is_an_error() {
        let response = answer(&Method::GET, &HeaderMap::new(), b"");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", "DynamoDB_20120810.GetItem".parse().unwrap());
        assert_eq!(
            answer(&Method::POST, &headers, b"{}").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
