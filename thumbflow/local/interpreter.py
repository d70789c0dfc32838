"""What moto's Step Functions interpreter needs to run the definition here, as registry entries.

* Its SDK clients (task integrations, Lambda invokes) are made by local mode, signed
  with the ``wire.STATES`` access key so the wire knows who calls, and built once
  per service (boto3's default session is not safe to build clients from concurrently).
* JSONPath expressions, the definition's parse tree and the program built from it are
  memoised: the interpreter re-parses them on every evaluation (speed only).
* Retry intervals and Wait states are scaled by ``time_scale`` (tests).
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from .patches import Patches

# Modules of moto's interpreter that call ``boto_client_for`` (each imported the name).
CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.utils.boto_client",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


def add_client_patches(patches: Patches, make_client: Callable[[str, str], Any]) -> None:
    """Every ``boto_client_for`` the interpreter calls gives ``make_client(region, service)``."""
    cache: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            key = (region, service)
            if key not in cache:
                cache[key] = make_client(region, service)
            return cache[key]

    for name in CLIENT_USERS:
        module = importlib.import_module(name)
        patches.add(f"interpreter.clients:{name}", module, "boto_client_for",
                    boto_client_for)


def add_speed_patches(patches: Patches) -> None:
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import (
        Preprocessor as IntrinsicPreprocessor,
    )
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
    from moto.stepfunctions.parser.asl.utils import json_path

    patches.add("interpreter.jsonpath", json_path, "parse",
                functools.lru_cache(maxsize=4096)(json_path.parse))
    patches.add("interpreter.result-path", result_path, "parse",
                functools.lru_cache(maxsize=4096)(result_path.parse))
    patches.add("interpreter.definition-program", asl_parser.AmazonStateLanguageParser, "parse",
                staticmethod(_program_once(asl_parser.AmazonStateLanguageParser.parse, Preprocessor)))
    patches.add("interpreter.intrinsic-tree", intrinsic_parser.IntrinsicParser, "parse",
                staticmethod(_tree_once(intrinsic_parser.IntrinsicParser.parse, IntrinsicPreprocessor)))


def _tree_once(parse: Callable[[str], tuple[Any, Any]],
               preprocessor: Callable[[], Any]) -> Callable[[str], tuple[Any, Any]]:
    """ANTLR parsing takes ~0.5 s per definition: parse each text once, rebuild its program."""
    trees: dict[str, Any] = {}
    lock = threading.Lock()

    def parse_once(src: str) -> tuple[Any, Any]:
        with lock:
            tree = trees.get(src)
        if tree is None:
            program, tree = parse(src)  # raises on syntax errors, as before
            with lock:
                trees[src] = tree
            return program, tree
        return preprocessor().visit(tree), tree

    return parse_once


def _program_once(parse: Callable[[str], tuple[Any, Any]],
                  preprocessor: Callable[[], Any]) -> Callable[[str], tuple[Any, Any]]:
    """The definition's program too (~25 ms of CPU per execution otherwise).

    Sharing it is safe: its components are not changed after they are built, and
    everything an execution changes (retry counts, backoff, variables) lives in that
    execution's own Environment heap, keyed per component; Map iterations already
    share components across threads the same way.
    """
    programs: dict[str, tuple[Any, Any]] = {}
    lock = threading.Lock()
    tree_once = _tree_once(parse, preprocessor)

    def parse_program_once(src: str) -> tuple[Any, Any]:
        with lock:
            found = programs.get(src)
        if found is None:
            found = tree_once(src)
            with lock:
                programs[src] = found
        return found

    return parse_program_once


def add_time_patches(patches: Patches, time_scale: float) -> None:
    """Retry intervals and Wait states take ``time_scale`` of their time."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * time_scale)

    patches.add("interpreter.retry-sleep", retrier_decl, "time",
                SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * time_scale)))
    patches.add("interpreter.wait-state", wait_function.WaitFunction, "_wait_interval", _wait_interval)


def add_integration_patches(patches: Patches) -> None:
    """The Step Functions integration (``states:startExecution[.sync[:2]]``) as AWS documents it.

    moto's port takes the Parameters' PascalCase names to boto as they are (boto wants
    ``stateMachineArn``), starts executions without a name (its ARN then ends in
    ``:None`` and the second one collides), and returns boto's camelCase fields where the
    integration documents PascalCase ones (``Status``, ``Output``). AWS names an unnamed
    execution with a UUID.
    """
    import uuid

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as sfn_service,
    )

    service = sfn_service.StateTaskServiceSfn
    parameters_as_moto = service._normalise_parameters
    response_as_moto = service._normalise_response

    def normalise_parameters(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                             service_action_name: str | None = None) -> None:
        parameters_as_moto(self, parameters, boto_service_name, service_action_name)
        if service_action_name is None:  # the call the state makes, not the sync describe
            for key in list(parameters):
                parameters[key[:1].lower() + key[1:]] = parameters.pop(key)
            if self._get_boto_service_action() == "start_execution":
                parameters.setdefault("name", str(uuid.uuid4()))

    def normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                           service_action_name: str | None = None) -> None:
        response_as_moto(self, response, boto_service_name, service_action_name)
        if isinstance(response, dict):
            for key in list(response):
                response[key[:1].upper() + key[1:]] = response.pop(key)

    patches.add("interpreter.sfn-parameters", service, "_normalise_parameters", normalise_parameters)
    patches.add("interpreter.sfn-response", service, "_normalise_response", normalise_response)
