"""The template checks catch each defect they exist for: every test here plants one in a copy of
template.yaml and expects the transform or deploy/check.py to refuse it.

    .venv/bin/python -m unittest deploy/test_defects.py
"""

import copy
import json
import pathlib
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scaffold"))

import check
import new_function
import transform
from samcli.yamlhelper import parse_yaml_file

TEMPLATE = transform.packaged(parse_yaml_file(str(transform.TEMPLATE)))


def problems(template, **overrides):
    """Everything check.py finds in every variant of the template (overrides: parameter values)."""
    found = []
    for name, values in transform.variants(template):
        values = {**values, **overrides}
        translated = transform.translate(template, values)
        found += [f"[{name}] {p}" for p in check.problems_of(check.Variant(name, translated))]
    return found


def with_a_new_function(description):
    """The template, packaged, with the function `make new-function NAME=stock-alert` adds."""
    with tempfile.TemporaryDirectory() as root:
        shutil.copy(transform.TEMPLATE, root)
        new_function.scaffold(pathlib.Path(root), "stock-alert", description)
        return transform.packaged(parse_yaml_file(f"{root}/template.yaml"))


def api_body(template):
    return template["Resources"]["CafeApi"]["Properties"]["DefinitionBody"]


class TheTemplateAsItIs(unittest.TestCase):
    def test_passes_every_check_in_every_variant(self):
        self.assertEqual(problems(TEMPLATE), [])

    def test_a_change_of_a_functions_settings_publishes_a_version_live_moves_to(self):
        # AutoPublishAliasAllProperties: without it, a new timeout would not reach the alias.
        def versions(template):
            values = dict(next(iter(transform.variants(template)))[1])
            translated = transform.translate(template, values)["Resources"]
            return {n for n, r in translated.items() if r["Type"] == "AWS::Lambda::Version"}

        changed = copy.deepcopy(TEMPLATE)
        changed["Resources"]["ReportMailer"]["Properties"]["Timeout"] = 280
        before, after = versions(TEMPLATE), versions(changed)
        self.assertEqual(len(before - after), 1)
        self.assertTrue(next(iter(before - after)).startswith("ReportMailerVersion"))

    def test_a_function_made_by_make_new_function_passes_every_check(self):
        template = with_a_new_function("Tells the manager which beans run low")
        self.assertIn("StockAlert", template["Resources"])
        self.assertEqual(problems(template), [])

    def test_a_new_function_without_its_throttles_alarm_is_refused(self):
        template = with_a_new_function("x")
        del template["Resources"]["StockAlertThrottles"]
        self.assertIn("no Throttles alarm", "\n".join(problems(template)))


