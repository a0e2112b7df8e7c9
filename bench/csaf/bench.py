#!/usr/bin/env python3
"""Side-by-side benchmark of `keikai csaf validate --preset basic` and the peer CSAF validators.

Called by run.sh (which builds keikai, installs the peers and writes the CISA folder). For each
data set (the 239 OASIS test files; the CISA advisories) and each tool, it runs the tool ONCE to
read its verdicts (and its peak memory), then times the same whole-process command with
hyperfine (else repeated runs). Standard library only.

Verdicts are scored against testcases.json: a file listed under a mandatory (6.1.x) test's
"failures" must be invalid, every other file valid; 6-2-08-02 and 6-2-09-02 are expected
invalid too, since they hold two md5 (sha1) entries in one file_hashes item (6.1.25).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

KNOWN_INVALID = ("-6-2-08-02.json", "-6-2-09-02.json")


def expected_verdicts(tests_dir: str, quirk: bool = True) -> dict[str, bool]:
    """file -> expected verdict; quirk=False is the peer kit's plain list rule (notes section 5.3),
    which expects the two 6.1.25 files to be valid."""
    with open(os.path.join(tests_dir, "testcases.json"), encoding="utf-8") as fh:
        testcases = json.load(fh)
    expected: dict[str, bool] = {}
    for t in testcases["tests"]:
        for f in t.get("failures", []):
            if t["group"] == "mandatory":
                expected[f["name"]] = False
            else:
                expected.setdefault(f["name"], True)
        for f in t.get("valid", []):
            expected.setdefault(f["name"], True)
    for name in expected:
        if quirk and name.endswith(KNOWN_INVALID):
            expected[name] = False
    return expected


def json_files(folder: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".json"):
                out.append(os.path.relpath(os.path.join(root, name), folder))
    return out


def run_once(argv: list[str], cwd: str) -> tuple[str, str, int, int]:
    """(stdout, stderr, exit status, peak RSS in KiB) of one run."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return (out.decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                proc.returncode, usage.ru_maxrss)


def time_command(argv: list[str], cwd: str, runs: int, warmup: int) -> dict:
    """Whole-process wall time in seconds: hyperfine's mean/stddev/median/min, or our own."""
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as exp:
            cmd = " ".join(shlex.quote(a) for a in argv)
            proc = subprocess.run(["hyperfine", "-N", "-i", "--style", "none", "--warmup",
                                   str(warmup), "--runs", str(runs), "--export-json", exp.name,
                                   cmd], cwd=cwd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"hyperfine failed: {proc.stderr[-1000:]}")
            r = json.load(open(exp.name, encoding="utf-8"))["results"][0]
            return {"mean": r["mean"], "stddev": r["stddev"] or 0.0, "median": r["median"],
                    "min": r["min"], "runs": len(r["times"]), "by": "hyperfine"}
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return {"mean": statistics.mean(times), "stddev": statistics.pstdev(times),
            "median": statistics.median(times), "min": min(times), "runs": runs,
            "by": "repeated runs"}


# --- tools: how to run each one on a list of files, and how to read its verdicts -----------

def keikai_tool(binary: str, jobs: int | None) -> dict:
    extra = ["--jobs", str(jobs)] if jobs else []

    def parse(stdout: str, files: list[str]) -> dict[str, bool]:
        return {f["file"]: bool(f["valid"]) for f in json.loads(stdout)["files"]}

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    return {"name": "keikai" + (f" (--jobs {jobs})" if jobs else ""),
            "version": version[-1] if version else "?", "slow": False,
            "argv": lambda files: [binary, "csaf", "validate", "--preset", "basic",
                                   "--format", "json", *extra, *files],
            "parse": parse}


