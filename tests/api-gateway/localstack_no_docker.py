"""LocalStack's runtime with two patches, for creating the whole stack on a machine without Docker
or internet (`tests/deploy/`, `make test-deploy`). Used only by that test harness.

Functions: a function version is made Active without what only running it needs.

LocalStack prepares each function version for running when it is created: it downloads its
Lambda runtime-init binary (from GitHub), pulls the runtime's Docker image, and unpacks the code.
Without Docker, and without the internet, the first two fail, the version is `Failed`, and
CloudFormation's AWS::Lambda::Function (and every version, alias and mapping after it) fails with
it. The patch keeps the unpacking of the code (a zip that is not one still fails the function, as
on AWS) and leaves out the two steps only an invocation needs. Nothing here invokes a function.

DynamoDB: LocalStack's DynamoDB provider forwards every request (and makes calls of its own) to a
DynamoDB Local server, a Java program it downloads at first use, which this machine cannot. The
server's port is `DYNAMODB_LOCAL_PORT`; the harness starts a moto server there (moto speaks
DynamoDB and DynamoDB Streams), and the patch tells LocalStack that server is up rather than
starting Java.

    (localstack_host.LocalStack runs this file as LocalStack's main, when given it)
"""

import runpy

from localstack.services.dynamodb import server as dynamodb_server
from localstack.services.lambda_.invocation import docker_runtime_executor


def prepare_version_without_docker(cls, function_version) -> None:
    if function_version.config.code:
        function_version.config.code.prepare_for_execution()


docker_runtime_executor.DockerRuntimeExecutor.prepare_version = classmethod(prepare_version_without_docker)
dynamodb_server.DynamodbServer.start_dynamodb = lambda self: True
dynamodb_server.DynamodbServer.is_up = lambda self: True
dynamodb_server.DynamodbServer.is_running = lambda self: True
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
