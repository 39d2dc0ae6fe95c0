//! Errors a state machine can tell apart. Step Functions matches a failed Lambda Task's
//! `errorType` against its Retry and Catch rules, so each failure kind carries a stable name.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::Diagnostic;

/// An error with a stable name for Retry/Catch rules (`DatabaseUnavailable`, …).
pub trait NamedError: std::error::Error {
    fn name(&self) -> &'static str;

    /// Whether trying again later can succeed; the state machine retries only these.
    fn retryable(&self) -> bool;
}

/// What Lambda reports for a failed invocation: the error's name as `errorType`.
pub fn diagnostic(error: &impl NamedError) -> Diagnostic {
    Diagnostic {
        error_type: error.name().to_owned(),
        error_message: error.to_string(),
    }
}

/// Declares a function's failure kinds once: the enum (each kind carries its detail as text), its
/// messages, [`NamedError`] (the kind's name is the variant's, `retryable` or `final`),
/// `every_kind()` (one of each, for the state machine's Retry rules to be checked against) and
/// the conversion to Lambda's `Diagnostic`. The crate using it depends on `thiserror`.
///
/// ```ignore
/// cafe_shared::named_errors! {
///     pub enum ReadError {
///         DatabaseUnavailable retryable "the database is unavailable: {0}",
///         DatabaseAccessDenied final "the database refused access: {0}",
///     }
/// }
/// ```
#[macro_export]
macro_rules! named_errors {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($variant:ident $kind:ident $message:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, ::thiserror::Error)]
        pub enum $name {
            $(#[error($message)] $variant(String),)+
        }

        impl $name {
            /// One error of every kind, details empty: what the state machine's Retry rules are
            /// checked against (`tests/tests/state_machine.rs`).
            pub fn every_kind() -> Vec<Self> {
                vec![$(Self::$variant(String::new())),+]
            }
        }

        impl $crate::error::NamedError for $name {
            fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => stringify!($variant),)+
                }
            }

            fn retryable(&self) -> bool {
                match self {
                    $(Self::$variant(_) => $crate::named_errors!(@$kind),)+
                }
            }
        }

        impl From<$name> for ::lambda_runtime::Diagnostic {
            fn from(error: $name) -> Self {
                $crate::error::diagnostic(&error)
            }
        }
    };
    (@retryable) => { true };
    (@final) => { false };
}

/// An AWS SDK error as one line a person can read, for logs and the failure email: the service's
/// own code and message when it sent them (`SlowDown: Please reduce your request rate.`), else the
/// chain of causes (`dispatch failure: io error: connection refused`). The SDK's
/// `DisplayErrorContext` also prints the whole raw response of an unmodelled error.
pub fn aws_error_text<E>(error: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error,
{
    if let Some(code) = error.code() {
        return match error.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_owned(),
        };
    }
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::aws_error_text;
    use aws_smithy_types::error::ErrorMetadata;
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;

    #[derive(Debug)]
    struct Failure(ErrorMetadata, Option<std::io::Error>);

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("dispatch failure")
        }
    }

    impl std::error::Error for Failure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_ref().map(|e| e as _)
        }
    }

    impl ProvideErrorMetadata for Failure {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    #[test]
    fn a_service_error_reads_as_its_code_and_message_and_any_other_as_its_causes() {
        let throttled = ErrorMetadata::builder()
            .code("SlowDown")
            .message("Please reduce your request rate.")
            .build();
        assert_eq!(
            aws_error_text(&Failure(throttled, None)),
            "SlowDown: Please reduce your request rate."
        );
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        assert_eq!(
            aws_error_text(&Failure(ErrorMetadata::default(), Some(refused))),
            "dispatch failure: connection refused"
        );
    }
}