def csaf_rs_tool(binary: str, kit: str) -> dict:
    sys.path.insert(0, kit)
    from run_csaf_rs import parse as parse_rs  # the peer kit's own output parser

    def parse(stdout: str, files: list[str]) -> dict[str, bool]:
        results: dict = {}
        parse_rs(stdout, results)
        verdicts = {}
        for f, r in results.items():
            failed = [k for k, v in r["tests"].items() if v == "error"]
            verdicts[f] = r["valid"] if r["valid"] is not None else not failed
        return verdicts

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    return {"name": "csaf-rs csaf-validator", "version": version[-1] if version else "?",
            "slow": False,
            # -v: the verdict of each file is only printed in verbose mode
            "argv": lambda files: [binary, "-C", "2.0", "-T", "basic", "-v", *files],
            "parse": parse}


def pypi_tool(binary: str) -> dict:
    def parse(stdout: str, files: list[str]) -> dict[str, bool]:
        records = [json.loads(r) for r in stdout.split("\x1e") if r.strip()]
        if len(records) != len(files):
            raise RuntimeError(f"PyPI csaf: {len(records)} records for {len(files)} files")
        return {f: bool(r["isValid"]) for f, r in zip(files, records)}

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    return {"name": "PyPI csaf", "version": version[-1] if version else "?", "slow": True,
            "argv": lambda files: [binary, "validate", "--spec-version", "v20", "--preset",
                                   "basic", "--no-network", "--format", "deprecated-json",
                                   "--rfc7464-always", *files],
            "parse": parse}


def bsi_tool(lib: str, script: str) -> dict:
    def parse(stdout: str, files: list[str]) -> dict[str, bool]:
        out = json.loads(stdout)
        parse.split = (out["load_ms"], out["validate_ms"])  # import vs validate, reported apart
        return {r["file"]: bool(r["valid"]) for r in out["results"]}

    with open(os.path.join(lib, "package.json"), encoding="utf-8") as fh:
        version = json.load(fh)["version"]
    return {"name": "BSI csaf-validator-lib (basic.js)", "version": version, "slow": True,
            "argv": lambda files: ["node", script, lib, *files], "parse": parse}


# --- main ----------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keikai", required=True)
    ap.add_argument("--kit", required=True, help="../shared/bench/peers/csaf")
    ap.add_argument("--tests", required=True, help="the OASIS tests folder (testcases.json)")
    ap.add_argument("--cisa", help="folder of CISA documents (jsonl_to_folder.py output)")
    ap.add_argument("--peers-dir", required=True)
    ap.add_argument("--runs", type=int, default=10, help="timed runs of the native tools")
    ap.add_argument("--slow-runs", type=int, default=3, help="timed runs of node/python tools")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    tools = [keikai_tool(args.keikai, None), keikai_tool(args.keikai, 1)]
    rs = os.path.join(args.peers_dir, "rust", "bin", "csaf-validator")
    py = os.path.join(args.peers_dir, "py", "venv-csaf", "bin", "csaf")
    lib = os.path.join(args.peers_dir, "node", "node_modules", "@secvisogram", "csaf-validator-lib")
    if os.access(rs, os.X_OK):
        tools.append(csaf_rs_tool(rs, os.path.abspath(args.kit)))
    else:
        print(f"note: {rs} is missing (install.sh --with-rust): csaf-rs not measured")
    if os.access(py, os.X_OK):
        tools.append(pypi_tool(py))
    else:
        print(f"note: {py} is missing: PyPI csaf not measured")
    if os.path.isfile(os.path.join(lib, "package.json")) and shutil.which("node"):
        tools.append(bsi_tool(lib, os.path.join(here, "bsi_validate.mjs")))
    else:
        print(f"note: {lib} or node is missing: BSI lib not measured")

    expected = expected_verdicts(args.tests)
    list_rule = expected_verdicts(args.tests, quirk=False)
    datasets = [("OASIS tests", os.path.abspath(args.tests), sorted(expected), expected)]
    if args.cisa:
        datasets.append(("CISA", os.path.abspath(args.cisa), json_files(args.cisa), None))

    rows = []
    for label, folder, files, truth in datasets:
        keikai_verdicts = None
        for tool in tools:
            argv = tool["argv"](files)
            print(f"... {label}: {tool['name']} on {len(files)} files", flush=True)
            stdout, stderr, code, rss_kib = run_once(argv, folder)
            try:
                verdicts = tool["parse"](stdout, files)
            except (ValueError, KeyError, RuntimeError) as e:
                print(f"    cannot read its output ({e}); exit {code}; stderr: {stderr[-400:]}")
                continue
            missing = [f for f in files if f not in verdicts]
            if missing:
                print(f"    no verdict for {len(missing)} files, e.g. {missing[:3]}")
            runs = args.slow_runs if tool["slow"] else args.runs
            warmup = 1 if tool["slow"] else 2
            timing = time_command(argv, folder, runs, warmup)
            row = {"dataset": label, "tool": tool["name"], "version": tool["version"],
                   "files": len(files), "valid": sum(verdicts.get(f, False) for f in files),
                   "timing": timing, "max_rss_mib": rss_kib / 1024,
                   "split_ms": getattr(tool["parse"], "split", None)}
            if truth is not None:
                wrong = [f for f in files if verdicts.get(f) != truth[f]]
                row["agree"] = len(files) - len(wrong)
                row["disagreements"] = wrong
                row["agree_list_rule"] = sum(verdicts.get(f) == list_rule[f] for f in files)
            if tool["name"] == "keikai":
                keikai_verdicts = verdicts
            if keikai_verdicts is not None:
                row["differs_from_keikai"] = [f for f in files
                                              if verdicts.get(f) != keikai_verdicts.get(f)]
            rows.append(row)

    print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
    return 0


