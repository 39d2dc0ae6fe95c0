//! End to end, as a user: orders posted to the gateway, reports requested, the mailbox read and
//! its links followed, all against the running local stack (`make e2e` starts it if needed).

use std::time::{Duration, Instant};

use cafe_tests::stack::{
    EMULATOR, GATEWAY, escaped, eventually, mailbox, notifications_for, ops_count, ops_page,
    order_topic, post_order, report_email, report_topic, resources, tag,
};
use cafe_tests::{http_get, http_post, sdk_config_for};
use mysql_async::prelude::Queryable;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn orders_with_awkward_text_are_notified_once_each_and_invalid_ones_refused() {
    let run = tag();
    let items = [
        "Salt & Pepper bagel",
        "1+1 latte + cream",
        "100% Arabica, 5% off",
        "\"Quoted\" 'mocha' <b>bold</b>",
        "Café crème brûlée, 抹茶ラテ 🍵",
        "a%20b+c&d=e",
    ];
    for (i, item) in items.iter().enumerate() {
        let order =
            json!({"item": item, "customerID": format!("e2e-{run}-{i}"), "quantity": i + 1});
        let (status, answer) = post_order(order.to_string().as_bytes());
        assert_eq!(status, 202, "{item}: {answer}");
        assert!(answer["messageId"].is_string());
    }

    let refused: [(&[u8], u16, &str); 5] = [
        (b"not json", 400, "not valid JSON"),
        (
            br#"{"item": "", "customerID": "x"}"#,
            400,
            "`item` must not be blank",
        ),
        (br#"{"item": "tea"}"#, 400, "the order has no `customerID`"),
        (&[0xff, 0xfe, 0x7b], 400, "not UTF-8"),
        (br#"["item", "tea"]"#, 400, "must be a JSON object"),
    ];
    for (body, expected, message) in refused {
        let (status, answer) = post_order(body);
        assert_eq!(status, expected, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(message),
            "{answer}"
        );
    }
    let huge = json!({"item": "x".repeat(300_000), "customerID": "big"}).to_string();
    let (status, answer) = post_order(huge.as_bytes());
    assert_eq!(status, 413, "{answer}");

    let mine = |letters: &[Value], i: usize| -> Vec<Value> {
        notifications_for(letters, &format!("e2e-{run}-{i}"))
            .into_iter()
            .cloned()
            .collect()
    };
    eventually(
        Duration::from_secs(90),
        "every order's notification",
        || {
            let letters = mailbox();
            (0..items.len())
                .all(|i| !mine(&letters, i).is_empty())
                .then_some(())
        },
    )
    .await;
    // Give a second notification time to show up, were one coming.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let letters = mailbox();
    for (i, item) in items.iter().enumerate() {
        let notes = mine(&letters, i);
        assert_eq!(notes.len(), 1, "{item} was notified {} times", notes.len());
        let body = notes[0]["body"].as_str().unwrap();
        assert!(body.contains(&format!("{} × {item}\n", i + 1)), "{body}");
        assert_eq!(notes[0]["topic"], order_topic());
        assert!(
            notes[0]["subject"]
                .as_str()
                .unwrap()
                .starts_with("New order ")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn a_message_that_is_not_an_order_ends_in_the_dlq_while_the_orders_around_it_go_through() {
    let run = tag();
    let sqs = aws_sdk_sqs::Client::new(&sdk_config_for(EMULATOR));
    let (queue, dlq) = (
        resources().orders_queue.url.clone(),
        resources().orders_dead_letter_queue.url.clone(),
    );
    let poison = format!("poison {run}: not an order");
    for body in [
        json!({"item": "before", "customerID": format!("dlq-{run}-a")}).to_string(),
        poison.clone(),
        json!({"item": "after", "customerID": format!("dlq-{run}-b")}).to_string(),
    ] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    for customer in ["a", "b"] {
        let wanted = format!("for customer dlq-{run}-{customer}\n");
        eventually(
            Duration::from_secs(90),
            "the orders around the poison message",
            || {
                mailbox()
                    .iter()
                    .any(|l| l["body"].as_str().unwrap().contains(&wanted))
                    .then_some(())
            },
        )
        .await;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        if received
            .messages()
            .iter()
            .any(|m| m.body() == Some(poison.as_str()))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poison message never reached the DLQ"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every supplier name in the stack's database.
async fn supplier_names() -> Vec<String> {
    let url = cafe_tests::stack::database_url();
    let mut connection = mysql_async::Conn::new(mysql_async::Opts::from_url(&url).unwrap())
        .await
        .unwrap();
    let names: Vec<Option<String>> = connection
        .query("SELECT name FROM suppliers")
        .await
        .unwrap();
    connection.disconnect().await.unwrap();
    names.into_iter().map(Option::unwrap_or_default).collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn two_reports_at_once_each_mail_a_link_to_their_own_complete_report() {
    let suppliers = supplier_names().await;
    assert!(suppliers.len() >= 8);
    let requests: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| http_post(&format!("{GATEWAY}/create_report"), b"{}", &[])))
        .collect();
    let executions: Vec<String> = requests
        .into_iter()
        .map(|r| {
            let (status, answer) = r.join().unwrap();
            assert_eq!(status, 200, "{answer}");
            assert!(answer["startDate"].is_number());
            answer["executionArn"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_ne!(executions[0], executions[1]);

    let sfn = aws_sdk_sfn::Client::new(&sdk_config_for(EMULATOR));
    for execution in &executions {
        let name = execution.rsplit(':').next().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let output = loop {
            let described = sfn
                .describe_execution()
                .execution_arn(execution)
                .send()
                .await
                .unwrap();
            match described.status().as_str() {
                "RUNNING" => {}
                "SUCCEEDED" => break described.output().unwrap().to_owned(),
                other => panic!(
                    "{name} ended {other}: {:?} {:?}",
                    described.error(),
                    described.cause()
                ),
            }
            assert!(Instant::now() < deadline, "{name} still running");
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let output: Value = serde_json::from_str(&output).unwrap();
        let key = format!("reports/{name}.html");
        assert_eq!(output["report"]["key"], key.as_str());

        let (email, link) = report_email(&output).await;
        assert_eq!(email["topic"], report_topic());
        assert!(
            link.contains(&format!("/{key}?")),
            "{name}'s email links to {link}"
        );
        let (status, content_type, html) = http_get(&link);
        assert_eq!(
            (status, content_type.as_str()),
            (200, "text/html; charset=utf-8")
        );
        for supplier in &suppliers {
            assert!(
                html.contains(&escaped(supplier)),
                "{supplier} missing from {key}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn a_report_request_repeated_with_its_idempotency_key_is_one_report_and_one_email() {
    let key = format!("e2e-nightly-{}", tag());
    let request = || {
        http_post(
            &format!("{GATEWAY}/create_report"),
            b"{}",
            &[("Idempotency-Key", key.as_str())],
        )
    };
    let (status, first) = request();
    assert_eq!(status, 200, "{first}");
    let execution = first["executionArn"].as_str().unwrap().to_owned();
    assert!(execution.ends_with(&format!(":{key}")), "{execution}");
    // A retry while the report runs, and another once it has been mailed.
    let (status, retry) = request();
    assert_eq!(
        (status, retry["executionArn"].as_str()),
        (200, Some(execution.as_str())),
        "{retry}"
    );
    let sfn = aws_sdk_sfn::Client::new(&sdk_config_for(EMULATOR));
    let emails = || -> Vec<Value> {
        mailbox()
            .into_iter()
            .filter(|l| l["topic"] == report_topic())
            .filter(|l| l["body"].as_str().unwrap_or_default().contains(&key))
            .collect()
    };
    eventually(Duration::from_secs(120), "the report's email", || {
        (!emails().is_empty()).then_some(())
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sfn
        .describe_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap()
        .status()
        .as_str()
        == "RUNNING"
    {
        assert!(Instant::now() < deadline, "{execution} still running");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, after) = request();
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["executionArn"].as_str(), Some(execution.as_str()));
    assert_eq!(after["repeated"], true);

    let named: Vec<String> = sfn
        .list_executions()
        .state_machine_arn(execution.rsplit_once(':').unwrap().0.replacen(
            ":execution:",
            ":stateMachine:",
            1,
        ))
        .send()
        .await
        .unwrap()
        .executions()
        .iter()
        .filter(|e| e.name() == key)
        .map(|e| e.execution_arn().to_owned())
        .collect();
    assert_eq!(named, [execution], "one execution under the key");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(emails().len(), 1, "one email: {:?}", emails());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn the_ops_page_shows_the_queues_the_stream_and_what_the_functions_counted() {
    let before = ops_page();
    let run = tag();
    let customer = format!("ops-{run}");
    let order = json!({"item": "macchiato", "customerID": customer});
    let (status, answer) = post_order(order.to_string().as_bytes());
    assert_eq!(status, 202, "{answer}");
    eventually(Duration::from_secs(60), "the order's notification", || {
        (notifications_for(&mailbox(), &customer).len() == 1).then_some(())
    })
    .await;
    // The functions flush their metrics as each invocation ends; the page reads them from the log.
    let after = eventually(
        Duration::from_secs(30),
        "the counts on the ops page",
        || {
            let page = ops_page();
            let stored = ops_count(&page, "order-writer", "OrdersStored");
            let published = ops_count(&page, "order-notifier", "NotificationsPublished");
            (stored > ops_count(&before, "order-writer", "OrdersStored")
                && published > ops_count(&before, "order-notifier", "NotificationsPublished"))
            .then_some(page)
        },
    )
    .await;
    assert!(
        ops_count(&after, "order-writer", "ColdStart") >= 1,
        "{after}"
    );
    let stack = resources();
    for queue in [
        &stack.orders_queue.name,
        &stack.orders_dead_letter_queue.name,
        &stack.notifier_failures_queue.name,
    ] {
        let depth = &after["queues"][queue.as_str()];
        assert!(
            depth["approximateNumberOfMessages"].is_u64(),
            "{queue}: {after}"
        );
    }
    assert!(
        after["stream"]["recordsHandedOver"].as_u64().unwrap() >= 1,
        "{after}"
    );
    assert!(after["executions"].is_array(), "{after}");
}

/// `make report` as a user runs it (local/report.py): the state machine started as the deployed
/// schedule starts it (the schedule's `Target.Input` from template.yaml, a name Step Functions
/// gives), then the execution's status and its report email printed.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local stack: run with `make e2e`"]
async fn make_report_starts_what_the_schedule_starts_and_prints_its_email() {
    let root = cafe_tests::workspace_root();
    let ran = tokio::task::spawn_blocking(move || {
        std::process::Command::new(root.join(".venv/bin/python"))
            .arg("local/report.py")
            .current_dir(&root)
            .output()
    })
    .await
    .unwrap()
    .expect("local/report.py runs");
    let printed = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert!(printed.contains("execution SUCCEEDED"), "{printed}");
    let name = printed
        .lines()
        .find_map(|l| {
            l.strip_prefix("execution ")?
                .strip_suffix(" started; waiting for it to end")
        })
        .unwrap_or_else(|| panic!("no execution named in {printed}"));

    let machine = &resources().state_machine.arn;
    let execution = format!(
        "{}:{name}",
        machine.replacen(":stateMachine:", ":execution:", 1)
    );
    let sfn = aws_sdk_sfn::Client::new(&sdk_config_for(EMULATOR));
    let described = sfn
        .describe_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let template = cafe_tests::template::template();
    let scheduled_input = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .find(|r| r["Type"] == "AWS::Scheduler::Schedule")
        .and_then(|schedule| schedule["Properties"]["Target"]["Input"].as_str())
        .expect("template.yaml's schedule and its Target.Input");
    assert_eq!(described.input(), Some(scheduled_input));

    let output: Value = serde_json::from_str(described.output().unwrap()).unwrap();
    let (email, link) = report_email(&output).await;
    assert!(link.contains(&format!("/reports/{name}.html?")), "{link}");
    assert!(
        printed.contains(&format!("Subject: {}", email["subject"].as_str().unwrap())),
        "{printed}"
    );
    assert!(printed.contains(&link), "{printed}");
}
