//! The report pipeline under faults and hostile or extreme data.

use super::common::*;

/// Starts a report through the API; returns the execution's ARN and name.
fn request_report() -> (String, String) {
    let (status, answer) = http_post(&format!("{GATEWAY}/create_report"), b"{}", &[]);
    assert_eq!(status, 200, "{answer}");
    let arn = answer["executionArn"].as_str().unwrap().to_owned();
    let name = arn.rsplit(':').next().unwrap().to_owned();
    (arn, name)
}

/// Waits for an execution to end; returns its status and output or error.
async fn finished(aws: &Aws, execution: &str, limit: Duration) -> (String, Value) {
    let deadline = Instant::now() + limit;
    loop {
        let described = aws
            .sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .unwrap();
        let status = described.status().as_str().to_owned();
        if status != "RUNNING" {
            let detail = match described.output() {
                Some(output) => serde_json::from_str(output).unwrap(),
                None => json!({"error": described.error(), "cause": described.cause()}),
            };
            return (status, detail);
        }
        assert!(
            Instant::now() < deadline,
            "{execution} still running after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The report emails that mention an execution: (failure emails, link emails).
fn report_emails(name: &str) -> (Vec<Value>, Vec<Value>) {
    mailbox()
        .into_iter()
        .filter(|l| l["topic"] == report_topic())
        .filter(|l| l["body"].as_str().unwrap_or_default().contains(name))
        .partition(|l| {
            l["subject"]
                .as_str()
                .unwrap_or_default()
                .contains("not produced")
        })
}

/// What each failure email tells the manager (statemachine/report.asl.json): a failure that
/// passes by itself, and one that needs someone.
const PASSES_BY_ITSELF: &str = "Nothing needs doing";
const NEEDS_SOMEONE: &str = "please forward this email to whoever looks after the café systems";

/// A report run to its end: its execution's name, status and output or error, and how long it took.
struct Ended {
    execution: String,
    name: String,
    status: String,
    detail: Value,
    took: Duration,
}

/// Requests a report and waits (up to 180 s) for it to end.
async fn run_report(aws: &Aws) -> Ended {
    let began = Instant::now();
    let (execution, name) = request_report();
    let (status, detail) = finished(aws, &execution, Duration::from_secs(180)).await;
    Ended {
        execution,
        name,
        status,
        detail,
        took: began.elapsed(),
    }
}

/// Checks a report failed visibly: the execution Failed with one of `errors`, one failure email
/// that `says` so in plain words with the reference and without the error, and no link email.
/// Records the outcome and `facts` as `scenario`; returns what the execution recorded.
async fn failed_visibly(
    scenario: &str,
    ended: &Ended,
    facts: Value,
    errors: &[&str],
    says: &str,
) -> String {
    let (failures, links) = eventually(Duration::from_secs(30), "the failure email", || {
        let (failures, links) = report_emails(&ended.name);
        (!failures.is_empty()).then_some((failures, links))
    })
    .await;
    let body = failures[0]["body"].as_str().unwrap_or_default().to_owned();
    record(
        scenario,
        &json!({"status": ended.status, "seconds_to_failure": ended.took.as_secs_f64(),
                "failure_emails": failures.len(), "link_emails": links.len(), "email": body,
                "facts": facts}),
    );
    assert_eq!(ended.status, "FAILED", "{}", ended.detail);
    assert_eq!(failures.len(), 1);
    assert!(links.is_empty(), "a link was mailed: {links:?}");
    // The email is plain words with the reference; the technical error stays with the
    // execution, found by that reference.
    assert!(
        body.contains(&format!("this reference is all they need: {}", ended.name)),
        "{body}"
    );
    assert!(body.contains(says), "{body}");
    let both = [PASSES_BY_ITSELF, NEEDS_SOMEONE];
    assert_eq!(
        both.iter().filter(|w| body.contains(*w)).count(),
        1,
        "{body}"
    );
    let recorded = ended.detail.to_string();
    assert!(
        errors.iter().any(|e| recorded.contains(e)),
        "the execution records none of {errors:?}: {recorded}"
    );
    assert!(
        !errors.iter().any(|e| body.contains(e)),
        "the email carries the technical error: {body}"
    );
    recorded
}

/// Runs a report while a passing `fault` is in force on `target` and checks it fails visibly,
/// with the email saying nothing needs doing. Returns how often the fault struck, and what the
/// execution recorded.
async fn report_fails_under(scenario: &str, target: &str, errors: &[&str]) -> (u64, String) {
    let (aws, _) = begin();
    inject_fault(target, json!({"mode": "error", "seconds": 180}));
    let ended = run_report(&aws).await;
    let hits = fault_hits()[target].as_u64().unwrap_or(0);
    clear_faults();
    let facts = json!({"fault_hits": hits});
    let recorded = failed_visibly(scenario, &ended, facts, errors, PASSES_BY_ITSELF).await;
    (hits, recorded)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn with_mysql_unreachable_the_report_is_retried_then_fails_with_an_email_saying_why() {
    let (connections, _) =
        report_fails_under("mysql-unreachable", "mysql", &["DatabaseUnavailable"]).await;
    // The reader was retried with backoff (3 retries) before the execution gave up.
    assert!(connections >= 4, "the reader tried {connections} times");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn with_the_renderer_failing_the_failure_email_goes_out_instead_of_a_link() {
    let (uploads, recorded) = report_fails_under(
        "renderer-failing",
        "s3:PUT",
        &["ReportUploadFailed", "ReportNotReady"],
    )
    .await;
    assert!(uploads >= 4, "the renderer tried {uploads} uploads");
    // The execution's cause says what S3 said, in a line, not the SDK's dump of the response.
    assert!(
        recorded.contains("ServiceUnavailable: fault injected: s3:PUT"),
        "{recorded}"
    );
    assert!(!recorded.contains("raw: Response"), "{recorded}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn with_the_reader_refused_a_table_the_email_asks_for_someone_and_says_what_to_forward() {
    // A lasting failure: the reader's user lost SELECT on beans (a grant dropped by mistake).
    // Table privileges apply from the reader's next query, warm connection or not.
    let url = mysql_async::Opts::from_url(&database_url()).unwrap();
    let beans = format!("`{}`.`beans`", url.db_name().unwrap_or("coffee"));
    let grant = format!("GRANT SELECT ON {beans} TO '{READER_USER}'@'%'");
    // First given back, in case a run killed half-way left it revoked.
    database().await.query_drop(&grant).await.unwrap();
    database()
        .await
        .query_drop(format!("REVOKE SELECT ON {beans} FROM '{READER_USER}'@'%'"))
        .await
        .unwrap();
    // The grant comes back whatever the report does: a panic in the task waits until then, and
    // a new connection gives it back (one opened before may have closed while the report ran).
    let ended = tokio::spawn(async {
        let (aws, _) = begin();
        run_report(&aws).await
    })
    .await;
    database().await.query_drop(&grant).await.unwrap();
    let ended = ended.unwrap();
    let recorded = failed_visibly(
        "reader-refused-a-table",
        &ended,
        json!({}),
        &["InventoryQueryFailed"],
        NEEDS_SOMEONE,
    )
    .await;
    assert!(recorded.contains("command denied"), "{recorded}");
    // Not retried: the reader failed once, and the failure email went out (a task that succeeded).
    let (aws, _) = begin();
    let attempts = failed_attempts(&aws, &ended.execution, 1).await;
    let tasks_failed: Vec<&String> = attempts
        .iter()
        .filter(|a| !a.starts_with("ExecutionFailed"))
        .collect();
    assert_eq!(tasks_failed.len(), 1, "{attempts:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_report_rendered_on_a_retry_after_slow_failures_is_mailed_with_its_link() {
    let (aws, _) = begin();
    // The first three render attempts fail slowly: each of their uploads (the SDK tries 3 times)
    // hangs 4 s and then fails, so each attempt ends in ReportUploadFailed after about 12 s, well
    // within the task's 30 s timeout even on a loaded machine (moto mishandles a task timeout).
    // The fourth attempt, the last its Retry allows, uploads at once, some 40 s in: later than
    // the mailer's old wait (30 s locally; 60 deployed, less than the retries could take).
    let slow_failures = Duration::from_secs(36);
    inject_fault(
        "s3:PUT",
        json!({"mode": "error", "delay": 4, "count": 9, "seconds": 300}),
    );
    let began = Instant::now();
    let (execution, name) = request_report();
    let (status, output) = finished(&aws, &execution, Duration::from_secs(300)).await;
    let took = began.elapsed();
    let uploads = fault_hits()["s3:PUT"].as_u64().unwrap_or(0);
    clear_faults();
    assert_eq!(status, "SUCCEEDED", "{output}");
    let (email, link) = report_email(&output).await;
    let (failures, links) = report_emails(&name);
    record(
        "report-slow-first-render",
        &json!({"status": status, "seconds": took.as_secs_f64(), "failed_uploads": uploads,
                "failure_emails": failures.len(), "link_emails": links.len()}),
    );
    assert_eq!(uploads, 9, "the first three attempts' uploads all failed");
    assert!(
        took > slow_failures,
        "the report was mailed after {took:?}, before three slow failures could have happened"
    );
    assert!(failures.is_empty(), "a failure email: {failures:?}");
    assert_eq!(links.len(), 1, "{email}");
    let (status, _, html) = http_get(&link);
    assert_eq!(status, 200);
    assert!(html.contains("<html"), "the link serves the report");
}

/// The stack's database, for rows a test adds and removes.
async fn database() -> mysql_async::Conn {
    mysql_async::Conn::new(mysql_async::Opts::from_url(&database_url()).unwrap())
        .await
        .unwrap()
}

const HOSTILE_SUPPLIER: &str = "<script>alert('fault-suite')</script> & \"Sons\"";

/// Removes a supplier a test added, with its beans.
async fn remove_supplier(connection: &mut mysql_async::Conn, name: &str) {
    connection
        .exec_drop(
            "DELETE beans FROM beans JOIN suppliers ON beans.supplier_id = suppliers.id WHERE suppliers.name = ?",
            (name,),
        )
        .await
        .unwrap();
    connection
        .exec_drop("DELETE FROM suppliers WHERE name = ?", (name,))
        .await
        .unwrap();
}

/// Adds a supplier named `name` with this address (after removing any left by an earlier run);
/// returns its id.
async fn add_supplier(connection: &mut mysql_async::Conn, name: &str, address: &str) -> u64 {
    remove_supplier(connection, name).await;
    connection
        .exec_drop(
            "INSERT INTO suppliers (name, address, city, state, email, phone) VALUES (?, ?, 'Ville', 'ST', 'a@b.example', '555')",
            (name, address),
        )
        .await
        .unwrap();
    connection
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn hostile_names_and_ten_thousand_beans_are_reported_escaped_through_the_claim_check() {
    let (aws, _) = begin();
    let mut db = database().await;
    let supplier = add_supplier(&mut db, HOSTILE_SUPPLIER, "<img src=x onerror=alert(1)>").await;
    let long_name = format!("<b>{}</b>", "Très long nom ".repeat(17)); // 238 + 7 characters
    let mut beans: Vec<String> = (0..9_999)
        .map(|i| {
            format!(
                "({supplier}, 'Arabica', '<i>Lot {i}</i>', '9.50', 'onclick=\"x()\"', {})",
                i % 90
            )
        })
        .collect();
    beans.push(format!(
        "({supplier}, 'Robusta', '{long_name}', '12.00', 'long', 3)"
    ));
    db.query_drop(format!(
        "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES {}",
        beans.join(",")
    ))
    .await
    .unwrap();

    let began = Instant::now();
    let (execution, name) = request_report();
    let (status, output) = finished(&aws, &execution, Duration::from_secs(180)).await;
    let took = began.elapsed();
    remove_supplier(&mut db, HOSTILE_SUPPLIER).await;
    db.disconnect().await.unwrap();
    assert_eq!(status, "SUCCEEDED", "{output}");

    // The inventory went through S3, not the state machine's payload.
    let claim = aws_sdk_s3::Client::new(&sdk_config_for(EMULATOR))
        .head_object()
        .bucket(&resources().reports_bucket)
        .key(format!("inventory/{name}.json"))
        .send()
        .await
        .expect("the claim-checked inventory in S3");
    let (_, link) = report_email(&output).await;
    let (status, _, html) = http_get(&link);
    assert_eq!(status, 200);
    // Each bean's card (a low one is also a row of "Reorder now", counted apart).
    let rows = html.matches("class=\"name\">&#60;i&#62;Lot ").count();
    record(
        "hostile-report",
        &json!({"beans": 10_000, "seconds": took.as_secs_f64(), "claim_check_bytes": claim.content_length(),
                "report_bytes": html.len(), "escaped_rows": rows}),
    );
    assert!(html.contains(&escaped(HOSTILE_SUPPLIER)));
    assert!(html.contains(&escaped(&long_name)));
    assert_eq!(rows, 9_999);
    for raw in ["<script>alert(", "<i>Lot", "<b>Très", "onclick=\"x()\""] {
        assert!(!html.contains(raw), "{raw} reached the report unescaped");
    }
}

const OUT_OF_RANGE_SUPPLIER: &str = "Fault-suite out-of-range prices";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn prices_out_of_range_are_reported_as_they_are_and_fail_no_report() {
    let (aws, _) = begin();
    let mut db = database().await;
    let supplier = add_supplier(&mut db, OUT_OF_RANGE_SUPPLIER, "1 Quay").await;
    // Beyond what a decimal holds; within it but too large once multiplied by the bags.
    db.exec_drop(
        "INSERT INTO beans (supplier_id, type, product_name, price, description, quantity) VALUES
         (?, 'Arabica', 'Priceless', '1e40', 'x', 5), (?, 'Arabica', 'Dear', '9999999999999999999999999999', 'x', 1000)",
        (supplier, supplier),
    )
    .await
    .unwrap();
    let (execution, _) = request_report();
    let (status, output) = finished(&aws, &execution, Duration::from_secs(120)).await;
    remove_supplier(&mut db, OUT_OF_RANGE_SUPPLIER).await;
    db.disconnect().await.unwrap();
    assert_eq!(status, "SUCCEEDED", "{output}");
    let (_, link) = report_email(&output).await;
    let (status, _, html) = http_get(&link);
    assert_eq!(status, 200);
    record(
        "out-of-range-prices",
        &json!({"status": "SUCCEEDED", "too_large_to_total": html.matches("too large to total").count()}),
    );
    assert!(
        html.contains("Priceless") && html.contains("Dear"),
        "both beans are listed"
    );
    assert!(
        html.contains("price × quantity too large to total"),
        "the dear bean says so"
    );
    assert!(html.contains("<b>too large to total</b><span>stock value</span>"));
}

/// The reader's database user and secret on the local stack (local/stack.py: READER_USER,
/// READER_SECRET).
const READER_USER: &str = "cafe_reader";
const READER_SECRET: &str = "cafe-db-reader";
/// What the reader logs when it finds a new password after a refused login (its database.rs).
const RECONNECTED: &str = "the database password changed; reconnecting with it";

/// Requests a report and waits for it to succeed and be emailed; its execution's ARN.
async fn report_succeeds(aws: &Aws, when: &str) -> String {
    let (execution, _) = request_report();
    let (status, detail) = finished(aws, &execution, Duration::from_secs(120)).await;
    assert_eq!(status, "SUCCEEDED", "the report {when}: {detail}");
    report_email(&detail).await;
    execution
}

/// The attempts that failed or timed out in an execution (a retried task leaves one each), as
/// "<event type>: <error>", from a history in which at least `succeeded` events succeeded.
async fn failed_attempts(aws: &Aws, execution: &str, succeeded: usize) -> Vec<String> {
    let history = aws
        .sfn
        .get_execution_history()
        .execution_arn(execution)
        .max_results(1000)
        .send()
        .await
        .unwrap();
    // A history at all: the tasks that succeeded left their events (an empty one would prove
    // nothing).
    let found = history
        .events()
        .iter()
        .filter(|event| event.r#type().as_str().ends_with("Succeeded"))
        .count();
    assert!(
        found >= succeeded,
        "{execution}: {found} succeeded events in its history"
    );
    history
        .events()
        .iter()
        .filter(|event| {
            let kind = event.r#type().as_str();
            kind.ends_with("Failed") || kind.ends_with("TimedOut")
        })
        .map(|event| format!("{}: {:?}", event.r#type().as_str(), event))
        .collect()
}

/// Ends the reader's open connections, as a failover or an idle timeout does, so its next query
/// logs in again.
async fn end_reader_sessions(admin: &mysql_async::Pool) {
    let mut conn = admin.get_conn().await.unwrap();
    let ids: Vec<u64> = conn
        .exec(
            "SELECT id FROM information_schema.processlist WHERE user = ?",
            (READER_USER,),
        )
        .await
        .unwrap();
    for id in ids {
        // A session may end by itself in between.
        let _ = conn.query_drop(format!("KILL {id}")).await;
    }
}

/// What the reader's instances logged since the stack started (`cargo lambda watch` logs each
/// instance it spawns).
fn functions_log() -> String {
    std::fs::read_to_string(workspace_root().join(".local/logs/functions.log")).unwrap_or_default()
}

const READER_SPAWNED: &str = "spawning function instance function=\"inventory-reader\"";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make test-faults`"]
async fn a_rotated_database_password_reaches_the_warm_reader_without_a_restart() {
    let (aws, run) = begin();
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config_for(EMULATOR));
    let admin = mysql_async::Pool::new(database_url().as_str());
    let mut executions = vec![report_succeeds(&aws, "before the rotation").await];
    let log_before = functions_log().len();

    // The steps of a Secrets Manager rotation (createSecret, setSecret, finishSecret).
    let old_version = secrets
        .get_secret_value()
        .secret_id(READER_SECRET)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let new_version = format!("rotation-{run}-00000000000000000000000000");
    let password = format!("rotated{run}");
    secrets
        .put_secret_value()
        .secret_id(READER_SECRET)
        .client_request_token(&new_version)
        .secret_string(json!({"username": READER_USER, "password": password}).to_string())
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let mut conn = admin.get_conn().await.unwrap();
    conn.query_drop(format!(
        "ALTER USER '{READER_USER}'@'%' IDENTIFIED BY '{password}'"
    ))
    .await
    .unwrap();
    drop(conn);
    end_reader_sessions(&admin).await;
    executions.push(report_succeeds(&aws, "between setSecret and finishSecret").await);
    secrets
        .update_secret_version_stage()
        .secret_id(READER_SECRET)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&new_version)
        .remove_from_version_id(&old_version)
        .send()
        .await
        .unwrap();
    end_reader_sessions(&admin).await;
    executions.push(report_succeeds(&aws, "after finishSecret").await);

    // The reports in the rotation were read by instances that were running before it, which
    // found the new password themselves: in the window, a refused login made one read
    // AWSPENDING. (An instance that had not read a report since may find it later as AWSCURRENT.)
    let log = functions_log().split_off(log_before);
    let reconnected: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(RECONNECTED))
        .map(|line| line.rsplit(' ').next().unwrap_or_default())
        .collect();
    record(
        "secret-rotation",
        &json!({"reports": 3, "reader_instances_started": log.matches(READER_SPAWNED).count(),
                "reconnections_with_a_new_password": reconnected}),
    );
    assert_eq!(
        log.matches(READER_SPAWNED).count(),
        0,
        "no new reader instance"
    );
    assert_eq!(
        reconnected.first(),
        Some(&"stage=Pending"),
        "{reconnected:?}"
    );
    // Each report's reader found the password in the same attempt: no attempt failed and was
    // retried by the state machine.
    for execution in &executions {
        assert_eq!(
            failed_attempts(&aws, execution, 3).await,
            Vec::<String>::new(),
            "{execution}"
        );
    }
    // Its connections may have ended with the reader's.
    let _ = admin.disconnect().await;
}
