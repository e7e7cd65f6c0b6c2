#!/usr/bin/env python3
"""Per-seed paired comparison of the paper-size evidence runs (issue 16, REPRODUCTION.md "Claim 3 at
the paper's size").

Reads the curves.csv of each experiment folder written by run_paper_scale.sh and prints, per method
and seed, the final and best test accuracy and the iterations to 90 % and 95 %, then the paired
differences that the verdict needs — bptt − readout, hybrid − readout and es − bptt (case A), and
the authors' frozen-W_rec hybrid − readout — as mean ± sd over the seeds both sides ran. Run r of every method
uses seed r, so the pairs share initialization, minibatches and test set. Missing experiments are
named, not guessed. Writes paired.json beside the folders.

Usage: Validation/reproduction/paired.py [Validation/reproduction/paper-scale]
"""
import csv
import json
import pathlib
import statistics
import sys

PAIRS = [
    ("A-bptt", "A-readout", "bptt − readout (case A)"),
    ("A-hybrid-alternate", "A-readout", "hybrid − readout (case A)"),
    ("A-es", "A-bptt", "es − bptt (case A)"),
    ("A-hidden-es-readout-frozen", "A-readout", "hidden by ES, readout frozen − readout (case A)"),
    ("authors-hybrid-frozen-Wrec", "authors-readout", "authors' hybrid (W_rec frozen) − readout"),
]


def runs(folder: pathlib.Path):
    """{seed: {"final", "best", "to90", "to95", "iterations"}} from a folder's curves.csv, or None."""
    path = folder / "curves.csv"
    if not path.exists():
        return None
    table = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            if not row.get("test_metric"):
                continue
            entry = table.setdefault(int(row["run"]), [])
            entry.append((int(row["iteration"]), float(row["test_metric"])))
    result = {}
    for run, points in table.items():
        points.sort()
        first = lambda bar: next((i for i, value in points if value >= bar), None)
        result[run] = {
            "final": points[-1][1], "best": max(v for _, v in points), "iterations": points[-1][0],
            "to90": first(0.90), "to95": first(0.95),
        }
    return result


def summary(values):
    if not values:
        return None
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def main():
    base = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "paper-scale")
    experiments = {folder.name: runs(folder) for folder in sorted(base.iterdir()) if folder.is_dir()}
    report = {"experiments": experiments, "pairs": []}
    print("| experiment | seed | final | best | it to 90 % | it to 95 % | iterations |")
    print("|---|---|---|---|---|---|---|")
    for name, table in experiments.items():
        for seed, r in sorted((table or {}).items()):
            print(f"| {name} | {seed} | {r['final']:.3f} | {r['best']:.3f} | {r['to90'] or '–'} | {r['to95'] or '–'} | {r['iterations']} |")
    print()
    print("| paired difference | seeds | final accuracy | best accuracy |")
    print("|---|---|---|---|")
    for left, right, label in PAIRS:
        a, b = experiments.get(left), experiments.get(right)
        if not a or not b:
            missing = [n for n, t in ((left, a), (right, b)) if not t]
            print(f"| {label} | – | not run yet: {', '.join(missing)} | |")
            report["pairs"].append({"pair": label, "missing": missing})
            continue
        seeds = sorted(set(a) & set(b))
        final = summary([a[s]["final"] - b[s]["final"] for s in seeds])
        best = summary([a[s]["best"] - b[s]["best"] for s in seeds])
        text = lambda x: f"{x['mean']:+.3f} ± {x['sd']:.3f}" if x else "–"
        print(f"| {label} | {', '.join(map(str, seeds))} | {text(final)} | {text(best)} |")
        report["pairs"].append({"pair": label, "seeds": seeds, "final": final, "best": best})
    (base / "paired.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
