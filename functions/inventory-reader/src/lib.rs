//! inventory-reader: reads every coffee supplier and its beans from the COFFEE database in one
//! ordered query and returns them as an inventory document; when that document is too large for
//! a Step Functions payload it is stored in S3 and only its location is returned ([`claim_check`]).
//!
//! Failures carry names the state machine matches: `DatabaseUnavailable` (retry later),
//! `DatabaseAccessDenied` and `InventoryQueryFailed` (retrying will not help),
//! `InventoryStoreFailed` (S3 refused the claim check; retry later).

pub mod claim_check;
pub mod connection;
pub mod database;

use std::time::Duration;

use cafe_shared::inventory::{Bean, Inventory, InventoryPayload, Supplier, within_limit};
use cafe_shared::metrics;
use chrono::Utc;
use lambda_runtime::LambdaEvent;
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Row};

use crate::database::Database;
use rust_decimal::Decimal;
use serde::Deserialize;
use tokio::time::timeout;
use tracing::{info, warn};

/// Suppliers with their beans, one row per bean (or one row with no bean for a supplier that has
/// none), ordered so each supplier's rows are consecutive.
pub const INVENTORY_QUERY: &str = "\
SELECT s.id, s.name, s.address, s.city, s.state, s.email, s.phone,
       b.id, b.type, b.product_name, b.price, b.description, b.quantity
  FROM suppliers s
  LEFT JOIN beans b ON b.supplier_id = s.id
 ORDER BY s.name, s.id, b.type, b.product_name, b.id";

pub struct InventoryReader {
    database: Database,
    s3: aws_sdk_s3::Client,
    bucket: String,
    connect_timeout: Duration,
    query_timeout: Duration,
}

/// The state machine passes its execution name, which names the claim-check object.
#[derive(Debug, Default, Deserialize)]
pub struct ReadRequest {
    #[serde(default)]
    pub execution: Option<String>,
}

cafe_shared::named_errors! {
    pub enum ReadError {
        DatabaseUnavailable retryable "the database is unavailable: {0}",
        DatabaseAccessDenied final "the database refused access: {0}",
        InventoryQueryFailed final "the inventory query failed: {0}",
        InventoryStoreFailed retryable "the inventory could not be stored in S3: {0}",
    }
}

/// MySQL server errors that mean the credentials or the database name are wrong.
const ACCESS_ERRORS: [u16; 4] = [1044, 1045, 1049, 1698];
/// MySQL server errors that pass: too many connections, shutdown, lock waits, deadlocks.
const TRANSIENT_ERRORS: [u16; 6] = [1040, 1053, 1205, 1213, 2006, 2013];

/// Sorts a driver error into the failure kinds the state machine tells apart.
pub fn classify(error: mysql_async::Error) -> ReadError {
    if let Some(failure) = tls_failure(&error) {
        return ReadError::DatabaseUnavailable(format!("TLS failed: {failure}"));
    }
    let message = error.to_string();
    match error {
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => {
            ReadError::DatabaseUnavailable(message)
        }
        mysql_async::Error::Server(e) if ACCESS_ERRORS.contains(&e.code) => {
            ReadError::DatabaseAccessDenied(message)
        }
        mysql_async::Error::Server(e) if TRANSIENT_ERRORS.contains(&e.code) => {
            ReadError::DatabaseUnavailable(message)
        }
        _ => ReadError::InventoryQueryFailed(message),
    }
}

/// What went wrong, when the connection failed in TLS. The driver reports a refused certificate
/// as a plain I/O error ("Input/output error: invalid peer certificate: UnknownIssuer"), which an
/// operator would not read as a trust problem; rustls's error inside it says what it is.
fn tls_failure(error: &mysql_async::Error) -> Option<String> {
    use mysql_async::{DriverError, Error, IoError};
    match error {
        Error::Io(IoError::Io(io)) => {
            let rustls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
            let hint = match rustls {
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    "; the certificate's CA is not trusted (trusted are the Amazon RDS CAs, the \
                     webpki roots and those in DB_CA_FILE)"
                }
                _ => "",
            };
            Some(format!("{rustls}{hint}"))
        }
        // A TLS setting the driver could not use, or a server that offers no TLS.
        Error::Io(IoError::Tls(_)) | Error::Driver(DriverError::NoClientSslFlagFromServer) => {
            Some(error.to_string())
        }
        _ => None,
    }
}

