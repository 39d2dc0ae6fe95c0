"""What the report schedule sends is what the API sends, and what `make report` sends locally: the
schedule's Target.Input and POST /create_report's request template, both read from template.yaml,
and the StartExecution local/report.py makes, on moto's Step Functions.

    .venv/bin/python -m unittest deploy/test_schedule.py
"""

import copy
import json
import os
import pathlib
import sys
import unittest
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "local"))

import check
import report
from resources import TemplateError, read_template
from samcli.yamlhelper import parse_yaml_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATE = parse_yaml_file(str(ROOT / "template.yaml"))


def schedules(template):
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Scheduler::Schedule"}


class WhatTheScheduleSends(unittest.TestCase):
    def test_the_schedule_sends_the_input_the_api_sends(self):
        (schedule,) = schedules(TEMPLATE).values()
        sent_by_api = check.create_report_input(TEMPLATE["Resources"]["CafeApi"]["Properties"]["DefinitionBody"])
        self.assertEqual(schedule["Properties"]["Target"]["Input"], sent_by_api)
        # Both are JSON, as Step Functions takes an input.
        self.assertIsInstance(json.loads(sent_by_api), dict)

    def test_make_report_reads_the_schedule_s_input(self):
        (schedule,) = schedules(TEMPLATE).values()
        self.assertEqual(report.schedule_input(), schedule["Properties"]["Target"]["Input"])
        # Read from the template, not written again in report.py: another input there is followed.
        changed = copy.deepcopy(read_template())
        (name,) = schedules(changed)
        changed["Resources"][name]["Properties"]["Target"]["Input"] = '{"when": "nightly"}'
        self.assertEqual(report.schedule_input(changed), '{"when": "nightly"}')

    def test_make_report_says_what_is_missing_from_the_template(self):
        without = copy.deepcopy(read_template())
        for name in schedules(without):
            del without["Resources"][name]
        with self.assertRaisesRegex(TemplateError, "template.yaml has 0 schedules"):
            report.schedule_input(without)
        computed = copy.deepcopy(read_template())
        (name,) = schedules(computed)
        computed["Resources"][name]["Properties"]["Target"]["Input"] = {"Fn::Sub": "{}"}
        with self.assertRaisesRegex(TemplateError, "Target.Input is"):
            report.schedule_input(computed)

    def test_make_report_starts_the_execution_the_schedule_starts(self):
        # On moto's Step Functions: the input is the schedule's, and the execution is named with a
        # UUID, as Step Functions names a scheduled start; two starts are two executions.
        import boto3
        from moto import mock_aws

        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            machine = sfn.create_state_machine(
                name="InventoryReport",
                definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
                roleArn="arn:aws:iam::123456789012:role/report",
            )["stateMachineArn"]
            execution = report.start_as_scheduled(sfn, machine, report.schedule_input())
            again = report.start_as_scheduled(sfn, machine, report.schedule_input())
            described = sfn.describe_execution(executionArn=execution)
        self.assertEqual(described["input"], check.create_report_input(api_body()))
        self.assertEqual(described["stateMachineArn"], machine)
        self.assertEqual(str(uuid.UUID(described["name"])), described["name"])
        self.assertNotEqual(again, execution)


def api_body():
    return TEMPLATE["Resources"]["CafeApi"]["Properties"]["DefinitionBody"]


class TheApiInputAsRead(unittest.TestCase):
    def test_is_the_request_template_s_literal_input(self):
        body = copy.deepcopy(api_body())
        integration = body["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
        template = integration["requestTemplates"]["application/json"]
        template["Fn::Sub"] = template["Fn::Sub"].replace('"input": "{}"', '"input": "{\\"a\\": \\"b\\\\\\"c\\"}"')
        self.assertEqual(check.create_report_input(body), '{"a": "b\\"c"}')

    def test_refuses_an_input_the_template_computes(self):
        body = copy.deepcopy(api_body())
        integration = body["paths"]["/create_report"]["post"]["x-amazon-apigateway-integration"]
        template = integration["requestTemplates"]["application/json"]
        template["Fn::Sub"] = template["Fn::Sub"].replace('"input": "{}"', '"input": "$util.escapeJavaScript($x)"')
        with self.assertRaisesRegex(ValueError, "computed"):
            check.create_report_input(body)


if __name__ == "__main__":
    unittest.main()
