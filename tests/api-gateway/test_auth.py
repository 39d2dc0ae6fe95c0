"""Who may call the API: SigV4 (ApiAuth=IAM, the default) or an API key (ApiAuth=API_KEY)."""

import pytest

ORDER = b'{"item": "x", "customerID": "c"}'
PATHS = ["/orders", "/create_report"]


def security(api, path):
    return api.definition["paths"][path]["post"]["security"]


@pytest.mark.parametrize("path", PATHS)
def test_each_method_asks_for_the_variants_credential(api, path):
    assert security(api, path) == ([{"api_key": []}] if api.uses_api_key else [{"sigv4": []}])
    method = api.imported_method(path)
    assert method["apiKeyRequired"] is api.uses_api_key
    assert method["authorizationType"] == ("NONE" if api.uses_api_key else "AWS_IAM")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("key", [None, "not-the-key"], ids=["no key", "a wrong key"])
def test_without_the_api_key_the_call_is_refused(api, path, key):
    if not api.uses_api_key:
        pytest.skip("ApiAuth=IAM has no API key")
    executions = len(api.executions())
    headers = {"Content-Type": "application/json", **({"x-api-key": key} if key else {})}
    response = api.post(path, ORDER, headers=headers, replace_headers=True)
    # LocalStack checks the key against the usage plans of the stage, as AWS does.
    assert response.status == 403
    assert response.json == {"message": "Forbidden"}
    api.assert_queue_empty()
    assert len(api.executions()) == executions


def test_a_key_outside_the_stages_usage_plans_is_refused(api):
    if not api.uses_api_key:
        pytest.skip("ApiAuth=IAM has no API key")
    stray = api.aws["apigateway"].create_api_key(name="not-in-a-plan", enabled=True)
    try:
        response = api.post("/orders", ORDER, headers={"x-api-key": stray["value"]})
        assert response.status == 403
        api.assert_queue_empty()
    finally:
        api.aws["apigateway"].delete_api_key(apiKey=stray["id"])


@pytest.mark.parametrize("path", PATHS)
def test_iam_mode_is_not_enforced_by_localstack(api, path):
    if api.uses_api_key:
        pytest.skip("ApiAuth=API_KEY")
    # The methods are AWS_IAM (above), which AWS enforces: an unsigned call gets 403 "Missing
    # Authentication Token". LocalStack's community API Gateway checks no SigV4 signature (its
    # invocation chain has no IAM step), so the unsigned call goes through; what this variant
    # shows here is the rest of the API with IAM's definition.
    response = api.post(path, ORDER, headers={"Content-Type": "application/json"}, replace_headers=True)
    assert response.status == (202 if path == "/orders" else 200)
    if path == "/orders":
        api.receive(1)
