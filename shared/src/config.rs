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

/// Lowest bean quantity that is not flagged as low stock in the report.
pub const LOW_STOCK_THRESHOLD: Setting = Setting {
    name: "LOW_STOCK_THRESHOLD",
    default: "50",
};

/// The currency the report's prices and stock value are in: an ISO 4217 code, three ASCII
/// capital letters that ISO 4217 lists (any other value is refused at cold start). `USD`, `EUR`
/// and `GBP` are shown with their symbol before the amount (`$1,234.50`, `€1,234.50`,
/// `£1,234.50`), any other code after it (`1,234.50 CHF`); with as many decimals as the
/// currency's minor unit (`1,235 JPY`, `1,234.500 KWD`) and thousands separators. The prices
/// themselves are not converted: this names the currency the database has them in.
pub const REPORT_CURRENCY: Setting = Setting {
    name: "REPORT_CURRENCY",
    default: "USD",
};

/// The café's time zone, an IANA name such as `Europe/London` or `America/New_York`: every time
/// the report and its emails show is in it, with its abbreviation (`09:30 GMT`, `10:30 BST`).
/// Any name the IANA database does not have is refused at cold start.
pub const CAFE_TIME_ZONE: Setting = Setting {
    name: "CAFE_TIME_ZONE",
    default: "UTC",
};

/// How long the report link in the email works, in seconds (1 to 3600: the signing session's
/// lifetime bounds a presigned link).
pub const REPORT_LINK_EXPIRY_SECONDS: Setting = Setting {
    name: "REPORT_LINK_EXPIRY_SECONDS",
    default: "900",
};

/// How long the mailer waits for the rendered report to appear before giving up, in seconds: as
/// long as the renderer may take with every retry (template.yaml, ReportMailer, says how).
pub const REPORT_WAIT_SECONDS: Setting = Setting {
    name: "REPORT_WAIT_SECONDS",
    default: "240",
};

/// The coffee database, as a URL; used when `DB_HOST` is not set.
pub const DATABASE_URL: Setting = Setting {
    name: "DATABASE_URL",
    default: "mysql://root@127.0.0.1:3306/coffee",
};

/// The deployed form: database host, port, user and name, with the password read from the
/// Secrets Manager secret `DB_SECRET_ARN` (its `password` field, or the whole secret string).
pub const DB_HOST: Setting = Setting {
    name: "DB_HOST",
    default: "",
};
pub const DB_PORT: Setting = Setting {
    name: "DB_PORT",
    default: "3306",
};
pub const DB_USER: Setting = Setting {
    name: "DB_USER",
    default: "admin",
};
pub const DB_NAME: Setting = Setting {
    name: "DB_NAME",
    default: "COFFEE",
};
pub const DB_SECRET_ARN: Setting = Setting {
    name: "DB_SECRET_ARN",
    default: "",
};
/// With `DB_HOST`: how long the password read from `DB_SECRET_ARN` is used before it is read
/// again, in seconds. A refused login reads it again at once, whatever this says.
pub const DB_SECRET_TTL_SECONDS: Setting = Setting {
    name: "DB_SECRET_TTL_SECONDS",
    default: "300",
};
/// With `DB_HOST`: `required` (TLS with the server's certificate and host name checked, the
/// default) or `disabled`; any other value is refused at cold start.
pub const DB_TLS: Setting = Setting {
    name: "DB_TLS",
    default: "required",
};
/// With TLS: a PEM file of root certificates trusted in addition to the compiled-in Amazon RDS CA
/// bundle (RDS, Aurora, RDS Proxy) and the webpki roots, e.g. a private CA or a region newer than
/// the bundle. Read at cold start; a missing file or one without certificates fails it.
pub const DB_CA_FILE: Setting = Setting {
    name: "DB_CA_FILE",
    default: "",
};
pub const DB_CONNECT_TIMEOUT_SECONDS: Setting = Setting {
    name: "DB_CONNECT_TIMEOUT_SECONDS",
    default: "5",
};
pub const DB_QUERY_TIMEOUT_SECONDS: Setting = Setting {
    name: "DB_QUERY_TIMEOUT_SECONDS",
    default: "10",
};

/// Every setting above. Each constant is named after its variable, so a function's sources show
/// which settings it reads (the environment test relies on this).
pub const ALL: [Setting; 23] = [
    ORDERS_TABLE,
    ORDER_TOPIC_ARN,
    REPORT_TOPIC_ARN,
    REPORTS_BUCKET,
    LOW_STOCK_THRESHOLD,
    REPORT_CURRENCY,
    CAFE_TIME_ZONE,
    REPORT_LINK_EXPIRY_SECONDS,
    REPORT_WAIT_SECONDS,
    DATABASE_URL,
    DB_HOST,
    DB_PORT,
    DB_USER,
    DB_NAME,
    DB_SECRET_ARN,
    DB_SECRET_TTL_SECONDS,
    DB_TLS,
    DB_CA_FILE,
    DB_CONNECT_TIMEOUT_SECONDS,
    DB_QUERY_TIMEOUT_SECONDS,
    // Logging (telemetry.rs): Lambda's controls first, as the Rust runtime reads them.
    Setting {
        name: "AWS_LAMBDA_LOG_FORMAT",
        default: "Text",
    },
    Setting {
        name: "AWS_LAMBDA_LOG_LEVEL",
        default: "info",
    },
    Setting {
        name: "RUST_LOG",
        default: "info",
    },
];

impl Setting {
    /// The value parsed, with an error naming the variable when it does not parse.
    pub fn parse<T: std::str::FromStr>(&self) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.parse_from(|name| std::env::var(name).ok())
    }

    /// [`Setting::parse`] over any source of variables, as [`Setting::value_from`].
    pub fn parse_from<T: std::str::FromStr>(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.value_from(lookup);
        value
            .parse()
            .map_err(|e| format!("{}={value:?} is not valid: {e}", self.name))
    }
}

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
    fn a_value_that_does_not_parse_is_refused_by_name() {
        let threshold: i64 = LOW_STOCK_THRESHOLD.parse_from(|_| None).unwrap();
        assert_eq!(threshold, 50);
        let error = LOW_STOCK_THRESHOLD
            .parse_from::<i64>(|_| Some("fifty".into()))
            .unwrap_err();
        assert!(
            error.starts_with("LOW_STOCK_THRESHOLD=\"fifty\" is not valid: "),
            "{error}"
        );
    }

    #[test]
    fn the_report_currency_is_a_setting_defaulting_to_dollars() {
        assert!(ALL.contains(&REPORT_CURRENCY));
        assert_eq!(REPORT_CURRENCY.value_from(|_| None), "USD");
        let euro =
            REPORT_CURRENCY.value_from(|name| (name == "REPORT_CURRENCY").then(|| "EUR".into()));
        assert_eq!(euro, "EUR");
    }

    #[test]
    fn every_setting_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn local_defaults_name_the_emulator_account() {
        for topic in [ORDER_TOPIC_ARN, REPORT_TOPIC_ARN] {
            assert!(topic.default.contains(LOCAL_ACCOUNT), "{}", topic.name);
            assert!(topic.default.contains(DEFAULT_REGION), "{}", topic.name);
        }
    }
}
