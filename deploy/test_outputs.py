"""The operator's verbs find the deployed stack's resources by outputs template.yaml declares."""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import outputs
from samcli.yamlhelper import parse_yaml_file

TEMPLATE = pathlib.Path(__file__).resolve().parent.parent / "template.yaml"


class Outputs(unittest.TestCase):
    def test_every_output_the_verbs_read_is_declared(self):
        declared = parse_yaml_file(str(TEMPLATE))["Outputs"]
        for output in outputs.VARIABLES.values():
            self.assertIn(output, declared)

    def test_exports_are_quoted_for_the_shell(self):
        values = {output: f"value of {output}" for output in outputs.VARIABLES.values()}
        values["OrdersQueueUrl"] = "https://sqs.eu-west-1.amazonaws.com/1/q'; rm -rf /"
        lines = outputs.exports(values)
        self.assertIn("export ORDERS_QUEUE_URL='https://sqs.eu-west-1.amazonaws.com/1/q'\"'\"'; rm -rf /'", lines)
        self.assertEqual(len(lines), len(outputs.VARIABLES))

    def test_the_region_is_the_one_sam_deploy_wrote(self):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            config = pathlib.Path(folder) / "samconfig.toml"
            config.write_text('[default.deploy.parameters]\nregion = "eu-west-1"\n')
            self.assertEqual(outputs.deployed_region(config), "eu-west-1")
            config.write_text("[default.deploy.parameters]\nconfirm_changeset = true\n")
            self.assertIsNone(outputs.deployed_region(config))
            config.write_text('[prod.global.parameters]\nregion = "eu-central-1"\n[dev.deploy.parameters]\nx = 1\n')
            self.assertEqual(outputs.deployed_region(config, "prod"), "eu-central-1")
            self.assertIsNone(outputs.deployed_region(config, "dev"))

    def test_the_order_writer_s_log_group_is_exported_for_dlq_peek(self):
        values = {output: f"value of {output}" for output in outputs.VARIABLES.values()}
        values["OrderWriterLogGroupName"] = "/aws/lambda/cafe-dev-order-writer"
        self.assertIn("export ORDER_WRITER_LOG_GROUP=/aws/lambda/cafe-dev-order-writer", outputs.exports(values))
        declared = parse_yaml_file(str(TEMPLATE))["Outputs"]["OrderWriterLogGroupName"]
        self.assertEqual(declared["Value"], {"Ref": "OrderWriterLogs"})

    def test_a_missing_output_is_named(self):
        with self.assertRaises(SystemExit) as refused:
            outputs.exports({"OrdersQueueUrl": "x"})
        self.assertIn("OrdersDeadLetterQueueUrl", str(refused.exception))


if __name__ == "__main__":
    unittest.main()
