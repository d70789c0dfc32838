"""Least privilege, checked on the IAM roles SAM actually generates.

Each role's grants are flattened to (action, resource, condition) and compared with
an exact expected set, so a widened policy fails as surely as a missing one; each set
is what that role's handler code (functions/thumbnailer) or definition (statemachine/)
calls, and test_definition_grants.py derives the state machines' from their definitions.
Buckets and resource-based policies are in test_resource_policies.py.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

import pytest

from tests.reliability import record
from tests.template.grants import Grant, role_logical_id, statements

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY_WRITE = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"

# For Tracing, SAM attaches the AWSXrayWriteOnlyAccess managed policy (listed below)
# and adds no inline X-Ray statements: this is the exact inline set it adds.
SAM_XRAY_INLINE_GRANTS: frozenset[Grant] = frozenset()

SOURCE_READ: set[Grant] = {
    ("s3:GetObject", "SourceBucket/*", ""),
    ("s3:GetObjectVersion", "SourceBucket/*", ""),
    ("s3:ListBucket", "SourceBucket", ""),
}
# Without s3:ListBucket, S3 answers a missing key with 403, which the handlers could not tell
# from a refusal; every HEAD/GET of a key that may be absent needs it on that bucket.
LIST_BOTH_BUCKETS: set[Grant] = {
    ("s3:ListBucket", "SourceBucket", ""),
    ("s3:ListBucket", "ThumbnailBucket", ""),
}

# Express executions keep their history only in CloudWatch Logs. The execution role gets the
# policy Step Functions documents for that, action for action, on Resource "*" as documented
# (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy);
# only with EXPRESS.
EXPRESS_LOGGING_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:CreateLogStream",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutLogEvents",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
EXPRESS_LOGGING_GRANTS = {(action, "*", "IsExpress") for action in EXPRESS_LOGGING_ACTIONS}

ALERTS: set[Grant] = {("sns:Publish", "topic:AlertTopic", "")}
# ownership.look/claim: a strongly consistent GetItem, then a conditional PutItem, on the one table.
CLAIM_STEMS: set[Grant] = {
    ("dynamodb:GetItem", "NameClaimsTable", ""),
    ("dynamodb:PutItem", "NameClaimsTable", ""),
}
OUTCOME_EVENTS: set[Grant] = {("events:PutEvents", "event-bus/default", "")}
# startExecution.sync:2 of ThumbnailWorkflow, as Step Functions documents it
# (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html, "Synchronous").
RUN_THUMBNAIL_WORKFLOW_SYNC: set[Grant] = {
    ("states:StartExecution", "ThumbnailWorkflow", ""),
    ("states:DescribeExecution", "execution:ThumbnailWorkflow:*", ""),
    ("states:StopExecution", "execution:ThumbnailWorkflow:*", ""),
    ("events:PutTargets", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule", ""),
    ("events:PutRule", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule", ""),
    ("events:DescribeRule", "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule", ""),
}
# A Distributed Map starts child executions of its own state machine
# (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html): StartExecution
# on it and DescribeExecution on its executions, as documented; Describe/StopExecution on the
# child executions (<name>/<map run>:<id>) so an aborted run can stop them.
DISTRIBUTED_MAP_OF_BACKFILL: set[Grant] = {
    ("states:StartExecution", "stateMachine:BackfillWorkflow", ""),
    ("states:DescribeExecution", "execution:BackfillWorkflow:*", ""),
    ("states:DescribeExecution", "execution:BackfillWorkflow/*", ""),
    ("states:StopExecution", "execution:BackfillWorkflow/*", ""),
    # ItemReader arn:aws:states:::s3:listObjectsV2 over the source bucket.
    ("s3:ListBucket", "SourceBucket", ""),
}

EXPECTED_GRANTS: dict[str, set[Grant]] = {
    "ValidateFunction": SOURCE_READ | SAM_XRAY_INLINE_GRANTS,
    "ResizeFunction": SOURCE_READ
    | {
        ("s3:ListBucket", "ThumbnailBucket", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("s3:PutObject", "ThumbnailBucket/*", ""),  # thumbnails only
        ("s3:PutObjectTagging", "ThumbnailBucket/*", ""),
        *CLAIM_STEMS,
        # faces.focus, only with FaceAwareCrops=true; Detect* take no resource ARN.
        ("rekognition:DetectFaces", "*", "FaceAwareCropsOn"),
    }
    | SAM_XRAY_INLINE_GRANTS,
    "FlagFunction": {
        ("s3:GetObjectTagging", "SourceBucket/*", ""),
        ("s3:GetObjectVersionTagging", "SourceBucket/*", ""),
        ("s3:PutObjectTagging", "SourceBucket/*", ""),
        ("s3:PutObjectVersionTagging", "SourceBucket/*", ""),
    }
    | SAM_XRAY_INLINE_GRANTS,
    "ThumbnailWorkflow": {
        ("lambda:InvokeFunction", "function:ValidateFunction*", ""),
        ("lambda:InvokeFunction", "function:ResizeFunction*", ""),
        ("lambda:InvokeFunction", "function:FlagFunction*", ""),
        # Rekognition reads the image with the caller's rights, hence s3:GetObject.
        ("rekognition:DetectModerationLabels", "*", "ModerationOn"),
        ("s3:GetObject", "SourceBucket/*", "ModerationOn"),
    }
    | ALERTS
    | OUTCOME_EVENTS
    | EXPRESS_LOGGING_GRANTS
    | SAM_XRAY_INLINE_GRANTS,
    # The role SAM makes for the EventBridge rule that starts the workflow.
    "ThumbnailWorkflowUpload": {("states:StartExecution", "ThumbnailWorkflow", "")},
    # Reads sources (never writes them), writes tagged thumbnails, reads Configure's sizes;
    # drops its own render lease (<thumbnail key>.rendering, deleted If-Match) and nothing else.
    "OnDemandFunction": {
        ("s3:GetObject", "SourceBucket/*", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("s3:PutObject", "ThumbnailBucket/*", ""),
        ("s3:DeleteObject", "ThumbnailBucket/*.rendering", ""),
        ("s3:PutObjectTagging", "ThumbnailBucket/*", ""),
        ("states:DescribeStateMachine", "ThumbnailWorkflow", ""),
    }
    | CLAIM_STEMS
    | LIST_BOTH_BUCKETS
    | SAM_XRAY_INLINE_GRANTS,
    # purging.purge: HEAD the source (is it back?), list and HEAD the stem's thumbnails, delete
    # them conditionally (If-Match: needs s3:GetObject too,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-delete-enforce.html), and
    # release the name claim with one conditional DeleteItem; a key uploaded again meanwhile
    # gets it back (GetItem, then a conditional PutItem, as the renderers claim).
    "PurgeFunction": {
        ("s3:GetObject", "SourceBucket/*", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("s3:DeleteObject", "ThumbnailBucket/*", ""),
        ("dynamodb:DeleteItem", "NameClaimsTable", ""),
        ("dynamodb:GetItem", "NameClaimsTable", ""),
        ("dynamodb:PutItem", "NameClaimsTable", ""),
    }
    | LIST_BOTH_BUCKETS
    | SAM_XRAY_INLINE_GRANTS,
    # The workflow invalidates the purged paths itself (a state of its own, retried apart from
    # the deletes): CreateInvalidation on the one distribution
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html).
    "PurgeWorkflow": {("lambda:InvokeFunction", "function:PurgeFunction*", ""),
                      ("cloudfront:CreateInvalidation", "distribution/ThumbnailDistribution", "")}
    | ALERTS
    | OUTCOME_EVENTS
    | SAM_XRAY_INLINE_GRANTS,
    # The role SAM makes for the EventBridge rule that starts the purge.
    "PurgeWorkflowDelete": {("states:StartExecution", "PurgeWorkflow", "")},
    # staleness.check: Configure's sizes (DescribeStateMachine), HEAD each size's thumbnail,
    # the stem's claim (GetItem), the source's tags (flagged?), HEAD of the claim's owner, and
    # the source's header (admission.judge, a ranged GET). Never a write.
    "BackfillFunction": {
        ("states:DescribeStateMachine", "ThumbnailWorkflow", ""),
        ("s3:GetObject", "SourceBucket/*", ""),
        ("s3:GetObjectTagging", "SourceBucket/*", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("dynamodb:GetItem", "NameClaimsTable", ""),
    }
    | LIST_BOTH_BUCKETS
    | SAM_XRAY_INLINE_GRANTS,
    "BackfillWorkflow": {("lambda:InvokeFunction", "function:BackfillFunction*", "")}
    | ALERTS
    | DISTRIBUTED_MAP_OF_BACKFILL
    | RUN_THUMBNAIL_WORKFLOW_SYNC
    | SAM_XRAY_INLINE_GRANTS,
}

FUNCTIONS = ("ValidateFunction", "ResizeFunction", "FlagFunction", "OnDemandFunction", "PurgeFunction",
             "BackfillFunction")
STATE_MACHINES = ("ThumbnailWorkflow", "PurgeWorkflow", "BackfillWorkflow")
RULES = ("ThumbnailWorkflowUpload", "PurgeWorkflowDelete")

EXPECTED_MANAGED_POLICIES: dict[str, list[str]] = {
    **{f: [BASIC_EXECUTION, XRAY_WRITE] for f in FUNCTIONS},
    **{m: [XRAY_WRITE] for m in STATE_MACHINES},
    **{r: [] for r in RULES},
}

EXPECTED_TRUSTED_SERVICE: dict[str, str] = {
    **{f: "lambda.amazonaws.com" for f in FUNCTIONS},
    **{m: "states.amazonaws.com" for m in STATE_MACHINES},
    **{r: "events.amazonaws.com" for r in RULES},
}

# Actions granted on "*": those that take no resource ARN, and the Express logging policy
# exactly as Step Functions documents it.
STAR_RESOURCE_ACTION_PREFIXES = ("rekognition:Detect", "xray:", *EXPRESS_LOGGING_ACTIONS)


def listed(items: Iterable[tuple[str, ...]]) -> str:
    """What a check found, for its reliability row: "none" only when it found nothing."""
    return "; ".join(" ".join(item) for item in items) or "none"


# ---------------------------------------------------------------- per-role expectations


def test_every_generated_role_is_accounted_for(
    translated: dict[str, Any], roles: dict[str, dict[str, Any]]
) -> None:
    """A role nobody checks is a role nobody reviews; a function or rule added without its
    expected grants fails here."""
    assert set(roles) == set(EXPECTED_GRANTS) == set(EXPECTED_MANAGED_POLICIES)
    assert set(roles) == set(EXPECTED_TRUSTED_SERVICE)
    all_roles = {k for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    checked = {role_logical_id(translated, owner) for owner in roles}
    assert all_roles == checked
    assert len(checked) == len(roles), "two owners share one role"


@pytest.mark.parametrize("owner", sorted(EXPECTED_GRANTS))
def test_role_grants_exactly(all_grants: dict[str, set[Grant]], owner: str) -> None:
    """Each role may do what its job needs, and nothing more."""
    actual = all_grants[owner]
    expected = EXPECTED_GRANTS[owner]
    unexpected, missing = sorted(actual - expected), sorted(expected - actual)
    assert actual == expected, {"unexpected": unexpected, "missing": missing}
    record("Security", f"IAM role of {owner}: exact grants",
           "exactly the listed (action, resource, condition) set",
           f"{len(actual)} grants; extra: {listed(unexpected)}; missing: {listed(missing)}")


@pytest.mark.parametrize("owner", sorted(EXPECTED_MANAGED_POLICIES))
def test_role_managed_policies(roles: dict[str, dict[str, Any]], owner: str) -> None:
    """Only the logging and tracing policies SAM attaches; never a broad AWS policy."""
    attached = roles[owner]["Properties"].get("ManagedPolicyArns", [])
    assert sorted(attached) == sorted(EXPECTED_MANAGED_POLICIES[owner])


@pytest.mark.parametrize("owner", sorted(EXPECTED_TRUSTED_SERVICE))
def test_role_trusts_only_its_service(roles: dict[str, dict[str, Any]], owner: str) -> None:
    """A role assumable by another service would lend it these grants."""
    trust = roles[owner]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": ["sts:AssumeRole"],
            "Effect": "Allow",
            "Principal": {"Service": [EXPECTED_TRUSTED_SERVICE[owner]]},
        }
    ]


# ---------------------------------------------------------------- global rules


def test_statements_are_plain_allows(roles: dict[str, dict[str, Any]]) -> None:
    """NotAction/NotResource, Deny or an IAM Condition (which the flattening does not carry)
    would make the flattened grants misleading."""
    odd = [
        (owner, statement)
        for owner, role in roles.items()
        for statement, _ in statements(role)
        if statement.get("Effect") != "Allow"
        or {"NotAction", "NotResource", "NotPrincipal", "Condition"} & set(statement)
    ]
    assert odd == []


def test_no_wildcard_or_privileged_actions(all_grants: dict[str, set[Grant]]) -> None:
    """s3:*, * and iam:PassRole would make every other expectation meaningless."""
    bad = sorted(
        (owner, action)
        for owner, owner_grants in all_grants.items()
        for action, _, _ in owner_grants
        if "*" in action or action.lower() == "iam:passrole"
    )
    assert bad == []
    record("Security", "IAM: wildcard actions (s3:*, *) and iam:PassRole", "none in any role", listed(bad))


def test_star_resource_only_for_resourceless_actions(all_grants: dict[str, set[Grant]]) -> None:
    """Only actions that have no resource ARN may name '*'."""
    bad = sorted(
        (owner, action)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if resource == "*" and not action.startswith(STAR_RESOURCE_ACTION_PREFIXES)
    )
    assert bad == []
    on_star = sorted({action for owner_grants in all_grants.values()
                      for action, resource, _ in owner_grants if resource == "*"})
    record("Security", "IAM: Resource \"*\"",
           "only rekognition:Detect*, xray:*, Express logging (as AWS documents it)",
           f"{len(on_star)} actions ({', '.join(on_star)}); any other: {listed(bad)}")


def test_nobody_writes_or_deletes_sources(all_grants: dict[str, set[Grant]]) -> None:
    """Source bytes are never changed: only tags may be written on SourceBucket."""
    bad = sorted(
        (owner, action, resource)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if resource.startswith("SourceBucket")
        and (action in {"s3:PutObject", "s3:PutObjectAcl"} or action.startswith("s3:Delete"))
    )
    assert bad == []
    record("Security", "IAM: PutObject/PutObjectAcl/Delete* on SourceBucket", "none", listed(bad))


def test_validate_cannot_touch_thumbnails(all_grants: dict[str, set[Grant]]) -> None:
    """Validation only reads headers; it has no business with the output bucket."""
    touching = sorted(g for g in all_grants["ValidateFunction"] if "ThumbnailBucket" in g[1])
    assert touching == []
    record("Security", "IAM: Validate on ThumbnailBucket", "no grant at all", listed(touching))


# Everything a role may do on SourceBucket: read, list, and (FlagFunction only) tag.
SOURCE_READ_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
SOURCE_TAG_ACTIONS = {
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
}
# S3 actions whose resource is the bucket itself; every other S3 action acts on objects.
BUCKET_LEVEL_PREFIXES = ("s3:ListBucket", "s3:GetBucket", "s3:PutBucket", "s3:DeleteBucket")


def s3_grants(all_grants: dict[str, set[Grant]]) -> list[tuple[str, str, str]]:
    """(owner, action, resource) of every S3 grant."""
    return sorted(
        (owner, action, resource)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if action.startswith("s3:")
    )


def test_source_bucket_is_only_read_or_tagged(all_grants: dict[str, set[Grant]]) -> None:
    """An allowlist, not a denylist: RestoreObject, PutObjectAcl, CopyObject's PutObject... all fail."""
    on_source = [g for g in s3_grants(all_grants) if g[2].startswith("SourceBucket")]
    assert on_source
    not_read_or_tag = [g for g in on_source if g[1] not in SOURCE_READ_ACTIONS | SOURCE_TAG_ACTIONS]
    assert not_read_or_tag == []
    taggers = {owner for owner, action, _ in on_source if action.startswith("s3:PutObject")}
    assert taggers == {"FlagFunction"}
    record("Security", "IAM: writes to SourceBucket",
           "none except tags, by FlagFunction only",
           f"{len(on_source)} source grants; not read/list/tag: {listed(not_read_or_tag)}; "
           f"tag writers: {', '.join(sorted(taggers))}")


