"""`make deploy-fn FN=<function>`: a code update of one function that CloudFormation still owns.

`sam deploy --no-execute-changeset` has made a change set of everything `sam build` changed; this
executes it only if it touches nothing but that function: the function itself, the version it
publishes, its alias `live` (which CodeDeploy moves as `DeploymentType` says) and the alias's
deployment group. Anything else (another function's code, the template) is refused, the change
set deleted, and `make deploy` named: nothing is ever changed beside CloudFormation, so a later
`make deploy` finds the stack as it left it, with no drift.

    python deploy/change_set.py <stack> <function logical id> <Unix time before sam deploy ran>
"""

import re
import sys
import time


def changes_beyond(function, changes):
    """The changes of a DescribeChangeSet answer that are not the function's own."""
    # The rollback alarm watches the new version: each new version changes it too.
    own = re.compile(rf"^{re.escape(function)}(Version[0-9a-f]+|Alias\w+|DeploymentGroup|NewVersionErrors)?$")
    return [
        f"{c['ResourceChange']['Action']} {c['ResourceChange']['LogicalResourceId']}"
        for c in changes
        if c.get("Type") == "Resource" and not own.match(c["ResourceChange"]["LogicalResourceId"])
    ]


def newest_available(change_sets, since):
    """The newest change set ready to execute and made at `since` (a Unix time) or later, from a
    ListChangeSets answer: the one `sam deploy` has just made, never an older one (another
    person's, or one waiting for confirmation)."""
    ready = [
        s
        for s in change_sets
        if s["ExecutionStatus"] == "AVAILABLE" and s["Status"] == "CREATE_COMPLETE" and created_at(s) >= since
    ]
    return max(ready, key=created_at, default=None)


def created_at(change_set):
    created = change_set["CreationTime"]
    return created if isinstance(created, (int, float)) else created.timestamp()


def main(stack, function, since):
    import boto3

    cloudformation = boto3.client("cloudformation")
    # A minute's allowance for this machine's clock against CloudFormation's.
    change_set = newest_available(cloudformation.list_change_sets(StackName=stack)["Summaries"], float(since) - 60)
    if change_set is None:
        print(f"deploy-fn: sam deploy made no change set: {function} is as deployed, nothing to do")
        return 0
    arn = change_set["ChangeSetId"]
    changes = cloudformation.describe_change_set(ChangeSetName=arn)["Changes"]
    beyond = changes_beyond(function, changes)
    if beyond:
        cloudformation.delete_change_set(ChangeSetName=arn)
        print(f"deploy-fn: more than {function} would change ({', '.join(beyond)}): run make deploy", file=sys.stderr)
        return 1
    print(
        "deploy-fn: "
        + ", ".join(f"{c['ResourceChange']['Action']} {c['ResourceChange']['LogicalResourceId']}" for c in changes)
    )
    cloudformation.execute_change_set(ChangeSetName=arn)
    cloudformation.get_waiter("stack_update_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
    )
    print(f"deploy-fn: {stack} updated ({time.strftime('%H:%M:%S')})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
