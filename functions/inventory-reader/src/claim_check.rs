//! The claim check: an inventory whose JSON is larger than [`CLAIM_CHECK_BYTES`] does not fit a
//! Step Functions payload, so it is stored in S3 as `inventory/<execution>.json` and only its
//! location travels on; a smaller one travels inline.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use cafe_shared::error::aws_error_text;
use cafe_shared::inventory::{CLAIM_CHECK_BYTES, Inventory, InventoryPayload, S3Location};

use crate::ReadError;

/// The inventory inline, or stored in `bucket` with `s3` as `inventory/<execution>.json`
/// (encrypted, `application/json`) when its JSON is larger than [`CLAIM_CHECK_BYTES`]. A refused
/// upload is `InventoryStoreFailed`.
pub async fn payload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    execution: &str,
    inventory: Inventory,
) -> Result<InventoryPayload, ReadError> {
    let json = serde_json::to_vec(&inventory).expect("an inventory always serialises");
    if json.len() <= CLAIM_CHECK_BYTES {
        return Ok(InventoryPayload::Inline(inventory));
    }
    let location = S3Location {
        bucket: bucket.to_owned(),
        key: key(execution),
    };
    s3.put_object()
        .bucket(&location.bucket)
        .key(&location.key)
        .content_type("application/json")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(ByteStream::from(json))
        .send()
        .await
        .map_err(|e| ReadError::InventoryStoreFailed(aws_error_text(&e)))?;
    Ok(InventoryPayload::Stored(location))
}

/// Where the claim-checked inventory of one execution is stored.
fn key(execution: &str) -> String {
    format!("inventory/{execution}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::put_object::PutObjectOutput;
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use cafe_shared::inventory::{Bean, Supplier};
    use chrono::Utc;
    use rust_decimal::Decimal;

    fn s3(rules: &[&Rule]) -> aws_sdk_s3::Client {
        mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules)
    }

    /// An inventory whose JSON is about `bytes` long.
    fn inventory_of(bytes: usize) -> Inventory {
        let bean = |id| Bean {
            id,
            kind: "Arabica".into(),
            product_name: "x".repeat(100),
            price: Some(Decimal::new(950, 2)),
            description: String::new(),
            quantity: 1,
        };
        let per_bean = serde_json::to_vec(&bean(100_000)).unwrap().len() + 1;
        let supplier = Supplier {
            id: 1,
            name: "s".into(),
            address: String::new(),
            city: String::new(),
            state: String::new(),
            email: String::new(),
            phone: String::new(),
            beans: (0..(bytes / per_bean) as i64).map(bean).collect(),
        };
        Inventory::new(Utc::now(), vec![supplier])
    }

    #[tokio::test]
    async fn inventories_up_to_the_threshold_stay_inline() {
        let put = mock!(aws_sdk_s3::Client::put_object)
            .then_output(|| PutObjectOutput::builder().build());
        let inventory = inventory_of(CLAIM_CHECK_BYTES - 2_000);
        assert!(serde_json::to_vec(&inventory).unwrap().len() <= CLAIM_CHECK_BYTES);
        let payload = payload(&s3(&[&put]), "cafe-reports", "exec-1", inventory)
            .await
            .unwrap();
        assert!(matches!(payload, InventoryPayload::Inline(_)));
        assert_eq!(put.num_calls(), 0);
    }

    #[tokio::test]
    async fn larger_inventories_are_stored_encrypted_and_referenced() {
        let put = mock!(aws_sdk_s3::Client::put_object)
            .match_requests(|put| {
                put.bucket() == Some("cafe-reports")
                    && put.key() == Some("inventory/exec-1.json")
                    && put.content_type() == Some("application/json")
                    && put.server_side_encryption() == Some(&ServerSideEncryption::Aes256)
            })
            .then_output(|| PutObjectOutput::builder().build());
        let inventory = inventory_of(CLAIM_CHECK_BYTES + 10_000);
        assert!(serde_json::to_vec(&inventory).unwrap().len() > CLAIM_CHECK_BYTES);
        let payload = payload(&s3(&[&put]), "cafe-reports", "exec-1", inventory)
            .await
            .unwrap();
        let expected = S3Location {
            bucket: "cafe-reports".into(),
            key: "inventory/exec-1.json".into(),
        };
        assert_eq!(payload, InventoryPayload::Stored(expected));
        assert_eq!(put.num_calls(), 1);
    }
}
