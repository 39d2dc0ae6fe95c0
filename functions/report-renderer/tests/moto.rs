//! report-renderer against S3 on the emulator: the report is uploaded, then read back.

use aws_sdk_s3::types::ServerSideEncryption;
use cafe_shared::inventory::InventoryPayload;
use cafe_tests::{Moto, sample_event};
use lambda_runtime::{Context, LambdaEvent};
use report_renderer::{RenderRequest, ReportRenderer, ReportSettings, handle};

async fn renderer(emulator: &Moto) -> ReportRenderer {
    let s3 = emulator.s3();
    s3.create_bucket()
        .bucket("cafe-reports")
        .send()
        .await
        .unwrap();
    ReportRenderer::new(s3, "cafe-reports", ReportSettings::default())
}

#[tokio::test]
async fn the_uploaded_report_is_encrypted_html_with_every_supplier() {
    let emulator = Moto::start();
    let renderer = renderer(&emulator).await;
    let request: RenderRequest = sample_event("report-renderer/default.json");
    let InventoryPayload::Inline(inventory) = &request.inventory else {
        panic!("inline sample")
    };
    let suppliers: Vec<String> = inventory.suppliers.iter().map(|s| s.name.clone()).collect();
    let key = request.report_key.clone();

    let report = handle(&renderer, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    assert_eq!(report.key, key);

    let s3 = emulator.s3();
    let head = s3
        .head_object()
        .bucket("cafe-reports")
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    assert_eq!(head.content_length(), Some(report.bytes as i64));
    let object = s3
        .get_object()
        .bucket("cafe-reports")
        .key(&key)
        .send()
        .await
        .unwrap();
    let html = String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap();
    for name in suppliers {
        let escaped = name
            .replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;");
        assert!(html.contains(&escaped), "{name} is missing from the report");
    }
}

#[tokio::test]
async fn a_claim_checked_inventory_is_fetched_from_s3() {
    let emulator = Moto::start();
    let renderer = renderer(&emulator).await;
    let inline: RenderRequest = sample_event("report-renderer/default.json");
    let InventoryPayload::Inline(inventory) = inline.inventory else {
        panic!("inline sample")
    };
    emulator
        .s3()
        .put_object()
        .bucket("cafe-reports")
        .key("inventory/exec-2.json")
        .body(serde_json::to_vec(&inventory).unwrap().into())
        .send()
        .await
        .unwrap();

    let request: RenderRequest = serde_json::from_value(serde_json::json!({
        "reportKey": "reports/exec-2.html",
        "inventory": {"stored": {"bucket": "cafe-reports", "key": "inventory/exec-2.json"}}
    }))
    .unwrap();
    let report = handle(&renderer, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    assert_eq!(report.key, "reports/exec-2.html");
    assert!(report.bytes > 5_000);
}

#[tokio::test]
async fn a_missing_stored_inventory_is_named() {
    let emulator = Moto::start();
    let renderer = renderer(&emulator).await;
    let request: RenderRequest = serde_json::from_value(serde_json::json!({
        "reportKey": "reports/exec-3.html",
        "inventory": {"stored": {"bucket": "cafe-reports", "key": "inventory/gone.json"}}
    }))
    .unwrap();
    let error = handle(&renderer, LambdaEvent::new(request, Context::default()))
        .await
        .unwrap_err();
    assert_eq!(
        lambda_runtime::Diagnostic::from(error).error_type,
        "InventoryUnavailable"
    );
}
