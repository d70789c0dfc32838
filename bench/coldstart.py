"""Cold start: import+init of each handler module, and what its first invocation adds.

Each measurement is a fresh interpreter in the environment Lambda gives the function: the
variables the template sets (Globals and the function's own, resolved with the parameter
defaults), ``LAMBDA_TASK_ROOT`` and the other variables the runtime sets, and
``PYTHONPATH=functions`` (the CodeUri). That matters: inside Lambda (``LAMBDA_TASK_ROOT``
set) the X-Ray SDK samples locally, while outside it builds a botocore X-Ray client for
sampling rules at import (~0.25 s) that no deployed function ever pays.

Per module it times ``import thumbnailer.<module>`` (module-level Logger/Tracer/Metrics and
everything they pull in: the init phase) and then, separately, the lazily built S3 client
(``storage.s3()``), the only thing the first invocation does that later ones do not (the
handlers make nothing else lazily). Both as wall and CPU seconds: the target is judged on
wall; on a shared machine CPU shows how much of it was waiting for other processes.

Two configurations: tracing as the template deploys it (judged), and the other one, so the
cost of X-Ray is visible either way.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from .engines import REPO

MODULES = ("validate", "resize", "flag", "ondemand", "purge", "backfill")

_PROBE = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import importlib
importlib.import_module("thumbnailer." + sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
from thumbnailer import storage
storage.s3()
t2, c2 = time.perf_counter(), time.process_time()
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        rss = int(line.split()[1]) / 1024
xray = "aws_xray_sdk.core" in sys.modules
print(json.dumps({"import_s": t1 - t0, "import_cpu_s": c1 - c0, "client_s": t2 - t1,
                  "client_cpu_s": c2 - c1, "rss_mb": rss, "xray": xray}))
"""

_TRUE = {"1", "y", "yes", "t", "true", "on"}


class _Refs(dict):  # type: ignore[type-arg]
    """Every resource reference resolves to its logical id (a bucket name is a bucket name)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return key.lower()


def template_environments() -> dict[str, dict[str, str]]:
    """Per handler module, the variables the template gives its function (parameter defaults)."""
    from thumbflow.local.template import Resolver, load_template, parameter_values

    template = load_template(REPO / "template.yaml")
    resolver = Resolver(template, parameter_values(template, {}), _Refs(), {},
                        {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
                         "AWS::StackName": "thumbflow", "AWS::Partition": "aws",
                         "AWS::URLSuffix": "amazonaws.com"})
    globals_fn = (template.get("Globals") or {}).get("Function") or {}

    def resolved(variables: dict[str, Any]) -> dict[str, str]:
        out = {}
        for name, value in (variables or {}).items():
            try:
                out[name] = str(resolver.resolve(value))
            except Exception:  # e.g. !GetAtt of something local mode does not know
                out[name] = "unresolved"
        return out

    base = resolved(((globals_fn.get("Environment") or {}).get("Variables")) or {})
    tracing = str(resolver.resolve(globals_fn.get("Tracing", "PassThrough")))
    envs: dict[str, dict[str, str]] = {}
    for logical, res in (template.get("Resources") or {}).items():
        props = res.get("Properties") or {}
        handler = str(props.get("Handler", ""))
        module = handler.rsplit(".", 1)[0].removeprefix("thumbnailer.")
        if res.get("Type") != "AWS::Serverless::Function" or module not in MODULES:
            continue
        memory = resolver.resolve(props.get("MemorySize", globals_fn.get("MemorySize", 128)))
        envs[module] = {
            **base,
            **resolved(((props.get("Environment") or {}).get("Variables")) or {}),
            "AWS_LAMBDA_FUNCTION_NAME": f"thumbflow-{logical}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "_HANDLER": handler,
            "_BENCH_TRACING": str(resolver.resolve(props.get("Tracing", tracing))),
        }
    return envs


def tracing_on(env: dict[str, str]) -> bool:
    """Whether Powertools traces in this environment (X-Ray SDK imported and patched)."""
    return env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() not in _TRUE


def _lambda_env(template_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_LAMBDA", "POWERTOOLS", "LAMBDA_", "_X_AMZN", "AWS_SAM"))}
    env.update(template_env)
    env.pop("_BENCH_TRACING", None)
    region = env.get("AWS_DEFAULT_REGION", "us-east-1")
    env.update({
        "PYTHONPATH": str(REPO / "functions"),
        "LAMBDA_TASK_ROOT": str(REPO / "functions"),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    })
    return env


def _once(module: str, env: dict[str, str]) -> dict[str, Any]:
    w0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PROBE, module], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    wall = time.perf_counter() - w0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": wall}


def interpreter_start(reps: int = 5) -> float:
    """Median wall seconds of ``python -c pass``: what every figure below sits on top of."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _measure_config(envs: dict[str, dict[str, str]], reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in MODULES:
        if name not in envs or not (REPO / "functions" / "thumbnailer" / f"{name}.py").exists():
            continue
        env = _lambda_env(envs[name])
        runs = [_once(name, env) for _ in range(reps)]
        good = [r for r in runs if "error" not in r]
        if not good:
            out[name] = {"error": runs[0]["error"]}
            continue
        figures = {key: statistics.median(r[key] for r in good)
                   for key in ("import_s", "import_cpu_s", "client_s", "client_cpu_s", "process_s", "rss_mb")}
        out[name] = {**figures, "xray_imported": any(r["xray"] for r in good), "runs": len(good)}
    return out


def measure(reps: int = 5) -> dict[str, Any]:
    """Median figures per handler module, as deployed and with tracing the other way round."""
    envs = template_environments()
    deployed_on = all(tracing_on(e) for e in envs.values())
    other = {m: {**e, "POWERTOOLS_TRACE_DISABLED": "false" if not deployed_on else "true"}
             for m, e in envs.items()}
    tracing_setting = sorted({e.get("_BENCH_TRACING", "?") for e in envs.values()})
    return {
        "interpreter_start_s": interpreter_start(reps),
        "tracing": {"deployed": "on" if deployed_on else "off", "template_tracing": tracing_setting},
        "modules": _measure_config(envs, reps),
        "other": {"tracing": "off" if deployed_on else "on", "modules": _measure_config(other, reps)},
    }