class EachDefectIsCaught(unittest.TestCase):
    def setUp(self):
        self.template = copy.deepcopy(TEMPLATE)
        self.resources = self.template["Resources"]

    def assertCaught(self, needle, **overrides):
        found = problems(self.template, **overrides)
        self.assertTrue(any(needle in p for p in found), f"{needle!r} not in {found}")

    def test_a_usage_plan_behind_an_fn_if_is_refused_by_the_transform(self):
        self.resources["CafeApi"]["Properties"]["Auth"] = {
            "ApiKeyRequired": {"Fn::If": ["UseApiKey", True, False]},
            "UsagePlan": {"Fn::If": ["UseApiKey", {"CreateUsagePlan": "PER_API"}, {"Ref": "AWS::NoValue"}]},
        }
        with self.assertRaisesRegex(Exception, "UsagePlan"):
            problems(self.template)

    def test_an_api_key_on_a_method_in_iam_mode(self):
        api_body(self.template)["paths"]["/orders"]["post"]["security"] = [{"api_key": []}]
        self.assertCaught("security ['api_key'], not ['sigv4'] in IAM mode")

    def test_an_api_without_access_logs(self):
        del self.resources["CafeApi"]["Properties"]["AccessLogSetting"]
        self.assertCaught("CafeApiv1Stage: no access logs")

    def test_access_logs_that_do_not_name_the_caller(self):
        setting = self.resources["CafeApi"]["Properties"]["AccessLogSetting"]
        setting["Format"] = setting["Format"].replace("$context.identity.userArn", "")
        self.assertCaught("the access log format leaves out ['$context.identity.userArn']")

    def test_access_logs_kept_forever(self):
        del self.resources["ApiAccessLogs"]["Properties"]["RetentionInDays"]
        self.assertCaught("ApiAccessLogs: access logs kept forever")

    def test_one_client_policy_for_both_routes(self):
        statement = self.resources["OrdersClientPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        statement["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${CafeApi}/${CafeApi.Stage}/POST/*"
        }
        self.assertCaught("OrdersClientPolicy: one client policy admits ['POST/*'], not one route")
        self.assertCaught("POST/orders: no client policy admits callers to it in IAM mode")

    def test_an_s3_endpoint_to_every_bucket(self):
        del self.resources["ReportsS3Endpoint"]["Properties"]["PolicyDocument"]
        self.assertCaught("ReportsS3Endpoint: no policy: the database subnets may reach every bucket")

    def test_an_s3_endpoint_to_another_bucket(self):
        statement = self.resources["ReportsS3Endpoint"]["Properties"]["PolicyDocument"]["Statement"][0]
        statement["Resource"] = "arn:aws:s3:::somebody-elses-bucket/*"
        self.assertCaught(
            "ReportsS3Endpoint: statement ReaderStoresInventories reaches arn:aws:s3:::somebody-elses-bucket/*"
        )

    def test_an_alarm_pointing_nowhere(self):
        alarm = self.resources["OrdersDlqNotEmpty"]["Properties"]
        alarm["AlarmDescription"] = "Messages are parked. Runbook: README.md, section Runbook."
        self.assertCaught("OrdersDlqNotEmpty: its description does not point to the runbook in docs/operations.md")

    def test_an_alarm_whose_runbook_entry_is_missing(self):
        alarm = self.resources["OrdersDlqNotEmpty"]["Properties"]
        alarm["AlarmDescription"] = 'Parked. Runbook: docs/operations.md, section "Runbook", OrdersParkedForever.'
        self.assertCaught("OrdersDlqNotEmpty: the runbook has no entry OrdersParkedForever")

    def test_every_sqs_answer_mapped_to_202(self):
        integration = api_body(self.template)["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]
        integration["responses"] = {"default": {"statusCode": "202"}}
        self.assertCaught("an unmatched service response answers 202")

    def test_every_sqs_400_answered_as_the_clients_fault(self):
        integration = api_body(self.template)["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]
        integration["responses"]["400"]["responseTemplates"]["application/json"] = '{"error": "refused"}'
        self.assertCaught("POST /orders: every service 400 answers 400: an outage reads as the client's fault")

    def test_a_second_content_type_reaching_the_queue(self):
        # A second template, with or without its model: an importer may keep the one and drop
        # the other (LocalStack's keeps only the first model), and then that form is not checked.
        post = api_body(self.template)["paths"]["/orders"]["post"]
        templates = post["x-amazon-apigateway-integration"]["requestTemplates"]
        templates["application/json; charset=utf-8"] = templates["application/json"]
        self.assertCaught("POST /orders: request templates for ['application/json', 'application/json; charset=utf-8']")
        post["requestBody"]["content"]["application/json; charset=utf-8"] = post["requestBody"]["content"][
            "application/json"
        ]
        self.assertCaught("POST /orders: request templates for ['application/json', 'application/json; charset=utf-8']")

    def test_the_model_bound_to_a_type_without_a_template(self):
        content = api_body(self.template)["paths"]["/orders"]["post"]["requestBody"]["content"]
        content["text/plain"] = content.pop("application/json")
        self.assertCaught("POST /orders: models for ['text/plain'] but templates for ['application/json']")

    def test_a_body_of_another_type_passed_through(self):
        for path in ("/orders", "/create_report"):
            with self.subTest(path=path):
                integration = api_body(self.template)["paths"][path]["post"]["x-amazon-apigateway-integration"]
                integration["passthroughBehavior"] = "when_no_templates"
                self.assertCaught(f"POST {path}: passthroughBehavior 'when_no_templates', not 'never'")
                integration["passthroughBehavior"] = "never"

    def test_an_order_body_not_bound_to_the_order_model(self):
        schema = api_body(self.template)["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]
        schema["schema"] = {"type": "object"}
        self.assertCaught("POST /orders: the application/json body is not bound to the Order model")

    def test_an_order_body_that_is_not_required(self):
        api_body(self.template)["paths"]["/orders"]["post"]["requestBody"]["required"] = False
        self.assertCaught("POST /orders: the request body is not required")

    def test_a_validator_that_does_not_check_the_body(self):
        api_body(self.template)["x-amazon-apigateway-request-validators"]["body"]["validateRequestBody"] = False
        self.assertCaught("POST /orders: no request validator checks the body against its model")

    def test_orders_without_a_request_validator(self):
        del api_body(self.template)["paths"]["/orders"]["post"]["x-amazon-apigateway-request-validator"]
        self.assertCaught("POST /orders: no request validator checks the body against its model")

    def test_a_request_template_reading_another_idempotency_header(self):
        integration = api_body(self.template)["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]
        templates = integration["requestTemplates"]
        templates["application/json"] = templates["application/json"].replace(
            "$input.params('Idempotency-Key')", "$input.params('X-Idempotency-Key')"
        )
        self.assertCaught("POST /orders: the request template does not read the Idempotency-Key header")

    def test_functions_without_an_alias(self):
        del self.template["Globals"]["Function"]["AutoPublishAlias"]
        del self.template["Globals"]["Function"]["DeploymentPreference"]
        for function in self.resources.values():
            function.get("Properties", {}).pop("DeploymentPreference", None)
        # The state machine names the aliases, which are gone: name the functions instead.
        machine = self.resources["ReportStateMachine"]["Properties"]
        for key, value in machine["DefinitionSubstitutions"].items():
            if "Ref" in value and value["Ref"].endswith("Aliaslive"):
                machine["DefinitionSubstitutions"][key] = {"Fn::GetAtt": [value["Ref"][: -len("Aliaslive")], "Arn"]}
        self.resources["ReportStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0][
            "Resource"
        ] = [{"Fn::GetAtt": [f, "Arn"]} for f in ("InventoryReader", "ReportRenderer", "ReportMailer")]
        self.assertCaught("OrderWriter: no alias: a new version takes every call at once")

    def test_a_rollout_stopped_by_another_functions_alarm(self):
        self.resources["OrderWriter"]["Properties"]["DeploymentPreference"]["Alarms"] = [
            {"Ref": "OrderNotifierNewVersionErrors"}
        ]
        self.assertCaught("OrderWriterDeploymentGroup: no alarm on the errors of OrderWriter's new version")

    def test_a_rollout_stopped_by_an_alarm_on_every_version(self):
        # In ALARM while the old version fails, it would refuse the deploy of the fix.
        self.resources["OrderWriter"]["Properties"]["DeploymentPreference"]["Alarms"].append(
            {"Ref": "OrderWriterErrors"}
        )
        self.assertCaught("OrderWriterDeploymentGroup: OrderWriterErrors watches every version")

    def test_a_rollback_alarm_on_a_version_the_alias_does_not_move_to(self):
        dimensions = self.resources["OrderWriterNewVersionErrors"]["Properties"]["Dimensions"]
        dimensions[2]["Value"] = "1"
        self.assertCaught("OrderWriterDeploymentGroup: no alarm on the errors of OrderWriter's new version")

    def test_a_rollback_alarm_on_a_statistic_that_misses_the_first_error(self):
        self.resources["OrderWriterNewVersionErrors"]["Properties"]["Statistic"] = "Minimum"
        self.assertCaught("OrderWriterNewVersionErrors: the Minimum of Errors: not Sum, Maximum or Average")

    def test_a_rollback_alarm_slower_than_a_rollout_step(self):
        # Linear10PercentEvery1Minute moves more traffic every 60 s.
        alarm = self.resources["OrderWriterNewVersionErrors"]["Properties"]
        alarm["Period"] = 300
        self.assertCaught("OrderWriterNewVersionErrors: counts errors over 300 s; a DeploymentType moves more")

    def test_a_rollback_alarm_that_needs_more_than_one_error(self):
        alarm = self.resources["OrderWriterNewVersionErrors"]["Properties"]
        alarm.update({"Period": 30, "EvaluationPeriods": 2, "DatapointsToAlarm": 2})
        self.assertCaught("OrderWriterNewVersionErrors: needs 2 periods with errors")

    def test_a_rollback_alarm_that_counts_no_calls_as_errors(self):
        self.resources["OrderWriterNewVersionErrors"]["Properties"]["TreatMissingData"] = "breaching"
        self.assertCaught("OrderWriterNewVersionErrors: TreatMissingData breaching")

    def test_a_function_wide_errors_alarm_narrowed_to_the_alias(self):
        dimensions = self.resources["OrderWriterErrors"]["Properties"]["Dimensions"]
        dimensions.append({"Name": "Resource", "Value": {"Fn::Sub": "${OrderWriter}:live"}})
        self.assertCaught("OrderWriter: no Errors alarm")

    def test_the_state_machine_calling_a_function_through_a_sub(self):
        machine = self.resources["ReportStateMachine"]["Properties"]
        machine["DefinitionSubstitutions"]["ReportMailerArn"] = {"Fn::Sub": "${ReportMailer.Arn}"}
        self.assertCaught("ReportStateMachine: ReportMailerArn names the function itself, not its alias")

    def test_an_alias_named_through_a_sub_passes(self):
        machine = self.resources["ReportStateMachine"]["Properties"]
        machine["DefinitionSubstitutions"]["ReportMailerArn"] = {"Fn::Sub": "${ReportMailer.Arn}:live"}
        role = self.resources["ReportStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        role["Statement"][0]["Resource"].append({"Fn::Sub": "arn:${AWS::Partition}:lambda:::${ReportMailer}:live"})
        self.assertEqual([p for p in problems(self.template) if "alias" in p or "ReportMailer" in p], [])

    def test_the_state_machine_role_invoking_a_function_past_its_alias(self):
        statement = self.resources["ReportStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        statement["Statement"][0]["Resource"].append({"Fn::Sub": "${ReportRenderer.Arn}"})
        self.assertCaught("ReportStateMachine: its role may invoke the function ['ReportRenderer'] itself")

    def test_the_state_machine_calling_a_function_past_its_alias(self):
        machine = self.resources["ReportStateMachine"]["Properties"]
        machine["DefinitionSubstitutions"]["ReportMailerArn"] = {"Fn::GetAtt": ["ReportMailer", "Arn"]}
        self.assertCaught("ReportStateMachine: ReportMailerArn names the function itself, not its alias")

    def test_the_request_body_passed_to_the_state_machine(self):
        integration = api_body(self.template)["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
        integration["requestTemplates"]["application/json"] = (
            '{"input": "$util.escapeJavaScript($input.json(\'$\'))", "stateMachineArn": "x"}'
        )
        self.assertCaught("the request body reaches the execution's input")

    def test_a_generated_role_with_the_event_sources_managed_policy(self):
        writer = self.resources["OrderWriter"]["Properties"]
        del writer["Role"], self.resources["OrderWriterRole"]
        writer["Policies"] = [{"Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "x"}]}]
        self.assertCaught("OrderWriterRole: managed policies")

    def test_a_data_plane_action_on_every_resource(self):
        role = self.resources["ReportRendererRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        role["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
        self.assertCaught("['s3:GetObject'] on every resource")

    def test_one_policy_for_both_topics(self):
        policy = self.resources["OrderNotificationsTopicPolicy"]["Properties"]
        policy["Topics"].append({"Ref": "EmailReportTopic"})
        self.assertCaught("one policy for 2 topics")

    def test_a_link_expiry_past_the_signing_session(self):
        self.template["Parameters"]["ReportLinkExpirySeconds"]["MaxValue"] = 604800
        self.assertCaught("ReportLinkExpirySeconds allows 604800")

    def test_a_fixed_name_on_the_retained_table(self):
        self.resources["OrdersTable"]["Properties"]["TableName"] = "orders"
        self.assertCaught("OrdersTable: fixed ['TableName']")

    def test_orders_parked_after_three_receives(self):
        self.resources["OrdersQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] = 3
        self.assertCaught("OrdersQueue: maxReceiveCount 3 parks valid orders when Lambda is throttled")

    def test_a_mailer_that_gives_up_before_the_renderer_s_retries(self):
        self.resources["ReportMailer"]["Properties"]["Environment"]["Variables"]["REPORT_WAIT_SECONDS"] = "60"
        self.assertCaught("ReportMailer: waits 60 s for the report, but RenderReport may take 231 s")

    def assertCaughtWithTask(self, state, change, needle):
        """Caught with the state machine's `state` task changed by `change` (a planted definition)."""
        definition = json.loads(check.STATE_MACHINE.read_text())
        change(check.task_states(definition["States"])[state])
        with tempfile.TemporaryDirectory() as folder:
            planted = pathlib.Path(folder) / "report.asl.json"
            planted.write_text(json.dumps(definition))
            with mock.patch.object(check, "STATE_MACHINE", planted):
                self.assertCaught(needle)

    def test_a_longer_render_the_mailer_s_wait_does_not_cover(self):
        self.resources["ReportRenderer"]["Properties"]["Timeout"] = 60
        self.assertCaughtWithTask(
            "RenderReport",
            lambda task: task.update(TimeoutSeconds=120),
            "ReportMailer: waits 240 s for the report, but RenderReport may take 441 s",
        )

    def test_a_render_task_with_more_retries_than_the_wait_covers(self):
        self.assertCaughtWithTask(
            "RenderReport",
            lambda task: task["Retry"][1].update(MaxAttempts=6),
            "ReportMailer: waits 240 s for the report, but RenderReport may take 377 s",
        )

    def test_a_mail_task_that_stops_the_mailer_while_it_waits(self):
        self.assertCaughtWithTask(
            "MailReport",
            lambda task: task.update(TimeoutSeconds=120),
            "MailReport: TimeoutSeconds 120 stops the mailer before its Timeout of 270 s",
        )

    def test_a_mailer_stopped_by_its_own_timeout_while_it_waits(self):
        self.resources["ReportMailer"]["Properties"]["Timeout"] = 90
        self.assertCaught("ReportMailer: Timeout 90 s does not outlast its wait of 240 s")

    def test_reports_sharing_the_orders_throttle(self):
        settings = self.resources["CafeApi"]["Properties"]["MethodSettings"]
        self.resources["CafeApi"]["Properties"]["MethodSettings"] = settings[:1]
        self.assertCaught("POST /create_report has no throttle of its own")

    def test_the_stage_sam_adds_without_open_api_version(self):
        del self.resources["CafeApi"]["Properties"]["OpenApiVersion"]
        self.assertCaught("a second stage 'Stage'")

    def test_a_topic_policy_that_only_allows(self):
        policy = self.resources["EmailReportTopicPolicy"]["Properties"]["PolicyDocument"]
        policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
        self.assertCaught("no Deny keeps other roles of the account from publishing")

    def test_no_reserved_concurrency_for_the_reader(self):
        del self.resources["InventoryReader"]["Properties"]["ReservedConcurrentExecutions"]
        self.assertCaught("reserved concurrency None, asked for 2")

    def test_a_function_without_an_errors_alarm(self):
        del self.resources["OrderWriterErrors"]
        self.assertCaught("OrderWriter: no Errors alarm")

    def test_a_function_without_a_throttles_alarm(self):
        del self.resources["InventoryReaderThrottles"]
        self.assertCaught("InventoryReader: no Throttles alarm")

    def test_a_parking_queue_without_an_alarm(self):
        del self.resources["NotifierFailuresNotEmpty"]
        self.assertCaught("NotifierFailureQueue: parks messages, and no alarm goes off")

    def test_a_dlq_alarm_that_waits_for_ten_messages(self):
        self.resources["OrdersDlqNotEmpty"]["Properties"]["Threshold"] = 10
        self.assertCaught("OrdersDeadLetterQueue: parks messages, and no alarm goes off")

    def test_the_ops_topic_on_the_aws_managed_key(self):
        self.resources["OpsTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
        self.assertCaught("OpsTopic: encrypted with alias/aws/sns, not a key of this stack that CloudWatch may use")

    def test_an_ops_key_cloudwatch_may_not_use(self):
        policy = self.resources["OpsTopicKey"]["Properties"]["KeyPolicy"]
        policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "CloudWatchAlarmsPublishEncrypted"]
        self.assertCaught("OpsTopicKey: 0 statements for CloudWatch, not the one the SNS guide documents")

    def cloudwatch_key_statement(self):
        policy = self.resources["OpsTopicKey"]["Properties"]["KeyPolicy"]
        return next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsPublishEncrypted")

    def test_an_ops_key_statement_with_a_condition_cloudwatch_does_not_send(self):
        self.cloudwatch_key_statement()["Condition"]["StringEquals"]["kms:ViaService"] = "sns.us-east-1.amazonaws.com"
        self.assertCaught("condition keys the SNS guide does not document for it (StringEquals kms:viaservice)")

    def test_an_ops_key_any_alarm_may_use(self):
        self.cloudwatch_key_statement()["Condition"]["ArnLike"]["aws:SourceArn"] = {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
        }
        self.assertCaught("OpsTopicKey: CloudWatch may use the key for alarms other than this stack's")

    def test_an_ops_key_for_every_topic(self):
        del self.cloudwatch_key_statement()["Condition"]["StringEquals"]
        self.assertCaught("OpsTopicKey: CloudWatch may use the key for topics other than OpsTopic")

    def test_an_alarm_that_is_silent_when_it_clears(self):
        del self.resources["Api5xx"]["Properties"]["OKActions"]
        self.assertCaught("Api5xx: OKActions None, not [OpsTopic] alone")

    def test_an_alarm_notifying_another_topic(self):
        self.resources["OrderStreamBehind"]["Properties"]["AlarmActions"] = [{"Ref": "OrderNotificationsTopic"}]
        self.assertCaught("OrderStreamBehind: AlarmActions")

    def test_an_alarm_the_ops_topic_would_refuse(self):
        self.resources["ReportExecutionFailed"]["Properties"]["AlarmName"] = "ReportExecutionFailed"
        self.assertCaught("ReportExecutionFailed: AlarmName ReportExecutionFailed does not start with the stack's name")

    def test_the_other_topics_deny_on_the_ops_topic(self):
        policy = self.resources["OpsTopicPolicy"]["Properties"]["PolicyDocument"]
        deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
        deny["Condition"] = {"StringNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["OrderNotifierRole", "Arn"]}}}
        self.assertCaught("OpsTopic: statement NoOtherPublishers denies CloudWatch's publishing too")

    def test_an_ops_topic_policy_naming_another_topic(self):
        self.resources["OpsTopicPolicy"]["Properties"]["Topics"].append({"Ref": "OrderNotificationsTopic"})
        self.assertCaught("OpsTopicPolicy: one policy for 2 topics")

    def test_a_dashboard_metric_the_functions_do_not_emit(self):
        dashboard = self.resources["CafeDashboard"]["Properties"]
        body = dashboard["DashboardBody"]["Fn::Sub"]
        dashboard["DashboardBody"]["Fn::Sub"] = body.replace('"OrdersStored"', '"OrderStored"')
        self.assertCaught("CafeDashboard: the functions emit no metric Cafe/OrderStored")

    def test_a_dashboard_metric_no_longer_in_the_functions_list(self):
        # The list is read from shared/src/metrics.rs: a metric dropped there is refused here.
        source = pathlib.Path(check.METRICS_SOURCE).read_text()
        with tempfile.TemporaryDirectory() as folder:
            edited = pathlib.Path(folder) / "metrics.rs"
            edited.write_text(source.replace("    (ORDERS_STORED, Unit::Count),\n", ""))
            namespace, metrics = check.emitted_metrics(edited)
        self.assertEqual(namespace, "Cafe")
        self.assertEqual(metrics, check.CAFE_METRICS - {"OrdersStored"})
        with mock.patch.object(check, "CAFE_METRICS", metrics):
            self.assertCaught("CafeDashboard: the functions emit no metric Cafe/OrdersStored")

    def test_an_alarm_missing_from_the_dashboard(self):
        dashboard = self.resources["CafeDashboard"]["Properties"]
        body = dashboard["DashboardBody"]["Fn::Sub"]
        dashboard["DashboardBody"]["Fn::Sub"] = body.replace('"${Api5xx.Arn}",', "")
        self.assertCaught("CafeDashboard: the alarms ['Api5xx'] are not on it")

    def schedule(self):
        return self.resources["ScheduledReport"]["Properties"]

    def schedule_role(self):
        return self.resources["ScheduledReportRole"]["Properties"]

    def test_a_schedule_without_its_condition(self):
        del self.resources["ScheduledReport"]["Condition"]
        self.assertCaught("[defaults] ScheduledReport: a schedule is created with ReportSchedule empty")
        self.assertCaught("ScheduledReport: no condition keeps it off when ReportSchedule is empty")

    def test_a_schedule_on_a_condition_that_holds_when_it_is_empty(self):
        self.resources["ScheduledReport"]["Condition"] = "UseIam"
        self.assertCaught("ScheduledReport: no condition keeps it off when ReportSchedule is empty")

    def test_a_schedule_starting_something_else(self):
        self.schedule()["Target"]["Arn"] = {"Fn::GetAtt": ["OrdersQueue", "Arn"]}
        self.assertCaught("ScheduledReport: its target is {'Fn::GetAtt': ['OrdersQueue', 'Arn']}, not the report's")

    def test_a_schedule_in_utc_whatever_the_cafe_s_time_zone(self):
        self.schedule()["ScheduleExpressionTimezone"] = "UTC"
        self.assertCaught("ScheduledReport: runs in the time zone UTC, not the café's (CafeTimeZone)")

    def test_a_schedule_with_a_flexible_window(self):
        self.schedule()["FlexibleTimeWindow"] = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 60}
        self.assertCaught("ScheduledReport: a flexible time window")

    def test_a_schedule_sending_another_input_than_the_api(self):
        self.schedule()["Target"]["Input"] = '{"source": "schedule"}'
        self.assertCaught(
            """starts the report with the input '{"source": "schedule"}', not what POST /create_report sends ('{}')"""
        )

    def test_an_api_sending_another_input_than_the_schedule(self):
        integration = api_body(self.template)["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
        template = integration["requestTemplates"]["application/json"]
        template["Fn::Sub"] = template["Fn::Sub"].replace('"input": "{}"', '"input": "{\\"source\\": \\"api\\"}"')
        self.assertCaught("""input '{}', not what POST /create_report sends ('{"source": "api"}')""")

    def test_an_api_input_computed_by_the_request_template(self):
        integration = api_body(self.template)["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
        template = integration["requestTemplates"]["application/json"]
        template["Fn::Sub"] = template["Fn::Sub"].replace('"input": "{}"', '"input": "$context.requestId"')
        self.assertCaught('POST /create_report: its execution input "$context.requestId" is computed (VTL)')

    def test_a_schedule_role_anyone_may_assume(self):
        trust = self.schedule_role()["AssumeRolePolicyDocument"]["Statement"][0]
        trust["Principal"] = {"Service": ["scheduler.amazonaws.com", "lambda.amazonaws.com"]}
        self.assertCaught(
            "ScheduledReportRole: assumed by {'Service': ['scheduler.amazonaws.com', 'lambda.amazonaws.com']}"
        )

    def test_a_schedule_role_any_account_s_schedules_may_assume(self):
        del self.schedule_role()["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
        self.assertCaught("ScheduledReportRole: any account's schedules may assume it (no aws:SourceAccount")

    def test_a_schedule_role_for_another_account_or_any_account_like_a_pattern(self):
        trust = self.schedule_role()["AssumeRolePolicyDocument"]["Statement"][0]
        trust["Condition"] = {"StringEquals": {"aws:SourceAccount": "111122223333"}}
        self.assertCaught("ScheduledReportRole: any account's schedules may assume it (no aws:SourceAccount")
        trust["Condition"] = {"StringLike": {"aws:SourceAccount": "*"}}
        self.assertCaught("ScheduledReportRole: any account's schedules may assume it (no aws:SourceAccount")

    def test_a_schedule_role_for_this_account_written_otherwise_passes(self):
        trust = self.schedule_role()["AssumeRolePolicyDocument"]["Statement"][0]
        for account in ([{"Ref": "AWS::AccountId"}], {"Fn::Sub": "${AWS::AccountId}"}):
            trust["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
            self.assertEqual([p for p in problems(self.template) if "ScheduledReportRole" in p], [])

    def test_a_role_allowed_everything_but_a_resource(self):
        statement = self.schedule_role()["Policies"][0]["PolicyDocument"]["Statement"][1]
        statement["NotResource"] = statement.pop("Resource")
        self.assertCaught("ScheduledReportRole: an Allow with NotResource grants all it does not name")

    def test_a_schedule_role_allowed_by_exclusion(self):
        statement = self.schedule_role()["Policies"][0]["PolicyDocument"]["Statement"][0]
        statement["NotAction"] = statement.pop("Action")
        self.assertCaught("ScheduledReportRole: an Allow with NotAction grants all it does not name")
        self.assertCaught("ScheduledReportRole: may not start ReportStateMachine: the schedule would start nothing")

    def test_a_schedule_beside_no_api_to_compare_its_input_with(self):
        # Only a translated template can lose its RestApi: SAM makes it from CafeApi, which the
        # functions' events need.
        name, values = next((n, v) for n, v in transform.variants(self.template) if v.get("ReportSchedule"))
        translated = transform.translate(self.template, values)
        for api in [n for n, r in translated["Resources"].items() if r["Type"] == "AWS::ApiGateway::RestApi"]:
            del translated["Resources"][api]
        found = []
        check.check_schedule(check.Variant(name, translated), found)
        self.assertIn("no RestApi: what POST /create_report sends cannot be set beside the schedule's input", found)

    def test_cloudwatch_publishing_by_another_spelling_for_any_account(self):
        # IAM reads actions without case and with wildcards: SNS:Publish and sns:* are sns:Publish.
        statements = self.resources["OpsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        for action in ("SNS:Publish", "sns:*"):
            statements.append(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": action,
                    "Resource": {"Ref": "OpsTopic"},
                }
            )
            self.assertCaught("OpsTopic: CloudWatch may publish for any account's alarms")
            statements.pop()

    def test_cloudwatch_publishing_for_another_account_s_alarms(self):
        for statement in self.resources["OpsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
            if "aws:SourceAccount" in statement.get("Condition", {}).get("StringEquals", {}):
                statement["Condition"]["StringEquals"]["aws:SourceAccount"] = "111122223333"
        self.assertCaught("OpsTopic: CloudWatch may publish for any account's alarms (no aws:SourceAccount equal")

    def test_a_schedule_role_that_may_do_more_than_start_the_report(self):
        statements = self.schedule_role()["Policies"][0]["PolicyDocument"]["Statement"]
        statements[0]["Action"] = ["states:StartExecution", "states:StopExecution"]
        statements.append(
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Ref": "ReportMailerAliaslive"}}
        )
        self.assertCaught("ScheduledReportRole: may states:StopExecution on {'Ref': 'ReportStateMachine'}")
        self.assertCaught("ScheduledReportRole: may lambda:InvokeFunction on {'Ref': 'ReportMailerAliaslive'}")

    def test_a_schedule_role_that_may_start_another_state_machine(self):
        statement = self.schedule_role()["Policies"][0]["PolicyDocument"]["Statement"][0]
        statement["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:*"
        }
        self.assertCaught("ScheduledReportRole: may states:StartExecution on {'Fn::Sub'")
        self.assertCaught("ScheduledReportRole: may not start ReportStateMachine: the schedule would start nothing")

    def test_a_schedule_s_dead_letter_queue_without_an_alarm(self):
        del self.resources["ScheduledReportNotStarted"]
        self.assertCaught("ScheduledReportDeadLetterQueue: parks messages, and no alarm goes off")


if __name__ == "__main__":
    unittest.main()
