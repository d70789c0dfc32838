"""What moto's Step Functions interpreter needs to run the definition here, as registry entries.

* Its SDK clients (task integrations, Lambda invokes) are made by local mode, signed
  with the ``wire.STATES`` access key so the wire knows who calls, and built once
  per service (boto3's default session is not safe to build clients from concurrently).
* JSONPath expressions and intrinsic functions' parse trees are memoised, and the
  definition's program is built once per text (and pickled for the next process,
  ``programs``): the interpreter would re-parse them on every evaluation (speed only).
* A state's data (JSON values) is copied by a copier for JSON, not ``copy.deepcopy``.
* Retry intervals and Wait states are scaled by ``time_scale`` (tests).
"""

from __future__ import annotations

import copy
import functools
import importlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from . import motoimports, programs
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
    motoimports.import_interpreter(CLIENT_USERS)  # without moto's EC2, which nothing here needs
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


def add_speed_patches(patches: Patches, cache_dir: Path | None = None) -> None:
    """JSONPath and intrinsic parse trees memoised; the definition's program built once per
    text and process, and pickled under ``cache_dir`` for the next process (``programs``)."""
    from jsonpath_ng.ext.parser import ExtendedJsonPathParser
    from jsonpath_ng.parser import JsonPathParser
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import (
        Preprocessor as IntrinsicPreprocessor,
    )
    from moto.stepfunctions.parser.asl.utils import json_path

    patches.add("interpreter.jsonpath", json_path, "parse", _parse_once(ExtendedJsonPathParser))
    patches.add("interpreter.result-path", result_path, "parse", _parse_once(JsonPathParser))
    patches.add("interpreter.definition-program", asl_parser.AmazonStateLanguageParser, "parse",
                staticmethod(_program_once(asl_parser.AmazonStateLanguageParser.parse, cache_dir)))
    patches.add("interpreter.intrinsic-tree", intrinsic_parser.IntrinsicParser, "parse",
                staticmethod(_tree_once(intrinsic_parser.IntrinsicParser.parse, IntrinsicPreprocessor)))
    json_copies = SimpleNamespace(deepcopy=json_copy)
    for name in JSON_COPIERS:
        patches.add(f"interpreter.json-copies:{name}", importlib.import_module(name), "copy", json_copies)


# Modules of the interpreter that deep-copy a state's data (JSON values) at every step.
JSON_COPIERS = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
)
_JSON_ATOMS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any, memo: Any = None) -> Any:
    """``copy.deepcopy`` for JSON values (dicts, lists, strings, numbers, booleans, null), at a
    fraction of its cost: the interpreter copies every state's input and output several times,
    ~75 ms of CPU per execution of the upload workflow. Anything else is handed to
    ``copy.deepcopy``. Unlike it, a value that appears twice comes out as two copies, which is
    what serialising the data between states (as Step Functions does) gives."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in _JSON_ATOMS:
        return value
    return copy.deepcopy(value)


_parsers: dict[type, Callable[[str], Any]] = {}
_parsers_lock = threading.Lock()


def _parse_once(parser_class: type) -> Callable[[str], Any]:
    """``parse(path)`` of jsonpath_ng, memoised for the whole process (the parsed paths are not
    changed by ``find``), with one parser per thread: jsonpath_ng's ``parse`` builds a new
    parser, reading its LALR tables (~4 ms), for every path it parses."""
    with _parsers_lock:
        if parser_class not in _parsers:
            local = threading.local()

            @functools.lru_cache(maxsize=4096)
            def parse(path: str) -> Any:
                parser = getattr(local, "parser", None)
                if parser is None:
                    parser = local.parser = parser_class()
                return parser.parse(path)

            _parsers[parser_class] = parse
        return _parsers[parser_class]


def _tree_once(parse: Callable[[str], tuple[Any, Any]],
               preprocessor: Callable[[], Any]) -> Callable[[str], tuple[Any, Any]]:
    """Parse each intrinsic function's text once, rebuild its program from the tree."""
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


def program_cache(cache_dir: Path | None) -> programs.ProgramCache:
    """The process's cache of definition programs for ``cache_dir`` (None: memory only)."""
    import moto
    from moto.stepfunctions.parser.asl.parse import asl_parser, preprocessor

    versions = programs.versions_of(f"moto={moto.__version__}", preprocessor.__file__, asl_parser.__file__,
                                    _antlr_file())
    return programs.shared(cache_dir, versions)


def _antlr_file() -> str:
    import antlr4

    return str(antlr4.__file__)


def _program_once(parse: Callable[[str], tuple[Any, Any]],
                  cache_dir: Path | None) -> Callable[[str], tuple[Any, Any]]:
    """The definition's program, built once per text (~0.5 s of ANTLR and preprocessing).

    Sharing it is safe: its components are not changed after they are built, and
    everything an execution changes (retry counts, backoff, variables) lives in that
    execution's own Environment heap, keyed per component; Map iterations already
    share components across threads the same way. The parse tree, which only moto's
    static analysers read, is parsed again if anything asks for it (``LazyTree``).
    """
    cache = program_cache(cache_dir)

    def parse_program_once(src: str) -> tuple[Any, Any]:
        program = cache.get(src, lambda text: parse(text)[0])  # raises on a bad definition
        return program, LazyTree(src, parse)

    return parse_program_once


class LazyTree:
    """The definition's ANTLR parse tree, parsed when first used (no caller here uses it)."""

    def __init__(self, src: str, parse: Callable[[str], tuple[Any, Any]]) -> None:
        self._src = src
        self._parse = parse
        self._tree: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._tree is None:
            self._tree = self._parse(self._src)[1]
        return getattr(self._tree, name)


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
