"""Least privilege, checked on the IAM roles SAM actually generates.

Each role's grants are flattened to (action, resource, condition) and compared with
an exact expected set, so a widened policy fails as surely as a missing one. The
bucket checks guard what IAM alone cannot: public access, encryption, TLS, expiry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability import record

Grant = tuple[str, str, str]  # (action, readable resource, condition or "" when always)

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

# Step Functions delivers Express execution logs through CloudWatch Logs' vended-log
# actions, which take no resource ARN (AWS documents Resource "*"); only with EXPRESS.
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
EXPRESS_LOG_DELIVERY_GRANTS = {(action, "*", "IsExpress") for action in LOG_DELIVERY_ACTIONS}

EXPECTED_GRANTS: dict[str, set[Grant]] = {
    "ValidateFunction": SOURCE_READ | SAM_XRAY_INLINE_GRANTS,
    "ResizeFunction": SOURCE_READ
    | {
        ("s3:ListBucket", "ThumbnailBucket", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("s3:PutObject", "ThumbnailBucket/*", ""),
        ("s3:PutObjectTagging", "ThumbnailBucket/*", ""),
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
        ("sns:Publish", "topic:AlertTopic", ""),
        # Rekognition reads the image with the caller's rights, hence s3:GetObject.
        ("rekognition:DetectModerationLabels", "*", "ModerationOn"),
        ("s3:GetObject", "SourceBucket/*", "ModerationOn"),
    }
    | EXPRESS_LOG_DELIVERY_GRANTS
    | SAM_XRAY_INLINE_GRANTS,
    # The role SAM makes for the EventBridge rule that starts the workflow.
    "ThumbnailWorkflowUpload": {("states:StartExecution", "ThumbnailWorkflow", "")},
    # Reads sources (never writes them), writes tagged thumbnails, reads Configure's sizes.
    "OnDemandFunction": {
        ("s3:GetObject", "SourceBucket/*", ""),
        ("s3:ListBucket", "SourceBucket", ""),
        ("s3:ListBucket", "ThumbnailBucket", ""),
        ("s3:GetObject", "ThumbnailBucket/*", ""),
        ("s3:PutObject", "ThumbnailBucket/*", ""),
        ("s3:PutObjectTagging", "ThumbnailBucket/*", ""),
        ("states:DescribeStateMachine", "ThumbnailWorkflow", ""),
    }
    | SAM_XRAY_INLINE_GRANTS,
}

EXPECTED_MANAGED_POLICIES: dict[str, list[str]] = {
    "ValidateFunction": [BASIC_EXECUTION, XRAY_WRITE],
    "ResizeFunction": [BASIC_EXECUTION, XRAY_WRITE],
    "FlagFunction": [BASIC_EXECUTION, XRAY_WRITE],
    "ThumbnailWorkflow": [XRAY_WRITE],
    "ThumbnailWorkflowUpload": [],
    "OnDemandFunction": [BASIC_EXECUTION, XRAY_WRITE],
}

EXPECTED_TRUSTED_SERVICE: dict[str, str] = {
    "ValidateFunction": "lambda.amazonaws.com",
    "ResizeFunction": "lambda.amazonaws.com",
    "FlagFunction": "lambda.amazonaws.com",
    "ThumbnailWorkflow": "states.amazonaws.com",
    "ThumbnailWorkflowUpload": "events.amazonaws.com",
    "OnDemandFunction": "lambda.amazonaws.com",
}

# Actions that take no resource ARN, so "*" is the only possible resource.
RESOURCELESS_ACTION_PREFIXES = ("rekognition:Detect", "xray:", *LOG_DELIVERY_ACTIONS)

_ARN_PREFIX = re.compile(
    r"^arn:\$\{AWS::Partition\}:(?P<service>[a-z0-9-]+):\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
)
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


# ---------------------------------------------------------------- flattening helpers


def branches(node: Any, condition: str = "") -> Iterator[tuple[Any, str]]:
    """Both sides of an Fn::If (NoValue dropped), each marked with its condition."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        yield from branches(when_true, _and(condition, name))
        yield from branches(when_false, _and(condition, f"!{name}"))
    elif node == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield node, condition


def _and(left: str, right: str) -> str:
    return "&".join(sorted(filter(None, {*left.split("&"), right})))


