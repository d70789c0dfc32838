"""What IAM roles cannot guard: the buckets themselves, and every resource-based policy.

Public access, encryption, TLS, ACLs and expiry of both buckets; the one path from
outside to the thumbnails (CloudFront, tagged objects only) and to the resizer (its
distribution only); and the dead-letter queue, which only the stack's two rules may fill.
"""

from __future__ import annotations

from typing import Any

import pytest
from thumbnailer import singleflight
from thumbnailer.spec import parse_sizes
from thumbnailer.thumbnails import thumbnail_tags

from tests.reliability import record
from tests.template.grants import each, normalise


def as_text(value: str | list[str]) -> str:
    """A policy field that may be one string or a list of them, for a reliability row."""
    return value if isinstance(value, str) else ", ".join(value)


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
    record("Security", f"{bucket}: public access block", "all four flags true",
           f"{sum(value is True for value in block.values())} of {len(block)} true")


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
    denial = denials[0]
    record("Security", f"{bucket}: TLS only", "Deny s3:* when aws:SecureTransport=false",
           f"{denial['Effect']} {as_text(denial['Action'])} when aws:SecureTransport="
           f"{denial['Condition']['Bool']['aws:SecureTransport']}, on {', '.join(sorted(covered))}")


def test_expiry_only_touches_tagged_thumbnails_and_tagged_leases(translated: dict[str, Any]) -> None:
    """Expiry selects thumbnails by their thumbnail=yes tag and abandoned render leases by the
    tag the resizer writes them with (``singleflight.LEASE_TAGS``); nothing else."""
    rules = translated["Resources"]["ThumbnailBucket"]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    expiring = {r["Id"]: r for r in rules if "ExpirationInDays" in r}
    assert set(expiring) == {"ExpireThumbnails", "ExpireAbandonedRenderLeases"}
    thumbs, leases = expiring["ExpireThumbnails"], expiring["ExpireAbandonedRenderLeases"]
    assert thumbs["TagFilters"] == [{"Key": "thumbnail", "Value": "yes"}]
    assert "Prefix" not in thumbs
    lease_tags = [{"Key": k, "Value": v} for k, v in singleflight.LEASE_TAGS.items()]
    assert (leases["Status"], leases["TagFilters"]) == ("Enabled", lease_tags)
    assert not {"Prefix", "ObjectSizeLessThan", "ObjectSizeGreaterThan"} & set(leases)
    assert not set(singleflight.LEASE_TAGS) & set(thumbnail_tags(parse_sizes([{"width": 1, "height": 1}])[0],
                                                                   "e", "workflow"))
    record("Security", "ThumbnailBucket: what expires",
           "tag thumbnail=yes (when ThumbnailExpirationDays is set), and tag thumbflow-lease=yes "
           "(render leases)",
           f"{', '.join(sorted(expiring))}: tags {thumbs['TagFilters']}, "
           f"{leases['TagFilters']} after {leases['ExpirationInDays']} day")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_disables_acls(translated: dict[str, Any], bucket: str) -> None:
    """With BucketOwnerEnforced no object or bucket ACL can grant anything to anyone."""
    rules = translated["Resources"][bucket]["Properties"]["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    record("Security", f"{bucket}: ACLs", "disabled (BucketOwnerEnforced)",
           ", ".join(r["ObjectOwnership"] for r in rules))


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
    record("Security", "SourceBucket policy: Allow statements", "none",
           "; ".join(str(s) for s in allows) or "none")


DISTRIBUTION_ARN = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                               "${ThumbnailDistribution}"}


