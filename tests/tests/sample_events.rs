//! Every sample event `make invoke` sends is one its function takes: `events/` has a folder per
//! function of the template, each with the `default.json` that `make invoke FN=…` sends, and
//! every file is read as that function's request type. The mailer's default names the report the
//! renderer's default writes, which `make invoke FN=report-mailer` renders first.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use cafe_tests::template::functions;
use cafe_tests::{sample_event, workspace_root};
use inventory_reader::ReadRequest;
use report_mailer::MailRequest;
use report_renderer::RenderRequest;

/// `<function>/<file>.json` for every sample event.
fn sample_events() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for folder in std::fs::read_dir(workspace_root().join("events")).unwrap() {
        let folder = folder.unwrap().path();
        let function = folder.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().file_name().to_string_lossy().into_owned();
            found.push((function.clone(), format!("{function}/{file}")));
        }
    }
    found.sort();
    found
}

#[test]
fn every_function_has_a_folder_with_its_default_event_and_no_folder_is_another() {
    let mut folders: Vec<String> = sample_events().into_iter().map(|(f, _)| f).collect();
    folders.dedup();
    let mut expected = functions();
    expected.sort();
    assert_eq!(folders, expected);
    for function in expected {
        assert!(
            workspace_root()
                .join(format!("events/{function}/default.json"))
                .is_file(),
            "events/{function}/default.json"
        );
    }
}

#[test]
fn every_sample_event_is_its_functions_request() {
    for (function, event) in sample_events() {
        match function.as_str() {
            "order-writer" => {
                let event: SqsEvent = sample_event(&event);
                assert!(!event.records.is_empty());
            }
            "order-notifier" => {
                let event: StreamEvent = sample_event(&event);
                assert!(!event.records.is_empty());
            }
            "inventory-reader" => {
                let request: ReadRequest = sample_event(&event);
                assert!(request.execution.is_some(), "{event} names an execution");
            }
            "report-renderer" => {
                let request: RenderRequest = sample_event(&event);
                assert!(request.report_key.starts_with("reports/"));
            }
            "report-mailer" => {
                let request: MailRequest = sample_event(&event);
                let rendered: RenderRequest = sample_event("report-renderer/default.json");
                assert_eq!(
                    request.report_key, rendered.report_key,
                    "the mailer's sample mails the report the renderer's sample writes"
                );
            }
            // A function added by `make new-function`: its own crate's test reads its events as
            // its request; here, each must at least be a JSON object.
            _ => {
                let request: serde_json::Value = sample_event(&event);
                assert!(request.is_object(), "{event} is not a JSON object");
            }
        }
    }
}
