//! Plain HTTP requests, as a browser or an API client makes them, with any status an answer
//! rather than an error.

/// The agent every request goes through: a 4xx or 5xx is a response to look at, not an error.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A plain HTTP GET, as a browser would follow a link: (status, content type, body).
pub fn http_get(url: &str) -> (u16, String, String) {
    let mut response = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, content_type, body)
}

/// An HTTP POST of `body` as JSON: (status, response body as JSON, or null).
pub fn http_post(url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut request = agent().post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request
        .send(body)
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        response.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}