def test_thumbnail_bucket_grants_only_tagged_thumbnails_to_its_cdn(translated: dict[str, Any]) -> None:
    """The one grant outside IAM: CloudFront (OAC) may GetObject, for this distribution, and only
    objects tagged thumbnail=yes: an untagged object in the bucket (a render lease) is not served."""
    allows = [s for s in _bucket_policy(translated, "ThumbnailBucket") if s["Effect"] != "Deny"]
    assert len(allows) == 1, allows
    grant = allows[0]
    assert grant["Effect"] == "Allow"
    assert not {"NotAction", "NotResource", "NotPrincipal"} & set(grant)
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] in ("s3:GetObject", ["s3:GetObject"])
    assert normalise(grant["Resource"]) == "ThumbnailBucket/*"
    # Both keys in one StringEquals block: IAM ANDs them.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html
    assert grant["Condition"] == {
        "StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN, "s3:ExistingObjectTag/thumbnail": "yes"}
    }
    conditions = [
        f"{key} = {'this distribution' if value == DISTRIBUTION_ARN else value}"
        for key, value in sorted(grant["Condition"]["StringEquals"].items())
    ]
    record("Security", "ThumbnailBucket policy: the only public path",
           "s3:GetObject on ThumbnailBucket/* for cloudfront.amazonaws.com, "
           "AWS:SourceArn = this distribution, objects tagged thumbnail=yes only",
           f"{len(allows)} Allow: {as_text(grant['Action'])} on {normalise(grant['Resource'])} for "
           f"{grant['Principal']['Service']}, {', '.join(conditions)}")