def test_object_actions_on_objects_and_list_on_the_bucket(all_grants: dict[str, set[Grant]]) -> None:
    """Object actions name bucket/* (or a narrower bucket/*.<suffix>), bucket actions the bucket:
    never the other way round."""

    def well_placed(action: str, resource: str) -> bool:
        bucket = resource.partition("/")[0]
        if bucket not in ("SourceBucket", "ThumbnailBucket"):
            return False
        if action.startswith(BUCKET_LEVEL_PREFIXES):
            return resource == bucket
        narrower = resource.startswith(f"{bucket}/*.") and "*" not in resource[len(bucket) + 2:]
        return resource == f"{bucket}/*" or narrower

    grants = s3_grants(all_grants)
    misplaced = [g for g in grants if not well_placed(g[1], g[2])]
    assert misplaced == []
    buckets = sorted({resource.partition("/")[0] for _, _, resource in grants})
    record("Security", "IAM: S3 resource shapes",
           "object actions on <bucket>/*, list on <bucket>, only the two buckets",
           f"{len(grants)} S3 grants on {', '.join(buckets)}; misplaced: {listed(misplaced)}")


def test_only_renderers_write_thumbnails(all_grants: dict[str, set[Grant]]) -> None:
    """Resize and the on-demand resizer put thumbnails, nobody else."""
    writers = {
        owner for owner, action, resource in s3_grants(all_grants)
        if resource.startswith("ThumbnailBucket") and action.startswith("s3:Put")
    }
    assert writers == {"ResizeFunction", "OnDemandFunction"}
    record("Security", "IAM: writes to ThumbnailBucket", "ResizeFunction and OnDemandFunction only",
           ", ".join(sorted(writers)))


