//! A stand-in for DynamoDB's concurrency, for the writer's batch scenarios: it answers every
//! `PutItem` with success after a fixed service time, serving all requests at once as DynamoDB
//! does. moto serves one request at a time, which hides what a client's concurrency buys.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;

const JSON: [(header::HeaderName, &str); 1] =
    [(header::CONTENT_TYPE, "application/x-amz-json-1.0")];

/// Starts the store on a free loopback port; returns its endpoint URL.
pub async fn start(service_time: Duration) -> std::io::Result<String> {
    let app = Router::new().fallback(move |headers: HeaderMap| async move {
        let target = headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default();
        if target != "DynamoDB_20120810.PutItem" {
            // Anything else would be answered wrongly: make it show as the scenario's error.
            let error = serde_json::json!({
                "__type": "com.amazon.coral.validate#ValidationException",
                "message": format!("the bench store only serves PutItem, not {target:?}"),
            });
            return (StatusCode::BAD_REQUEST, JSON, error.to_string()).into_response();
        }
        tokio::time::sleep(service_time).await;
        (JSON, "{}").into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}"))
}
