//! template.yaml as the tests and the benchmark read it: the functions and what the local stack
//! calls each resource (`Metadata.LocalName`, see `local/resources.py`), so neither writes a
//! name down again.

use serde_yaml::Value;

use crate::workspace::workspace_root;

/// The template, parsed (CloudFormation's `!Ref`-style tags are kept as tagged values).
pub fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml"))
        .expect("template.yaml is readable");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// Every function (named after its crate, the last part of its `CodeUri`), in the template's
/// order.
pub fn functions() -> Vec<String> {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .map(|r| {
            let code = r["Properties"]["CodeUri"].as_str().expect("CodeUri");
            code.rsplit('/').next().unwrap_or(code).to_owned()
        })
        .collect()
}

/// What the local stack calls the resource with this logical id.
pub fn local_name(logical_id: &str) -> String {
    template()["Resources"][logical_id]["Metadata"]["LocalName"]
        .as_str()
        .unwrap_or_else(|| panic!("template.yaml: {logical_id} has no Metadata.LocalName"))
        .to_owned()
}

/// The orders table's key attribute, as the template declares it (a string, the only key).
pub fn orders_table_key() -> String {
    let properties = &template()["Resources"]["OrdersTable"]["Properties"];
    let key = properties["KeySchema"][0]["AttributeName"]
        .as_str()
        .expect("OrdersTable has a KeySchema");
    assert_eq!(
        properties["AttributeDefinitions"][0],
        serde_yaml::from_str::<Value>(&format!("{{AttributeName: {key}, AttributeType: S}}"))
            .unwrap(),
        "the orders table's key is one string attribute"
    );
    key.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_are_the_crates_under_functions() {
        let mut crates: Vec<String> = std::fs::read_dir(workspace_root().join("functions"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        crates.sort();
        let mut deployed = functions();
        deployed.sort();
        assert_eq!(deployed, crates);
    }

    #[test]
    fn the_orders_table_is_keyed_by_the_stored_orders_id() {
        let stored = cafe_shared::order::StoredOrder {
            order_id: "o-1".into(),
            received_at: chrono::Utc::now(),
            message_id: "m-1".into(),
            order: serde_json::from_str(r#"{"item": "x", "customerID": "1"}"#).unwrap(),
        };
        let item = serde_json::to_value(stored).unwrap();
        assert_eq!(item[orders_table_key()], "o-1");
    }

    #[test]
    fn a_resource_without_a_local_name_is_named_in_the_failure() {
        let failure = std::panic::catch_unwind(|| local_name("OrderWriterRole")).unwrap_err();
        let message = failure.downcast_ref::<String>().unwrap();
        assert!(message.contains("OrderWriterRole"), "{message}");
    }
}