def test_name_claims_are_items_of_one_table_only_renderers_write_and_the_purge_drops(
    all_grants: dict[str, set[Grant]],
) -> None:
    """Every DynamoDB grant is an item action on NameClaimsTable: the renderers look and claim,
    the backfill looks, the purge releases (and claims back for a key uploaded again while it
    ran); no Scan, Query, UpdateItem or table action."""
    grants = sorted((owner, action, resource) for owner, owner_grants in all_grants.items()
                    for action, resource, _ in owner_grants if action.startswith("dynamodb:"))
    assert {resource for _, _, resource in grants} == {"NameClaimsTable"}
    by_action: dict[str, set[str]] = {}
    for owner, action, _ in grants:
        by_action.setdefault(action, set()).add(owner)
    assert by_action == {
        "dynamodb:GetItem": {"ResizeFunction", "OnDemandFunction", "BackfillFunction", "PurgeFunction"},
        "dynamodb:PutItem": {"ResizeFunction", "OnDemandFunction", "PurgeFunction"},
        "dynamodb:DeleteItem": {"PurgeFunction"}}
    record("Security", "IAM: the name-claims table",
           "GetItem/PutItem by the renderers and the purge (claiming back), GetItem by the backfill, "
           "DeleteItem by the purge, on NameClaimsTable only", listed(grants))


