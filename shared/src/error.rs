//! Errors a state machine can tell apart. Step Functions matches a failed Lambda Task's
//! `errorType` against its Retry and Catch rules, so each failure kind carries a stable name.

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
