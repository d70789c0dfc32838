"""Event patterns and events from the EventBridge documentation, with what EventBridge answers.

Sources (the examples are copied from these pages):
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html

Each case is (name, pattern, event, matches). Shared by the unit tests of local mode's
matcher and the functional test that compares moto's matcher with the same cases.
"""

from __future__ import annotations

from typing import Any

Case = tuple[str, dict[str, Any], dict[str, Any], bool]

# The EC2 example event the content filtering page matches its patterns against.
EC2 = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}

CASES: list[Case] = [
    # Comparison operators table
    ("anything-but", {"state": [{"anything-but": "initializing"}]}, {"state": "running"}, True),
    ("anything-but, same value", {"state": [{"anything-but": "initializing"}]}, {"state": "initializing"},
     False),
    ("anything-but begins with", {"Region": [{"anything-but": {"prefix": "us-"}}]}, {"Region": "eu-west-1"},
     True),
    ("anything-but begins with, us", {"Region": [{"anything-but": {"prefix": "us-"}}]},
     {"Region": "us-east-1"}, False),
    ("anything-but ends with", {"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.jpg"},
     True),
    ("anything-but ends with, png", {"FileName": [{"anything-but": {"suffix": ".png"}}]},
     {"FileName": "a.png"}, False),
    ("anything-but ignore case", {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
     {"state": "INITIALIZING"}, False),
    ("anything-but ignore case, other", {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
     {"state": "running"}, True),
    ("anything-but wildcard", {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
     {"FilePath": "/usr/lib/x.so"}, False),
    ("anything-but wildcard, other", {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
     {"FilePath": "/usr/bin/x"}, True),
    ("begins with", {"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, True),
    ("begins with, other", {"Region": [{"prefix": "us-"}]}, {"Region": "eu-west-1"}, False),
    ("begins with ignore case", {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]},
     {"service": "EventBridge"}, True),
    ("empty", {"LastName": [""]}, {"LastName": ""}, True),
    ("empty, not empty", {"LastName": [""]}, {"LastName": "Doe"}, False),
    ("equals", {"Name": ["Alice"]}, {"Name": "Alice"}, True),
    ("equals is case-sensitive", {"Name": ["Alice"]}, {"Name": "alice"}, False),
    ("equals ignore case", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, True),
    ("ends with", {"FileName": [{"suffix": ".png"}]}, {"FileName": "photo.png"}, True),
    ("ends with, case differs", {"FileName": [{"suffix": ".png"}]}, {"FileName": "photo.PNG"}, False),
    ("ends with ignore case", {"service": [{"suffix": {"equals-ignore-case": "tBridge"}}]},
     {"service": "EventBridge"}, True),
    ("exists", {"ProductName": [{"exists": True}]}, {"ProductName": "Widget"}, True),
    ("exists, absent", {"ProductName": [{"exists": True}]}, {"Price": 1}, False),
    ("does not exist", {"ProductName": [{"exists": False}]}, {"Price": 1}, True),
    ("not", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, True),
    ("null", {"UserID": [None]}, {"UserID": None}, True),
    ("null is not empty", {"UserID": [None]}, {"UserID": ""}, False),
    ("numeric equals", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, True),
    ("numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, True),
    ("numeric range, outside", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 10}, False),
    ("or", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, True),
    ("or, multiple fields", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, {"Day": "Monday"},
     True),
    ("or, multiple fields, neither", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]},
     {"Day": "Friday"}, False),
    ("wildcard", {"FileName": [{"wildcard": "dir/*.png"}]}, {"FileName": "dir/a/b.png"}, True),
    ("wildcard, other folder", {"FileName": [{"wildcard": "dir/*.png"}]}, {"FileName": "other/b.png"},
     False),
    # Content filtering page, against its EC2 event and variations
    ("prefix on time", {"time": [{"prefix": "2017-12-22"}]}, EC2, True),
    ("anything-but prefix init", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, EC2, True),
    ("anything-but list", {"detail": {"state": [{"anything-but": ["stopped", "terminated"]}]}}, EC2, False),
    ("source and detail-type",
     {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
      "detail": {"state": ["terminated"]}}, EC2, True),
    ("cidr", {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
     {"detail": {"sourceIPAddress": "10.0.0.12"}}, True),
    ("cidr, outside", {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
     {"detail": {"sourceIPAddress": "10.0.1.12"}}, False),
    ("exists false on a non-leaf", {"detail": {"c-count": [{"exists": False}]}},
     {"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}}, True),
    ("an event array matches any element", {"detail": {"state": ["running"]}},
     {"detail": {"state": ["initializing", "running"]}}, True),
    ("complex",
     {"time": [{"prefix": "2017-10-02"}],
      "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}],
                 "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"anything-but": [100, 200, 300]}]}},
     {"time": "2017-10-02T18:43:48Z",
      "detail": {"state": "running", "c-count": 4, "d-count": 9, "x-limit": 301}},
     True),
]

# Where moto 5.2's matcher answers differently from EventBridge (local mode uses its own).
MOTO_DIFFERS: list[Case] = [
    ("a field inside an array of objects",
     {"detail": {"items": {"name": ["x"]}}}, {"detail": {"items": [{"name": "y"}, {"name": "x"}]}}, True),
]
# Patterns EventBridge refuses (InvalidEventPatternException); moto accepts them.
INVALID: list[tuple[str, dict[str, Any]]] = [
    ("unknown operator", {"key": [{"sufix": ".jpg"}]}),
    ("two operators in one object", {"key": [{"prefix": "a", "suffix": "b"}]}),
    ("prefix takes a string", {"key": [{"prefix": ["a", "b"]}]}),
    ("anything-but mixes strings and numbers", {"key": [{"anything-but": ["a", 1]}]}),
    ("numeric needs an operator", {"key": [{"numeric": [10]}]}),
    ("exists takes a boolean", {"key": [{"exists": "yes"}]}),
    ("a leaf must be an array", {"key": "a.jpg"}),
    ("an empty array", {"key": []}),
]