def test_only_the_purge_deletes_and_only_thumbnails(all_grants: dict[str, set[Grant]]) -> None:
    """Thumbnails of a deleted source go with it; nothing else is ever deleted (the lifecycle
    expires the rest) but the on-demand resizer's own render leases, and no version is ever
    deleted for good."""
    deletes = sorted(g for g in s3_grants(all_grants) if g[1].startswith("s3:Delete"))
    assert deletes == [("OnDemandFunction", "s3:DeleteObject", "ThumbnailBucket/*.rendering"),
                       ("PurgeFunction", "s3:DeleteObject", "ThumbnailBucket/*")]
    record("Security", "IAM: deletes",
           "s3:DeleteObject on ThumbnailBucket/* by PurgeFunction, on ThumbnailBucket/*.rendering "
           "by OnDemandFunction; nothing else", listed(deletes))


def test_conditional_deletes_can_be_evaluated(all_grants: dict[str, set[Grant]]) -> None:
    """A delete with If-Match on an ETag needs s3:GetObject as well as s3:DeleteObject
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-delete-enforce.html)."""
    for owner, owner_grants in all_grants.items():
        for action, resource, cond in owner_grants:
            if action == "s3:DeleteObject":
                readable = [r for a, r, c in owner_grants
                            if a == "s3:GetObject" and c == cond and fnmatch.fnmatchcase(resource, r)]
                assert readable, (owner, resource)