pub async fn handle(
    reader: &InventoryReader,
    event: LambdaEvent<ReadRequest>,
) -> Result<InventoryPayload, ReadError> {
    let execution = event.payload.execution.unwrap_or(event.context.request_id);
    let inventory = reader.read().await?;
    metrics::count(metrics::REPORT_SUPPLIERS, inventory.totals.suppliers as u64);
    metrics::count(metrics::REPORT_BEANS, inventory.totals.beans as u64);
    let payload = claim_check::payload(&reader.s3, &reader.bucket, &execution, inventory).await?;
    let form = match &payload {
        InventoryPayload::Inline(_) => "inline",
        InventoryPayload::Stored(_) => "stored in S3",
    };
    info!(execution, form, "inventory read");
    Ok(payload)
}

impl InventoryReader {
    /// A reader of the COFFEE `database` (or a pool of it), which stores inventories too large
    /// for a state payload in `bucket` with `s3`. Getting a connection may take `connect_timeout`,
    /// the inventory query `query_timeout`; past either the database counts as unavailable.
    pub fn new(
        database: impl Into<Database>,
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        connect_timeout: Duration,
        query_timeout: Duration,
    ) -> Self {
        Self {
            database: database.into(),
            s3,
            bucket: bucket.into(),
            connect_timeout,
            query_timeout,
        }
    }

    /// Every supplier with its beans, read in one query. A refused login is tried once more
    /// with the password the secret holds now, if it holds another (a rotation).
    pub async fn read(&self) -> Result<Inventory, ReadError> {
        let pool = self.database.pool().await;
        match self.read_from(&pool).await {
            Err(ReadError::DatabaseAccessDenied(refused)) => {
                match self.database.after_refusal().await {
                    Some(pool) => self.read_from(&pool).await,
                    None => Err(ReadError::DatabaseAccessDenied(refused)),
                }
            }
            read => read,
        }
    }

    async fn read_from(&self, pool: &Pool) -> Result<Inventory, ReadError> {
        let mut connection = timeout(self.connect_timeout, pool.get_conn())
            .await
            .map_err(|_| {
                ReadError::DatabaseUnavailable(format!(
                    "no connection within {:?}",
                    self.connect_timeout
                ))
            })?
            .map_err(classify)?;
        let rows: Vec<Row> = timeout(self.query_timeout, connection.query(INVENTORY_QUERY))
            .await
            .map_err(|_| {
                ReadError::DatabaseUnavailable(format!(
                    "the query took longer than {:?}",
                    self.query_timeout
                ))
            })?
            .map_err(classify)?;
        let suppliers = suppliers(rows)?;
        Ok(Inventory::new(Utc::now(), suppliers))
    }
}

/// Groups the query's rows (ordered by supplier) into suppliers with their beans. A value of a
/// type the reader cannot use (after a schema change, say) fails the query by name, saying which
/// supplier, bean and column hold it.
pub fn suppliers(rows: Vec<Row>) -> Result<Vec<Supplier>, ReadError> {
    let mut suppliers: Vec<Supplier> = Vec::new();
    for mut row in rows {
        let supplier_id: i64 = column(&mut row, 0).map_err(ReadError::InventoryQueryFailed)?;
        let place = format!("supplier {supplier_id}");
        if suppliers.last().is_none_or(|s| s.id != supplier_id) {
            let supplier = supplier(&mut row, supplier_id).map_err(|e| failed(&place, e))?;
            suppliers.push(supplier);
        }
        // A supplier without beans comes as one row whose bean columns are NULL.
        if let Some(bean_id) = column::<Option<i64>>(&mut row, 7).map_err(|e| failed(&place, e))? {
            let place = format!("{place}, bean {bean_id}");
            let bean = bean(&mut row, bean_id).map_err(|e| failed(&place, e))?;
            suppliers.last_mut().expect("pushed above").beans.push(bean);
        }
    }
    Ok(suppliers)
}

fn supplier(row: &mut Row, id: i64) -> Result<Supplier, String> {
    Ok(Supplier {
        id,
        name: text(row, 1)?,
        address: text(row, 2)?,
        city: text(row, 3)?,
        state: text(row, 4)?,
        email: text(row, 5)?,
        phone: text(row, 6)?,
        beans: Vec::new(),
    })
}

fn bean(row: &mut Row, id: i64) -> Result<Bean, String> {
    Ok(Bean {
        id,
        kind: text(row, 8)?,
        product_name: text(row, 9)?,
        price: price(id, column(row, 10)?),
        description: text(row, 11)?,
        quantity: column::<Option<i64>>(row, 12)?.unwrap_or(0),
    })
}

fn failed(place: &str, problem: String) -> ReadError {
    ReadError::InventoryQueryFailed(format!("{place}: {problem}"))
}

