//! @name@: @description@.
//!
//! Made by `make new-function`: a function invoked with a JSON request, answering with JSON. Make
//! `Request`, `Answer` and `answer` what the function does, and keep the shape: the logic in
//! plain functions here, tested without a runtime; `main.rs` only wires the runtime, the logs,
//! traces and metrics (`cafe_shared::telemetry`, `cafe_shared::metrics`).

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};

/// What the function is invoked with (`events/@name@/default.json` is one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub name: String,
}

/// What it answers.
#[derive(Debug, PartialEq, Serialize)]
pub struct Answer {
    pub greeting: String,
}

/// The longest name taken, in characters.
pub const MAX_NAME_CHARS: usize = 100;

cafe_shared::named_errors! {
    /// Why a request failed, named for a state machine's Retry and Catch rules.
    pub enum @Type@Error {
        InvalidRequest final "the request is not valid: {0}",
    }
}

/// The answer to one request, or why it has none.
pub fn answer(request: &Request) -> Result<Answer, @Type@Error> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(@Type@Error::InvalidRequest("name is empty".into()));
    }
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Err(@Type@Error::InvalidRequest(format!(
            "name has {length} characters, more than {MAX_NAME_CHARS}"
        )));
    }
    Ok(Answer {
        greeting: format!("Hello, {name}!"),
    })
}

pub async fn handle(event: LambdaEvent<Request>) -> Result<Answer, @Type@Error> {
    let answered = answer(&event.payload);
    if let Err(error) = &answered {
        tracing::warn!(%error, "request refused");
    }
    answered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str) -> Request {
        Request { name: name.into() }
    }

    #[test]
    fn a_name_is_greeted_without_its_surrounding_spaces() {
        assert_eq!(answer(&request("  Ada ")).unwrap().greeting, "Hello, Ada!");
    }

    #[test]
    fn an_empty_name_is_refused_as_an_invalid_request() {
        let error = answer(&request(" ")).unwrap_err();
        assert!(matches!(error, @Type@Error::InvalidRequest(_)));
        assert_eq!(error.to_string(), "the request is not valid: name is empty");
    }

    #[test]
    fn a_name_is_taken_up_to_its_longest_and_refused_beyond() {
        assert!(answer(&request(&"é".repeat(MAX_NAME_CHARS))).is_ok());
        assert!(answer(&request(&"é".repeat(MAX_NAME_CHARS + 1))).is_err());
    }
}