def test_invalidation_only_of_this_distribution(
    translated: dict[str, Any], all_grants: dict[str, set[Grant]]
) -> None:
    """The purge workflow may invalidate paths of the stack's distribution, which its definition
    names; nothing may change or invalidate any other distribution."""
    cloudfront = sorted(
        (owner, action, resource, cond)
        for owner, owner_grants in all_grants.items()
        for action, resource, cond in owner_grants
        if action.startswith("cloudfront:")
    )
    assert cloudfront == [
        ("PurgeWorkflow", "cloudfront:CreateInvalidation", "distribution/ThumbnailDistribution", "")
    ]
    subs = translated["Resources"]["PurgeWorkflow"]["Properties"]["DefinitionSubstitutions"]
    assert subs["DistributionId"] == {"Ref": "ThumbnailDistribution"}  # Ref is the distribution id
    record("Security", "IAM: CloudFront", "CreateInvalidation on this stack's distribution, by "
           "PurgeWorkflow only",
           f"{listed(g[:3] for g in cloudfront)}; DistributionId = Ref {subs['DistributionId']['Ref']}")


def test_outcome_events_only_on_the_default_bus(all_grants: dict[str, set[Grant]]) -> None:
    """The two workflows that publish outcomes may put events on the default bus, nowhere else."""
    puts = sorted(
        (owner, resource)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if action == "events:PutEvents"
    )
    assert puts == [("PurgeWorkflow", "event-bus/default"), ("ThumbnailWorkflow", "event-bus/default")]
    others = sorted(
        (owner, action, resource)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if action.startswith("events:") and action != "events:PutEvents"
    )
    # Only the managed rule through which startExecution.sync learns of a child's end.
    assert {resource for _, _, resource in others} == {
        "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"}
    assert {owner for owner, _, _ in others} == {"BackfillWorkflow"}