def test_served_tag_is_the_one_thumbnails_carry(
    translated: dict[str, Any], definitions: dict[str, dict[str, Any]]
) -> None:
    """The tag CloudFront may read and the lifecycle expires is the one every thumbnail is written
    with."""
    [grant] = [s for s in _bucket_policy(translated, "ThumbnailBucket") if s["Effect"] != "Deny"]
    served = {key.removeprefix("s3:ExistingObjectTag/"): value
              for key, value in grant["Condition"]["StringEquals"].items()
              if key.startswith("s3:ExistingObjectTag/")}
    rules = translated["Resources"]["ThumbnailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expired = {f["Key"]: f["Value"] for r in rules if r["Id"] == "ExpireThumbnails" for f in r["TagFilters"]}
    configure = definitions["ThumbnailWorkflow"]["States"]["Configure"]["Parameters"]["config"]
    spec = parse_sizes(configure["sizes"])[0]
    written = thumbnail_tags(spec, "0" * 32, "workflow")
    assert served == expired == {"thumbnail": "yes"}
    assert served.items() <= written.items()


def test_name_claims_table_is_on_demand_encrypted_recoverable_and_kept(translated: dict[str, Any]) -> None:
    """One item per stem (key ``stem``, a string: ownership.py's), billed per request (a claim
    is one read and one write per new upload), encrypted, with point-in-time recovery, and kept
    when the stack is deleted or the table replaced: the thumbnails it governs outlive both."""
    table = translated["Resources"]["NameClaimsTable"]
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert (table.get("DeletionPolicy"), table.get("UpdateReplacePolicy")) == ("Retain", "Retain")
    assert props["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in props
    assert props["KeySchema"] == [{"AttributeName": "stem", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "stem", "AttributeType": "S"}]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert not {"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification",
                "ResourcePolicy"} & set(props)
    record("Security", "NameClaimsTable",
           "on demand, SSE, point-in-time recovery, Retain, no resource policy",
           f"{props['BillingMode']}, SSE {props['SSESpecification']['SSEEnabled']}, PITR "
           f"{props['PointInTimeRecoverySpecification']['PointInTimeRecoveryEnabled']}, "
           f"{table['DeletionPolicy']}/{table['UpdateReplacePolicy']}, resource policy: "
           f"{'ResourcePolicy' in props}")


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
    methods = sorted({m for behaviour in behaviours for m in behaviour["AllowedMethods"]})
    viewers = sorted({behaviour["ViewerProtocolPolicy"] for behaviour in behaviours})
    record("Security", "CloudFront in front of ThumbnailBucket",
           "OAC (sigv4, always), GET/HEAD only, HTTPS to viewers and to the resizer",
           f"OAC ({oac['SigningProtocol']}, {oac['SigningBehavior']}), {'/'.join(methods)} "
           f"(cache behaviours: {len(behaviours)}); viewers {', '.join(viewers)}; resizer "
           f"{resizer['OriginProtocolPolicy']} {', '.join(resizer['OriginSSLProtocols'])}")


def test_only_the_resizer_is_invocable_from_outside(translated: dict[str, Any]) -> None:
    """Lambda resource policies: the resizer's URL, for this distribution only."""
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
    for r in resources.values():
        if r["Type"] == "AWS::Lambda::Permission":
            assert r["Properties"]["SourceArn"] == DISTRIBUTION_ARN
            # CloudFront's documented grant has SourceArn only; a SourceAccount condition would
            # deny every request unless CloudFront sent aws:SourceAccount.
            assert "SourceAccount" not in r["Properties"]
    urls = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Url"]
    assert [u["AuthType"] for u in urls] == ["AWS_IAM"]
    origins = resources["ThumbnailDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    resizer = next(o for o in origins if o["Id"] == "resizer")
    assert resizer["OriginAccessControlId"] == {"Fn::GetAtt": ["ResizerOriginAccessControl", "Id"]}
    oac = resources["ResizerOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("lambda", "always")
    other = sorted(
        r["Type"] for r in resources.values()
        if r["Type"] in ("AWS::SNS::TopicPolicy", "AWS::Lambda::LayerVersionPermission",
                         "AWS::StepFunctions::StateMachinePolicy", "AWS::Events::EventBusPolicy")
    )
    assert other == []
    sources = [r["Properties"]["SourceArn"] for r in resources.values()
               if r["Type"] == "AWS::Lambda::Permission"]
    record("Security", "Lambda resource policies",
           "resizer URL: IAM-only, CloudFront of this distribution only; no topic, bus or state "
           "machine policy",
           "; ".join(f"{fn} {action} by {principal}" for fn, action, principal, *_ in permissions)
           + f"; URL auth {', '.join(u['AuthType'] for u in urls)}; SourceArn this distribution: "
           f"{sum(s == DISTRIBUTION_ARN for s in sources)} of {len(sources)}; "
           f"other resource policies: {', '.join(other) or 'none'}")


def _dead_lettering_rules(translated: dict[str, Any], queue: str) -> set[str]:
    """The rules with a target that dead-letters to ``queue``."""
    return {
        lid
        for lid, r in translated["Resources"].items()
        if r["Type"] == "AWS::Events::Rule"
        for target in r["Properties"]["Targets"]
        if target.get("DeadLetterConfig") == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
    }


def test_dead_letter_queue_admits_exactly_the_rules_that_use_it(translated: dict[str, Any]) -> None:
    """EventBridge may SendMessage for the upload rule and the delete rule, and for no other."""
    resources = translated["Resources"]
    queue_policies = [r for r in resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    assert len(queue_policies) == 1
    assert queue_policies[0]["Properties"]["Queues"] == [{"Ref": "UploadEventsDeadLetterQueue"}]
    [statement] = queue_policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}
    assert list(statement["Condition"]) == ["ArnEquals"]
    assert list(statement["Condition"]["ArnEquals"]) == ["aws:SourceArn"]
    admitted = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert isinstance(admitted, list) and len(admitted) == len({str(a) for a in admitted})
    assert all(set(a) == {"Fn::GetAtt"} and a["Fn::GetAtt"][1] == "Arn" for a in admitted)
    rules = {a["Fn::GetAtt"][0] for a in admitted}
    assert rules == _dead_lettering_rules(translated, "UploadEventsDeadLetterQueue")
    assert rules == {"ThumbnailWorkflowUpload", "PurgeWorkflowDelete"}
    record("Security", "Dead-letter queue policy",
           "SendMessage from events.amazonaws.com, aws:SourceArn = the upload and delete rules only",
           f"{statement['Action']} from {statement['Principal']['Service']}, aws:SourceArn = "
           f"{', '.join(sorted(rules))}; rules that dead-letter to it: "
           f"{len(_dead_lettering_rules(translated, 'UploadEventsDeadLetterQueue'))}")