/// The price column is text ('18.00'). A price that is not a number, or one beyond
/// ±[`MAX_AMOUNT`](cafe_shared::inventory::MAX_AMOUNT) (more than the report can carry and
/// total), is logged and shown as unknown: one bad row must not stop every report.
pub fn price(bean_id: i64, text: Option<String>) -> Option<Decimal> {
    let text = text?;
    let number = text.trim().trim_start_matches('$');
    let problem = match number.parse::<Decimal>() {
        Ok(price) if within_limit(price).is_some() => return Some(price),
        Ok(_) => "price is over the largest amount the report carries (10^28)",
        // A Decimal holds 28 or 29 significant digits; an f64 reads far larger (and smaller)
        // numbers, which tells a number out of range from text that is not a number.
        Err(_) if number.parse::<f64>().is_ok_and(f64::is_finite) => {
            "price is a number out of the range a Decimal holds"
        }
        Err(_) => "price is not a number",
    };
    warn!(bean_id, price = text, "{problem}; shown as unknown");
    None
}

/// Column `index` as a `T`; if it holds something else, says what and where (`b.quantity`).
fn column<T: mysql_async::prelude::FromValue>(row: &mut Row, index: usize) -> Result<T, String> {
    row.take_opt(index)
        .unwrap_or_else(|| Err(mysql_async::FromValueError(mysql_async::Value::NULL)))
        .map_err(|e| {
            let name = row.columns_ref().get(index).map_or_else(
                || format!("column {index}"),
                |c| format!("{}.{}", c.table_str(), c.name_str()),
            );
            // As an SQL literal: the whole value (Debug cuts long bytes short) and NULL as NULL.
            format!("{name}: unexpected {}", e.0.as_sql(false))
        })
}

fn text(row: &mut Row, index: usize) -> Result<String, String> {
    Ok(column::<Option<String>>(row, index)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafe_shared::NamedError;
    use lambda_runtime::Diagnostic;

    #[test]
    fn prices_are_parsed_from_text() {
        assert_eq!(price(1, Some("18.00".into())), Some(Decimal::new(1800, 2)));
        assert_eq!(price(1, Some(" $7.5 ".into())), Some(Decimal::new(75, 1)));
        assert_eq!(price(1, Some("call us".into())), None);
        assert_eq!(price(1, None), None);
    }

    #[test]
    fn prices_out_of_range_are_unknown_never_a_panic() {
        let large = "99999999999999999999999999.99";
        assert_eq!(price(1, Some(large.into())), Some(large.parse().unwrap()));
        let limit = "10000000000000000000000000000";
        assert_eq!(price(1, Some(limit.into())), Some(limit.parse().unwrap()));
        let decimal_65_30 = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        for out_of_range in [
            "10000000000000000000000000001",
            // Decimal::MAX: a Decimal, but its JSON float would not come back as one.
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "-1e29",
            "1e40",
            &decimal_65_30,
        ] {
            assert_eq!(price(1, Some(out_of_range.into())), None, "{out_of_range}");
        }
    }

    #[test]
    fn tls_failures_say_tls_and_what_was_refused() {
        use mysql_async::{DriverError, IoError};
        let io = |inner: std::io::Error| classify(mysql_async::Error::Io(IoError::Io(inner)));
        let untrusted = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let error = io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            untrusted,
        ));
        assert!(matches!(error, ReadError::DatabaseUnavailable(_)));
        let message = error.to_string();
        assert!(
            message.contains("TLS failed: invalid peer certificate"),
            "{message}"
        );
        assert!(message.contains("DB_CA_FILE"), "{message}");

        let no_tls = classify(DriverError::NoClientSslFlagFromServer.into());
        assert!(no_tls.to_string().contains("TLS failed"), "{no_tls}");

        let refused = io(std::io::ErrorKind::ConnectionRefused.into());
        assert!(matches!(refused, ReadError::DatabaseUnavailable(_)));
        assert!(!refused.to_string().contains("TLS"), "{refused}");
    }

    #[test]
    fn error_names_are_what_the_state_machine_matches() {
        let unavailable = ReadError::DatabaseUnavailable("x".into());
        let diagnostic = Diagnostic::from(unavailable);
        assert_eq!(diagnostic.error_type, "DatabaseUnavailable");
        assert!(ReadError::DatabaseUnavailable(String::new()).retryable());
        assert!(!ReadError::DatabaseAccessDenied(String::new()).retryable());
        assert!(!ReadError::InventoryQueryFailed(String::new()).retryable());
    }
}