def test_executions_start_only_the_stacks_own_workflows(all_grants: dict[str, set[Grant]]) -> None:
    """Every states:* grant names one of this stack's state machines or its executions."""
    machines = set(STATE_MACHINES)
    for owner, owner_grants in all_grants.items():
        for action, resource, _ in owner_grants:
            if action.startswith("states:"):
                name = resource.removeprefix("stateMachine:").removeprefix("execution:")
                name = name.split(":", 1)[0].split("/", 1)[0]
                assert name in machines, (owner, action, resource)


def test_ondemand_buckets_come_from_configuration(
    translated: dict[str, Any], all_grants: dict[str, set[Grant]]
) -> None:
    """The resizer reads SourceBucket named by the template, never a bucket a request could name."""
    env = translated["Resources"]["OnDemandFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SOURCE_BUCKET"] == {"Ref": "SourceBucket"}
    assert env["THUMBNAIL_BUCKET"] == {"Ref": "ThumbnailBucket"}
    buckets = {resource.partition("/")[0] for _, action, resource in s3_grants(
        {"OnDemandFunction": all_grants["OnDemandFunction"]})}
    assert buckets == {"SourceBucket", "ThumbnailBucket"}
    reads = {action for owner, action, resource in s3_grants(all_grants)
             if owner == "OnDemandFunction" and resource.startswith("SourceBucket")}
    assert reads <= SOURCE_READ_ACTIONS
    record("Security", "IAM: on-demand resizer's buckets",
           "SOURCE_BUCKET=Ref SourceBucket; S3 grants on SourceBucket (read) and ThumbnailBucket only",
           f"SOURCE_BUCKET=Ref {env['SOURCE_BUCKET']['Ref']}; S3 grants on {', '.join(sorted(buckets))}; "
           f"on SourceBucket: {', '.join(sorted(reads))}")


