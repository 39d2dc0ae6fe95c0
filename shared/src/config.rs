//! Configuration from environment variables. Every variable a function reads is declared here,
//! with the default it falls back to, so the README, the SAM template and the local stack can be
//! checked against one list.

/// One environment variable and the value used when it is unset or blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
}

impl Setting {
    /// The variable's value, or its default when unset or blank.
    pub fn value(&self) -> String {
        self.value_from(|name| std::env::var(name).ok())
    }

    /// The same lookup over any source of variables, so it can be tested without touching the
    /// process environment.
    pub fn value_from(&self, lookup: impl Fn(&str) -> Option<String>) -> String {
        lookup(self.name)
            .filter(|value| !value.trim().is_empty())
            .unwrap_or_else(|| self.default.to_owned())
    }
}

/// The account the local emulator (moto) uses; the defaults below name its resources so a
/// function run locally needs no configuration. A deployed function always gets real values.
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// The region used when neither `AWS_REGION` nor a profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// DynamoDB table the order-writer stores orders in.
pub const ORDERS_TABLE: Setting = Setting {
    name: "ORDERS_TABLE",
    default: "orders",
};

/// SNS topic the order-notifier announces new orders on.
pub const ORDER_TOPIC_ARN: Setting = Setting {
    name: "ORDER_TOPIC_ARN",
    default: "arn:aws:sns:us-east-1:123456789012:OrderNotifications",
};

/// SNS topic the report emails (and report failures) go to.
pub const REPORT_TOPIC_ARN: Setting = Setting {
    name: "REPORT_TOPIC_ARN",
    default: "arn:aws:sns:us-east-1:123456789012:EmailReport",
};

/// S3 bucket the inventory reports are written to.
pub const REPORTS_BUCKET: Setting = Setting {
    name: "REPORTS_BUCKET",
    default: "cafe-reports",
};

/// Log output: `json` (one JSON object per line, for CloudWatch) or `text` (for people).
pub const LOG_FORMAT: Setting = Setting {
    name: "LOG_FORMAT",
    default: "json",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_falls_back_to_the_default() {
        assert_eq!(ORDERS_TABLE.value_from(|_| None), "orders");
        assert_eq!(ORDERS_TABLE.value_from(|_| Some("  ".into())), "orders");
    }

    #[test]
    fn a_set_value_wins() {
        let table =
            ORDERS_TABLE.value_from(|name| (name == "ORDERS_TABLE").then(|| "prod-orders".into()));
        assert_eq!(table, "prod-orders");
    }

    #[test]
    fn local_defaults_name_the_emulator_account() {
        for topic in [ORDER_TOPIC_ARN, REPORT_TOPIC_ARN] {
            assert!(topic.default.contains(LOCAL_ACCOUNT), "{}", topic.name);
            assert!(topic.default.contains(DEFAULT_REGION), "{}", topic.name);
        }
    }
}