def print_table(rows: list[dict]) -> None:
    print()
    print("CSAF 2.0 validation, preset basic, one process per tool and data set; wall = hyperfine "
          "mean ± stddev of the whole process; agreement = testcases.json verdicts with "
          "6-2-08-02/6-2-09-02 invalid (list rule = the peer kit's rule, both valid)")
    head = (f"{'data set':<11} {'tool':<44} {'files':>5} {'wall s':>7} {'±':>6} {'docs/s':>7} "
            f"{'valid':>5} {'agreement':>9} {'list rule':>9} {'≠keikai':>7} {'RSS MiB':>7} "
            f"{'× keikai':>8}")
    print(head)
    print("-" * len(head))
    base = {r["dataset"]: r["timing"]["mean"] for r in rows if r["tool"] == "keikai"}
    for r in rows:
        t = r["timing"]
        ratio = t["mean"] / base[r["dataset"]] if r["dataset"] in base else float("nan")
        agree = f'{r["agree"]}/{r["files"]}' if "agree" in r else "-"
        listed = f'{r["agree_list_rule"]}/{r["files"]}' if "agree_list_rule" in r else "-"
        differs = len(r["differs_from_keikai"]) if "differs_from_keikai" in r else "-"
        version = r["version"].split("+")[0]
        print(f'{r["dataset"]:<11} {(r["tool"] + " " + version)[:44]:<44} {r["files"]:>5} '
              f'{t["mean"]:>7.3f} {t["stddev"]:>6.3f} {r["files"] / t["mean"]:>7.0f} '
              f'{r["valid"]:>5} {agree:>9} {listed:>9} {differs:>7} {r["max_rss_mib"]:>7.0f} '
              f'{ratio:>7.1f}x')
    print()
    for r in rows:
        if r.get("split_ms"):
            load, val = r["split_ms"]
            print(f'{r["dataset"]}: {r["tool"]}: library import {load / 1000:.2f} s, validation '
                  f'{val / 1000:.2f} s ({val / r["files"]:.2f} ms per document) inside the process')
    for r in rows:
        if r.get("disagreements"):
            shown = ", ".join(os.path.basename(f).removeprefix("oasis_csaf_tc-csaf_2_0-2021-")
                              for f in r["disagreements"][:8])
            more = f" (+{len(r['disagreements']) - 8} more)" if len(r["disagreements"]) > 8 else ""
            print(f'{r["dataset"]}: {r["tool"]} disagrees with testcases.json on {shown}{more}')
    print(f'timings by {rows[0]["timing"]["by"]}; runs: '
          + ", ".join(sorted({f'{r["tool"]} {r["timing"]["runs"]}' for r in rows})))


if __name__ == "__main__":
    sys.exit(main())
