//! The report state machine's definition: it parses, every transition lands on a state, every
//! Lambda Task retries transient errors and has a Catch route, it retries exactly the errors its
//! function marks retryable, and every failure ends up emailing the manager.

use std::collections::{BTreeMap, BTreeSet};

use cafe_shared::NamedError;
use cafe_tests::workspace_root;
use serde_json::{Value, json};

fn definition() -> Value {
    let path = workspace_root().join("statemachine/report.asl.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid JSON")
}

/// One `States` map: the names it defines, and its (name, state) pairs.
type Scope = (BTreeSet<String>, Vec<(String, Value)>);

/// Every `States` map, recursively into Parallel branches.
fn scopes(states: &Value, out: &mut Vec<Scope>) {
    let map = states.as_object().expect("States is an object");
    let names = map.keys().cloned().collect();
    out.push((
        names,
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    ));
    for state in map.values() {
        for branch in state["Branches"].as_array().into_iter().flatten() {
            scopes(&branch["States"], out);
        }
    }
}

fn all_scopes() -> Vec<Scope> {
    let mut out = Vec::new();
    scopes(&definition()["States"], &mut out);
    out
}

#[test]
fn the_flow_is_read_then_render_and_mail_in_parallel() {
    let definition = definition();
    assert_eq!(definition["StartAt"], "ReadInventory");
    let states = &definition["States"];
    assert_eq!(states["ReadInventory"]["Next"], "ProcessReport");
    let parallel = &states["ProcessReport"];
    assert_eq!(parallel["Type"], "Parallel");
    let starts: Vec<&str> = parallel["Branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["StartAt"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["RenderReport", "MailReport"]);
    // The key is derived once from the execution name and handed to both branches.
    assert_eq!(
        parallel["Parameters"]["reportKey.$"],
        "States.Format('reports/{}.html', $$.Execution.Name)"
    );
    assert_eq!(
        states[parallel["Next"].as_str().unwrap()]["Type"],
        "Succeed"
    );
}

#[test]
fn every_transition_names_a_state_in_its_scope() {
    for (names, states) in all_scopes() {
        for (name, state) in &states {
            let mut targets: Vec<&str> = state["Next"].as_str().into_iter().collect();
            for catcher in state["Catch"].as_array().into_iter().flatten() {
                targets.push(catcher["Next"].as_str().expect("a Catch has Next"));
            }
            // A Choice goes on by its rules or its Default.
            for rule in state["Choices"].as_array().into_iter().flatten() {
                targets.push(rule["Next"].as_str().expect("a Choice rule has Next"));
            }
            targets.extend(state["Default"].as_str());
            for target in targets {
                assert!(
                    names.contains(target),
                    "{name} goes to unknown state {target}"
                );
            }
            let ends =
                state["End"] == true || matches!(state["Type"].as_str(), Some("Succeed" | "Fail"));
            let chooses = state["Type"] == "Choice" && state["Default"].is_string();
            assert!(
                ends || chooses || state["Next"].is_string(),
                "{name} neither ends nor goes on"
            );
        }
    }
}

#[test]
fn every_lambda_task_retries_transient_errors_and_catches_the_rest() {
    let mut tasks = 0;
    for (_, states) in all_scopes() {
        for (name, state) in states {
            if state["Resource"] != "arn:aws:states:::lambda:invoke" {
                continue;
            }
            tasks += 1;
            let function = state["Parameters"]["FunctionName"].as_str().unwrap();
            assert!(
                function.starts_with("${") && function.ends_with("Arn}"),
                "{name}: {function}"
            );
            let retried: Vec<&str> = state["Retry"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} has no Retry"))
                .iter()
                .flat_map(|r| {
                    assert_eq!(r["JitterStrategy"], "FULL", "{name}: backoff with jitter");
                    assert!(r["BackoffRate"].as_f64().unwrap() > 1.0, "{name}: backoff");
                    r["ErrorEquals"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e.as_str().unwrap())
                })
                .collect();
            for transient in ["Lambda.ServiceException", "Lambda.TooManyRequestsException"] {
                assert!(
                    retried.contains(&transient),
                    "{name} does not retry {transient}"
                );
            }
            assert!(
                !retried.contains(&"States.ALL"),
                "{name} must not retry every error"
            );
            let catches = state["Catch"]
                .as_array()
                .unwrap_or_else(|| panic!("{name} has no Catch"));
            assert!(
                catches.iter().any(|c| c["ErrorEquals"][0] == "States.ALL"),
                "{name}: catch-all"
            );
        }
    }
    assert_eq!(tasks, 3);
    let read_retries = definition()["States"]["ReadInventory"]["Retry"].to_string();
    assert!(read_retries.contains("DatabaseUnavailable"));
    assert!(
        !read_retries.contains("DatabaseAccessDenied"),
        "bad credentials are not retried"
    );
}

/// The names of the errors among `errors` that are worth retrying, as the function marks them.
fn retryable<E: NamedError>(errors: Vec<E>) -> BTreeSet<String> {
    errors
        .iter()
        .filter(|error| error.retryable())
        .map(|error| error.name().to_owned())
        .collect()
}

#[test]
fn each_task_retries_exactly_the_errors_its_function_marks_retryable() {
    // Each Task's function, by the template parameter its FunctionName names.
    let functions = BTreeMap::from([
        (
            "${InventoryReaderArn}",
            retryable(inventory_reader::ReadError::every_kind()),
        ),
        (
            "${ReportRendererArn}",
            retryable(report_renderer::RenderError::every_kind()),
        ),
        (
            "${ReportMailerArn}",
            retryable(report_mailer::MailError::every_kind()),
        ),
    ]);
    let mut seen = BTreeSet::new();
    for (_, states) in all_scopes() {
        for (name, state) in states {
            if state["Resource"] != "arn:aws:states:::lambda:invoke" {
                continue;
            }
            let function = state["Parameters"]["FunctionName"].as_str().unwrap();
            let marked = functions.get(function).unwrap_or_else(|| {
                panic!("{name} invokes {function}, which this test does not know")
            });
            // The function's own errors: not the Lambda service's (Lambda.ServiceException, …),
            // retried on every Task, nor Step Functions' (States.*).
            let retried: BTreeSet<String> = state["Retry"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|retrier| retrier["ErrorEquals"].as_array().unwrap())
                .map(|error| error.as_str().unwrap())
                .filter(|error| !error.starts_with("Lambda.") && !error.starts_with("States."))
                .map(str::to_owned)
                .collect();
            assert_eq!(
                &retried, marked,
                "{name} ({function}) retries what the function does not mark retryable, or \
                 misses what it does (left: the ASL's Retry, right: the function's retryable())"
            );
            seen.insert(function.to_owned());
        }
    }
    assert_eq!(
        seen,
        functions.keys().map(|f| f.to_string()).collect(),
        "every function is invoked"
    );
}

/// Each error's name, and whether the function marks it worth retrying.
fn kinds<E: NamedError>(errors: Vec<E>) -> Vec<(&'static str, bool)> {
    errors.iter().map(|e| (e.name(), e.retryable())).collect()
}

#[test]
fn every_failure_emails_the_manager_in_plain_words_then_fails() {
    let states = &definition()["States"];
    for name in ["ReadInventory", "ProcessReport"] {
        assert_eq!(states[name]["Catch"][0]["Next"], "ExplainFailure", "{name}");
    }
    let choice = &states["ExplainFailure"];
    assert_eq!(choice["Type"], "Choice");
    // Errors that pass by themselves: every error a function marks retryable, which its Retry
    // has already retried, and the Lambda service's own.
    let passing: Vec<&str> = choice["Choices"][0]["Or"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| {
            rule["StringEquals"]
                .as_str()
                .expect("a rule names one error exactly")
        })
        .collect();
    let kinds = [
        kinds(inventory_reader::ReadError::every_kind()),
        kinds(report_renderer::RenderError::every_kind()),
        kinds(report_mailer::MailError::every_kind()),
    ];
    for (name, retryable) in kinds.concat() {
        assert_eq!(passing.contains(&name), retryable, "{name}");
    }
    // And each of them has been retried: it is named in some Task's Retry. A timeout or an
    // unhandled function error (Lambda.Unknown: out of memory, a crash) is retried nowhere.
    let retried: BTreeSet<String> = all_scopes()
        .into_iter()
        .flat_map(|(_, states)| states.into_iter().map(|(_, state)| state))
        .flat_map(|state| state["Retry"].as_array().cloned().unwrap_or_default())
        .flat_map(|rule| rule["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(str::to_owned))
        .filter(|name| name != "States.ALL")
        .collect();
    for name in &passing {
        assert!(
            retried.contains(*name),
            "{name} passes by itself but is never retried"
        );
    }
    for never in ["States.Timeout", "Lambda.Unknown", "States.TaskFailed"] {
        assert!(!passing.contains(&never), "{never}");
    }
    for (notify, says) in [
        (&choice["Choices"][0]["Next"], "Nothing needs doing"),
        (&choice["Default"], "please forward this email"),
    ] {
        let notify = &states[notify.as_str().unwrap()];
        assert_eq!(notify["Resource"], "arn:aws:states:::sns:publish");
        assert_eq!(notify["Parameters"]["TopicArn"], "${ReportTopicArn}");
        let subject = notify["Parameters"]["Subject"].as_str().unwrap();
        assert!(
            subject.starts_with(cafe_shared::inventory::REPORT_NAME),
            "{subject}"
        );
        let message = notify["Parameters"]["Message.$"].as_str().unwrap();
        // The reference, and no technical detail: the error and cause stay with the execution.
        assert!(message.contains(says), "{message}");
        assert!(message.ends_with("this reference is all they need: {}', $$.Execution.Name)"));
        assert!(
            !message.contains("$.Error") && !message.contains("$.Cause"),
            "{message}"
        );
        assert_eq!(states[notify["Next"].as_str().unwrap()]["Type"], "Fail");
    }
    let failed = &states["ReportFailed"];
    assert_eq!(
        (&failed["ErrorPath"], &failed["CausePath"]),
        (&json!("$.Error"), &json!("$.Cause"))
    );
}
