"""Runs one `neuroode bench …` command and prints its measurement as the peers' JSON line.

A command that fails, or prints no JSON with a time in it, becomes a record with status "missing"
(and the first line of its error), so the suite still completes while commands are being added.

    python run_neuroode.py WORKLOAD PRECISION -- /path/to/neuroode bench simulate --format json …
"""
import json
import subprocess
import sys
import time

import common

# Keys a bench command's JSON may carry its time under, most specific first.
SECONDS_KEYS = ("secondsPerIteration", "secondsPerRun", "medianSeconds", "seconds")
MILLISECONDS_KEYS = ("millisecondsPerIteration", "millisecondsPerSolve", "medianMilliseconds", "milliseconds")
MEMORY_KEYS = ("peakBytes", "peakMemoryBytes", "peakResidentBytes")


def parse(stdout: str):
    """The command's JSON: one document, or the last parseable line."""
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        for line in reversed(stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def find(document, keys):
    """The first of `keys` found in the document (depth-first over objects and lists)."""
    if isinstance(document, dict):
        for key in keys:
            if isinstance(document.get(key), (int, float)):
                return key, document[key]
        for value in document.values():
            found = find(value, keys)
            if found:
                return found
    elif isinstance(document, list):
        for value in document:
            found = find(value, keys)
            if found:
                return found
    return None


def number(value):
    """A setting as a number where it is one ("128" → 128, "0.1" → 0.1), else unchanged."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                continue
    return value


def main():
    if "--" not in sys.argv or sys.argv.index("--") != 3:
        raise SystemExit(__doc__)
    workload, precision, command = sys.argv[1], sys.argv[2], sys.argv[4:]
    record = dict(tool="neuroode", workload=workload, precision=precision, command=" ".join(command),
                  machine=common.machine())
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as error:
        common.emit(dict(record, status="missing", error=str(error)[:300]))
        return
    record["wallSeconds"] = time.perf_counter() - start
    document = parse(done.stdout) if done.returncode == 0 else None
    if document is None:
        reason = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["no output"])[-1]
        common.emit(dict(record, status="missing", returnCode=done.returncode, error=reason[:300]))
        return
    # Spiral and ROBER report milliseconds, the network workloads seconds; either is accepted.
    in_ms = workload.startswith(("spiral", "rober"))
    found = (find(document, MILLISECONDS_KEYS) or find(document, SECONDS_KEYS)) if in_ms else \
        (find(document, SECONDS_KEYS) or find(document, MILLISECONDS_KEYS))
    if found is None:
        common.emit(dict(record, status="missing", error="no time field in the JSON output", result=document))
        return
    key, value = found
    scale = 1e-3 if key.startswith("milli") else 1.0
    record["seconds"] = value * scale
    record["milliseconds"] = 1e3 * value * scale
    record["timeField"] = key
    memory = find(document, MEMORY_KEYS)
    if memory is not None:
        record["peakBytes"] = memory[1]
    for key, name in (("loss", "loss"), ("neuronStepsPerSecond", "neuronStepsPerSecond"),
                      ("compileSeconds", "compileSeconds"), ("finalMeanVoltage", "finalMeanV")):
        found = find(document, (key,))
        if found is not None:
            record[name] = found[1]
    if isinstance(document, dict) and isinstance(document.get("settings"), dict):
        record["settings"] = {k: number(v) for k, v in document["settings"].items()}
    record["status"] = "ok"
    record["result"] = document
    common.emit(record)


if __name__ == "__main__":
    main()