def each(node: Any, condition: str) -> Iterator[tuple[Any, str]]:
    """Items of a value that may be a single item, a list, or Fn::If of either."""
    for value, cond in branches(node, condition):
        for item in value if isinstance(value, list) else [value]:
            yield from branches(item, cond)


def _name_of(node: Any) -> str:
    """The logical id behind a Ref or GetAtt used as a Sub variable value."""
    if isinstance(node, dict) and "Ref" in node:
        return str(node["Ref"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return str(node["Fn::GetAtt"][0])
    raise ValueError(f"unrecognised Sub variable value {node!r}")


def normalise(resource: Any) -> str:
    """A policy resource as a readable string: 'SourceBucket/*', 'function:X*', '*'."""
    if isinstance(resource, str):
        if resource == "*":
            return resource
        raise ValueError(f"literal resource ARN {resource!r}: use an intrinsic")
    if set(resource) == {"Ref"}:
        return str(resource["Ref"])
    if set(resource) == {"Fn::GetAtt"}:
        logical_id, attribute = resource["Fn::GetAtt"]
        return logical_id if attribute == "Arn" else f"{logical_id}.{attribute}"
    if set(resource) == {"Fn::Sub"}:
        arg = resource["Fn::Sub"]
        text, variables = (arg, {}) if isinstance(arg, str) else arg
        names = {key: _name_of(value) for key, value in variables.items()}

        def one(match: re.Match[str]) -> str:
            var = match.group(1)
            if var in names:
                return names[var]
            if var.endswith(".Arn"):
                return var.removesuffix(".Arn")
            return match.group(0)  # pseudo parameters; the ARN prefix is stripped below

        prefix = _ARN_PREFIX.match(text)
        body = text[prefix.end():] if prefix else text
        readable = _SUB_VAR.sub(one, body)
        if prefix and prefix["service"] == "sns":
            readable = f"topic:{readable}"
        if "${" in readable or readable.startswith("arn:"):
            raise ValueError(f"unrecognised resource {resource!r}")
        return readable
    raise ValueError(f"unrecognised resource {resource!r}")


def statements(role: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every inline policy statement of a role, with the condition it exists under."""
    for policy, cond in each(role["Properties"].get("Policies", []), ""):
        yield from each(policy["PolicyDocument"]["Statement"], cond)


def grants(role: dict[str, Any]) -> set[Grant]:
    """(action, normalised resource, condition) for every Allow in the role's inline policies."""
    result: set[Grant] = set()
    for statement, cond in statements(role):
        for action, action_cond in each(statement["Action"], cond):
            for resource, resource_cond in each(statement["Resource"], action_cond):
                result.add((action, normalise(resource), resource_cond))
    return result


# ---------------------------------------------------------------- role lookup


def role_logical_id(translated: dict[str, Any], owner: str) -> str:
    """The IAM role a function, state machine or rule target actually runs as."""
    props = translated["Resources"][owner]["Properties"]
    if "Targets" in props:
        role_refs = [target["RoleArn"] for target in props["Targets"]]
        assert len(role_refs) == 1, role_refs
        role_ref = role_refs[0]
    else:
        role_ref = props.get("Role", props.get("RoleArn"))
    assert isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref, role_ref
    logical_id, attribute = role_ref["Fn::GetAtt"]
    assert attribute == "Arn"
    assert translated["Resources"][logical_id]["Type"] == "AWS::IAM::Role"
    return str(logical_id)


@pytest.fixture(scope="module")
def roles(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Owner (as named in EXPECTED_GRANTS) -> the translated role it runs as."""
    return {
        owner: translated["Resources"][role_logical_id(translated, owner)]
        for owner in EXPECTED_GRANTS
    }


@pytest.fixture(scope="module")
def all_grants(roles: dict[str, dict[str, Any]]) -> dict[str, set[Grant]]:
    """Owner -> its flattened grants."""
    return {owner: grants(role) for owner, role in roles.items()}


# ---------------------------------------------------------------- helper self-checks


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("*", "*"),
        ({"Fn::Sub": "${SourceBucket.Arn}/*"}, "SourceBucket/*"),
        ({"Fn::GetAtt": ["SourceBucket", "Arn"]}, "SourceBucket"),
        ({"Ref": "ThumbnailWorkflow"}, "ThumbnailWorkflow"),
        (
            {"Fn::Sub": [
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                "${functionName}*",
                {"functionName": {"Ref": "ValidateFunction"}},
            ]},
            "function:ValidateFunction*",
        ),
        (
            {"Fn::Sub": [
                "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${topicName}",
                {"topicName": {"Fn::GetAtt": ["AlertTopic", "TopicName"]}},
            ]},
            "topic:AlertTopic",
        ),
    ],
)
def test_normalise(resource: Any, expected: str) -> None:
    """The exact-set comparisons below are only as good as this normalisation."""
    assert normalise(resource) == expected


@pytest.mark.parametrize(
    "resource",
    ["arn:aws:s3:::some-bucket/*", {"Fn::Sub": "arn:aws:s3:::${Name}"}, {"Fn::Join": ["", []]}],
)
def test_normalise_rejects_unknown_shapes(resource: Any) -> None:
    """An unforeseen resource shape must fail loudly, never be compared as junk."""
    with pytest.raises(ValueError):
        normalise(resource)


def test_fn_if_policies_keep_both_branches_marked() -> None:
    """A conditional statement must count, marked with its condition, not vanish."""
    role = {"Properties": {"Policies": [
        {"Fn::If": ["C", {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "a:B", "Resource": "*"}]}},
            {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["a:C"], "Resource": "*"}]}}]},
        {"Fn::If": ["D", {"PolicyDocument": {"Statement": []}}, {"Ref": "AWS::NoValue"}]},
    ]}}
    assert grants(role) == {("a:B", "*", "C"), ("a:C", "*", "!C")}


# ---------------------------------------------------------------- per-role expectations


def test_every_generated_role_is_accounted_for(
    translated: dict[str, Any], roles: dict[str, dict[str, Any]]
) -> None:
    """A role nobody checks is a role nobody reviews."""
    all_roles = {k for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    checked = {role_logical_id(translated, owner) for owner in roles}
    assert all_roles == checked
    assert len(checked) == len(roles), "two owners share one role"


@pytest.mark.parametrize("owner", sorted(EXPECTED_GRANTS))
def test_role_grants_exactly(all_grants: dict[str, set[Grant]], owner: str) -> None:
    """Each role may do what its job needs, and nothing more."""
    actual = all_grants[owner]
    expected = EXPECTED_GRANTS[owner]
    assert actual == expected, {
        "unexpected": sorted(actual - expected),
        "missing": sorted(expected - actual),
    }
    record("Security", f"IAM role of {owner}: exact grants",
           "exactly the listed (action, resource, condition) set",
           f"{len(actual)} grants, none extra, none missing")


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
    """NotAction/NotResource or Deny would make the flattened grants misleading."""
    odd = [
        (owner, statement)
        for owner, role in roles.items()
        for statement, _ in statements(role)
        if statement.get("Effect") != "Allow"
        or {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
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
    record("Security", "IAM: wildcard actions (s3:*, *) and iam:PassRole", "none in any role", "none")


def test_star_resource_only_for_resourceless_actions(all_grants: dict[str, set[Grant]]) -> None:
    """Only actions that have no resource ARN may name '*'."""
    bad = sorted(
        (owner, action)
        for owner, owner_grants in all_grants.items()
        for action, resource, _ in owner_grants
        if resource == "*" and not action.startswith(RESOURCELESS_ACTION_PREFIXES)
    )
    assert bad == []
    record("Security", "IAM: Resource \"*\"",
           "only rekognition:Detect*, xray:*, Express log delivery", "no other action")


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
    record("Security", "IAM: PutObject/PutObjectAcl/Delete* on SourceBucket", "none", "none")


def test_validate_cannot_touch_thumbnails(all_grants: dict[str, set[Grant]]) -> None:
    """Validation only reads headers; it has no business with the output bucket."""
    touching = sorted(g for g in all_grants["ValidateFunction"] if "ThumbnailBucket" in g[1])
    assert touching == []
    record("Security", "IAM: Validate on ThumbnailBucket", "no grant at all", "none")


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
           f"{len(on_source)} source grants, all read/list/tag; tag writers: FlagFunction")


def test_object_actions_on_objects_and_list_on_the_bucket(all_grants: dict[str, set[Grant]]) -> None:
    """Object actions name bucket/*, bucket actions the bucket: never the other way round."""

    def well_placed(action: str, resource: str) -> bool:
        bucket = resource.partition("/")[0]
        wanted = bucket if action.startswith(BUCKET_LEVEL_PREFIXES) else f"{bucket}/*"
        return bucket in ("SourceBucket", "ThumbnailBucket") and resource == wanted

    misplaced = [g for g in s3_grants(all_grants) if not well_placed(g[1], g[2])]
    assert misplaced == []
    record("Security", "IAM: S3 resource shapes",
           "object actions on <bucket>/*, list on <bucket>, only the two buckets", "all grants")


def test_only_renderers_write_thumbnails(all_grants: dict[str, set[Grant]]) -> None:
    """Resize and the on-demand resizer put thumbnails; nobody deletes them (the lifecycle does)."""
    writers = {
        owner for owner, action, resource in s3_grants(all_grants)
        if resource.startswith("ThumbnailBucket") and not action.startswith(("s3:Get", "s3:List"))
    }
    assert writers == {"ResizeFunction", "OnDemandFunction"}
    deleters = [g for g in s3_grants(all_grants) if g[1].startswith("s3:Delete")]
    assert deleters == []
    record("Security", "IAM: writes to ThumbnailBucket",
           "ResizeFunction and OnDemandFunction only; no deletes", "as expected")


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
           "as expected")


def test_moderation_grants_exist_only_when_moderation_is_on(
    all_grants: dict[str, set[Grant]],
) -> None:
    """With ModerationEnabled=false the workflow must not be able to call Rekognition."""
    rekognition = {g for g in all_grants["ThumbnailWorkflow"] if g[0].startswith("rekognition:")}
    assert rekognition
    assert {cond for _, _, cond in rekognition} == {"ModerationOn"}


def test_log_delivery_grants_exist_only_for_express(all_grants: dict[str, set[Grant]]) -> None:
    """A STANDARD workflow keeps its history in Step Functions and needs no log delivery."""
    logs = {g for owner_grants in all_grants.values() for g in owner_grants if g[0].startswith("logs:")
            and g[0] in LOG_DELIVERY_ACTIONS}
    assert logs == EXPRESS_LOG_DELIVERY_GRANTS


# ---------------------------------------------------------------- buckets

BUCKETS = ("SourceBucket", "ThumbnailBucket")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_blocks_public_access(translated: dict[str, Any], bucket: str) -> None:
    """Neither uploads nor thumbnails may ever become public by ACL or policy."""
    block = translated["Resources"][bucket]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    record("Security", f"{bucket}: public access block", "all four flags true", "all four true")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_encrypts_by_default(translated: dict[str, Any], bucket: str) -> None:
    """Objects are encrypted at rest whoever writes them."""
    rules = translated["Resources"][bucket]["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ]
    algorithms = {r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
    assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}
    record("Security", f"{bucket}: default encryption", "SSE on", ", ".join(sorted(algorithms)))


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_policy_denies_plain_http(translated: dict[str, Any], bucket: str) -> None:
    """Requests without TLS are refused for the bucket and every object in it."""
    policies = [
        r["Properties"]["PolicyDocument"]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    assert len(policies) == 1
    denials = [
        s
        for s in policies[0]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] in ("s3:*", ["s3:*"])
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    covered = {normalise(r) for r, _ in each(denials[0]["Resource"], "")}
    assert covered == {bucket, f"{bucket}/*"}
    record("Security", f"{bucket}: TLS only", "Deny s3:* when aws:SecureTransport=false",
           "bucket and objects covered")


def test_thumbnail_expiry_only_touches_tagged_thumbnails(translated: dict[str, Any]) -> None:
    """Expiry must select thumbnails by their thumbnail=yes tag and nothing else."""
    rules = translated["Resources"]["ThumbnailBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    expiring = [r for r in rules if "ExpirationInDays" in r]
    assert len(expiring) == 1
    assert expiring[0]["TagFilters"] == [{"Key": "thumbnail", "Value": "yes"}]
    assert "Prefix" not in expiring[0]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_disables_acls(translated: dict[str, Any], bucket: str) -> None:
    """With BucketOwnerEnforced no object or bucket ACL can grant anything to anyone."""
    rules = translated["Resources"][bucket]["Properties"]["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    record("Security", f"{bucket}: ACLs", "disabled (BucketOwnerEnforced)", "BucketOwnerEnforced")


def _bucket_policy(translated: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    return [
        statement
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_source_bucket_policy_allows_nothing(translated: dict[str, Any]) -> None:
    """Uploads are reached through IAM roles only; the bucket policy only denies."""
    allows = [s for s in _bucket_policy(translated, "SourceBucket") if s["Effect"] != "Deny"]
    assert allows == []
    record("Security", "SourceBucket policy: Allow statements", "none", "none")


def test_thumbnail_bucket_only_grants_getobject_to_its_distribution(translated: dict[str, Any]) -> None:
    """The one grant outside IAM: CloudFront (OAC) may GetObject, and only for this distribution."""
    allows = [s for s in _bucket_policy(translated, "ThumbnailBucket") if s["Effect"] != "Deny"]
    assert len(allows) == 1, allows
    grant = allows[0]
    assert grant["Effect"] == "Allow"
    assert not {"NotAction", "NotResource", "NotPrincipal"} & set(grant)
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert normalise(grant["Resource"]) == "ThumbnailBucket/*"
    assert grant["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                "${ThumbnailDistribution}"
            }
        }
    }
    record("Security", "ThumbnailBucket policy: the only public path",
           "s3:GetObject on ThumbnailBucket/* for cloudfront.amazonaws.com, "
           "AWS:SourceArn = this distribution",
           "exactly that one Allow")


def test_distribution_reads_the_bucket_through_oac(translated: dict[str, Any]) -> None:
    """CloudFront signs its S3 requests (OAC, SigV4, always); viewers only GET or HEAD, over HTTPS."""
    resources = translated["Resources"]
    oac = resources["ThumbnailOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == (
        "s3", "always", "sigv4")
    config = resources["ThumbnailDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    s3_origin = origins["thumbnails"]
    assert s3_origin["DomainName"] == {"Fn::GetAtt": ["ThumbnailBucket", "RegionalDomainName"]}
    assert s3_origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ThumbnailOriginAccessControl", "Id"]}
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    resizer = origins["resizer"]["CustomOriginConfig"]
    assert (resizer["OriginProtocolPolicy"], resizer["OriginSSLProtocols"]) == ("https-only", ["TLSv1.2"])
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert sorted(behaviour["AllowedMethods"]) == ["GET", "HEAD"]
        assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
    record("Security", "CloudFront in front of ThumbnailBucket",
           "OAC (sigv4, always), GET/HEAD only, HTTPS to viewers and to the resizer", "as expected")


def test_only_the_resizer_is_invocable_from_outside(translated: dict[str, Any]) -> None:
    """Resource policies: the resizer's URL for this distribution only, and the rule's DLQ."""
    resources = translated["Resources"]
    permissions = sorted(
        (r["Properties"]["FunctionName"]["Ref"], r["Properties"]["Action"], r["Properties"]["Principal"],
         r["Properties"].get("FunctionUrlAuthType", ""), r["Properties"].get("InvokedViaFunctionUrl", False))
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
    )
    # IAM-only function URL: CloudFront's origin access control signs; nobody else may call it.
    assert permissions == [
        ("OnDemandFunction", "lambda:InvokeFunction", "cloudfront.amazonaws.com", "", True),
        ("OnDemandFunction", "lambda:InvokeFunctionUrl", "cloudfront.amazonaws.com", "AWS_IAM", False),
    ]
    distribution = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                               "${ThumbnailDistribution}"}
    for r in resources.values():
        if r["Type"] == "AWS::Lambda::Permission":
            assert r["Properties"]["SourceArn"] == distribution
            assert r["Properties"]["SourceAccount"] == {"Ref": "AWS::AccountId"}
    urls = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Url"]
    assert [u["AuthType"] for u in urls] == ["AWS_IAM"]
    origins = resources["ThumbnailDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    resizer = next(o for o in origins if o["Id"] == "resizer")
    assert resizer["OriginAccessControlId"] == {"Fn::GetAtt": ["ResizerOriginAccessControl", "Id"]}
    oac = resources["ResizerOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("lambda", "always")
    queue_policies = [r for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    assert len(queue_policies) == 1
    [statement] = queue_policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ThumbnailWorkflowUpload", "Arn"]}}
    }
    other = sorted(
        r["Type"] for r in resources.values()
        if r["Type"] in ("AWS::SNS::TopicPolicy", "AWS::Lambda::LayerVersionPermission",
                         "AWS::StepFunctions::StateMachinePolicy")
    )
    assert other == []
    record("Security", "Resource policies",
           "resizer URL: IAM-only, CloudFront of this distribution only; DLQ: SendMessage from "
           "the upload rule only",
           "as expected")