def test_moderation_grants_exist_only_when_moderation_is_on(
    all_grants: dict[str, set[Grant]],
) -> None:
    """With ModerationEnabled=false the workflow must not be able to call Rekognition."""
    rekognition = {g for g in all_grants["ThumbnailWorkflow"] if g[0].startswith("rekognition:")}
    assert rekognition
    assert {cond for _, _, cond in rekognition} == {"ModerationOn"}


def test_face_grants_exist_only_when_face_aware_crops_are_on(
    translated: dict[str, Any], all_grants: dict[str, set[Grant]],
) -> None:
    """DetectFaces only for the Resize role and only under FaceAwareCropsOn (default false); the
    role that calls it can read the source as Rekognition does: the object and its version."""
    faces = {(owner, g) for owner, owner_grants in all_grants.items() for g in owner_grants
             if g[0] == "rekognition:DetectFaces"}
    assert faces == {("ResizeFunction", ("rekognition:DetectFaces", "*", "FaceAwareCropsOn"))}
    resize = all_grants["ResizeFunction"]
    assert {("s3:GetObject", "SourceBucket/*", ""), ("s3:GetObjectVersion", "SourceBucket/*", "")} <= resize
    parameter = translated["Parameters"]["FaceAwareCrops"]
    assert (parameter["Default"], sorted(parameter["AllowedValues"])) == ("false", ["false", "true"])
    assert translated["Conditions"]["FaceAwareCropsOn"] == {"Fn::Equals": [{"Ref": "FaceAwareCrops"}, "true"]}
    env = translated["Resources"]["ResizeFunction"]["Properties"]["Environment"]["Variables"]
    assert env["FACE_AWARE_CROPS"] == {"Ref": "FaceAwareCrops"}
    record("Security", "IAM: DetectFaces grant",
           "ResizeFunction only, under FaceAwareCropsOn (default false)",
           f"{', '.join(sorted(owner for owner, _ in faces))}, under "
           f"{', '.join(sorted({g[2] for _, g in faces}))}, default {parameter['Default']}")


def test_logging_grants_exist_only_for_express(all_grants: dict[str, set[Grant]]) -> None:
    """A STANDARD workflow keeps its history in Step Functions and needs no CloudWatch Logs grant."""
    logs = {g for owner_grants in all_grants.values() for g in owner_grants if g[0].startswith("logs:")}
    assert logs == EXPRESS_LOGGING_GRANTS
    record("Security", "IAM: CloudWatch Logs grants of the workflow role",
           "with EXPRESS only: the 10 actions of Step Functions' documented logging policy",
           f"{len(logs)} grants, under {', '.join(sorted({cond for _, _, cond in logs}))}")
