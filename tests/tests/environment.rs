//! Every environment variable a function reads is set for it, in the SAM template and in the
//! local stack; and a setting's default that names a resource names the local stack's (so a
//! function run by hand finds the stack's resources). A function's settings are found in its
//! sources: each `cafe_shared::config` constant is named after its variable.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use cafe_shared::config::{ALL, DEFAULT_REGION, LOCAL_ACCOUNT};
use cafe_tests::template::{self, local_name, template};
use cafe_tests::workspace_root;
use serde_yaml::Value;

/// Read, but rightly not set by the deployment: the local database URL (deployed, the reader
/// uses `DB_HOST` and the secret), an optional CA bundle, and logging knobs Lambda sets itself
/// from the function's `LoggingConfig` (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`).
const LEFT_TO_DEFAULTS_WHEN_DEPLOYED: [&str; 5] = [
    "DATABASE_URL",
    "DB_CA_FILE",
    "AWS_LAMBDA_LOG_FORMAT",
    "RUST_LOG",
    "AWS_LAMBDA_LOG_LEVEL",
];
/// Read, but left to their defaults locally: an optional CA bundle (the reader connects without
/// TLS here) and the log knobs.
const LEFT_TO_DEFAULTS_LOCALLY: [&str; 4] = [
    "DB_CA_FILE",
    "RUST_LOG",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_LOG_FORMAT",
];

fn is_identifier(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The settings a function reads: every config constant its sources (and the shared crate's
/// code it calls into) name.
fn settings_read_by(function: &str) -> BTreeSet<&'static str> {
    let root = workspace_root();
    let mut text = String::new();
    let src = root.join("functions").join(function).join("src");
    for file in std::fs::read_dir(&src).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            text += &std::fs::read_to_string(path).unwrap();
        }
    }
    // Every function logs: telemetry reads the log settings.
    text += &std::fs::read_to_string(root.join("shared/src/telemetry.rs")).unwrap();
    let words: BTreeSet<&str> = text.split(|c: char| !is_identifier(c)).collect();
    ALL.iter()
        .map(|s| s.name)
        .filter(|name| words.contains(name))
        .collect()
}

fn functions() -> Vec<String> {
    let mut names = template::functions();
    names.sort();
    names
}

/// Function (by its crate, from CodeUri) → the environment variables the template sets for it.
fn template_environments() -> BTreeMap<String, BTreeSet<String>> {
    let template = template();
    let mut environments = BTreeMap::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let code = resource["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let crate_name = code
            .strip_prefix("functions/")
            .expect("a function crate")
            .to_owned();
        let variables = resource["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .map(|m| m.keys().map(|k| k.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        environments.insert(crate_name, variables);
    }
    environments
}

#[test]
fn every_function_is_in_the_template() {
    let deployed: Vec<String> = template_environments().into_keys().collect();
    assert_eq!(deployed, functions());
}

#[test]
fn the_template_sets_every_variable_each_function_reads() {
    let environments = template_environments();
    for function in functions() {
        let set = &environments[&function];
        for name in settings_read_by(&function) {
            if LEFT_TO_DEFAULTS_WHEN_DEPLOYED.contains(&name) {
                continue;
            }
            assert!(
                set.contains(name),
                "template.yaml does not set {name} for {function}"
            );
        }
        for name in set {
            assert!(
                settings_read_by(&function).contains(name.as_str()),
                "template.yaml sets {name} for {function}, which never reads it"
            );
        }
    }
}

#[test]
fn the_local_stack_sets_every_variable_each_function_reads() {
    // The project's Python (make tools), which has PyYAML for reading template.yaml.
    let venv = workspace_root().join(".venv/bin/python");
    let python = if venv.exists() {
        venv
    } else {
        "python3".into()
    };
    let output = Command::new(python)
        .arg(workspace_root().join("local/stack.py"))
        .arg("env")
        .output()
        .expect("Python runs local/stack.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let local: BTreeMap<String, String> = serde_json::from_slice(&output.stdout).unwrap();
    for function in functions() {
        for name in settings_read_by(&function) {
            if LEFT_TO_DEFAULTS_LOCALLY.contains(&name) {
                continue;
            }
            assert!(
                local.contains_key(name),
                "the local stack does not set {name} for {function}"
            );
        }
    }
}

/// Every `VARIABLE: !Ref Resource` the template sets for a function: (variable, resource).
fn variables_naming_a_resource() -> Vec<(String, String)> {
    let template = template();
    let mut found = Vec::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        let Some(variables) = resource["Properties"]["Environment"]["Variables"].as_mapping()
        else {
            continue;
        };
        for (name, value) in variables {
            if let Value::Tagged(tagged) = value
                && tagged.tag == "!Ref"
                && let Some(target) = tagged.value.as_str()
                && template["Resources"].get(target).is_some()
            {
                found.push((name.as_str().unwrap().to_owned(), target.to_owned()));
            }
        }
    }
    found
}

#[test]
fn a_default_that_names_a_resource_names_the_local_stacks() {
    let template = template();
    let named = variables_naming_a_resource();
    assert!(named.len() >= 4, "{named:?}");
    for (variable, resource) in named {
        let setting = ALL.iter().find(|s| s.name == variable).unwrap();
        // `!Ref` of a topic is its ARN, of a table or bucket its name.
        let expected = if template["Resources"][&resource]["Type"] == "AWS::SNS::Topic" {
            format!(
                "arn:aws:sns:{DEFAULT_REGION}:{LOCAL_ACCOUNT}:{}",
                local_name(&resource)
            )
        } else {
            local_name(&resource)
        };
        assert_eq!(setting.default, expected, "the default of {variable}");
    }
}

#[test]
fn the_search_finds_what_a_function_reads() {
    // A guard on the guard: the source scan sees the writer's one setting and the reader's pool.
    assert!(settings_read_by("order-writer").contains("ORDERS_TABLE"));
    assert!(!settings_read_by("order-writer").contains("REPORTS_BUCKET"));
    assert!(settings_read_by("inventory-reader").contains("DB_SECRET_ARN"));
}
