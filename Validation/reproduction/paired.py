#!/usr/bin/env python3
"""Per-seed paired comparison of the paper-size evidence runs (issue 16, REPRODUCTION.md "Claim 3 at
the paper's size").

Reads the curves.csv of each experiment folder written by run_paper_scale.sh and prints, per
method and seed, the final and best test accuracy and the iterations and wall seconds to 90 % and
95 % (wall time as the run recorded it, so it includes any sharing of the cores), then the paired
differences the verdict needs — case A: bptt − readout, hybrid − readout, es − bptt, es − readout
and hidden-by-ES-with-the-readout-frozen − readout; the authors' timing: their hybrid − readout,
with W_rec frozen (their runs) and trained — as mean ± sd over the seeds both sides ran, and how
each pair compares along the curve. Run r of every method uses seed r, so the pairs share
initialization, minibatches and test set. Missing experiments are named, not guessed. Writes
paired.json beside the folders.

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
    ("A-es", "A-readout", "es − readout (case A)"),
    ("A-hidden-es-readout-frozen", "A-readout", "hidden by ES, readout frozen − readout (case A)"),
    ("authors-hybrid-frozen-Wrec", "authors-readout", "authors' hybrid (W_rec frozen) − readout"),
    ("authors-hybrid-Wrec-trained", "authors-readout", "authors' hybrid with W_rec trained − readout"),
]


def runs(folder: pathlib.Path):
    """{seed: {"final", "best", "to90", "to95", "seconds90", "seconds95", "iterations", "curve"}} from a
    folder's curves.csv (curve: {iteration: test accuracy}), or None."""
    path = folder / "curves.csv"
    if not path.exists():
        return None
    table = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            if not row.get("test_metric"):
                continue
            entry = table.setdefault(int(row["run"]), [])
            entry.append((int(row["iteration"]), float(row["test_metric"]), float(row["wall_s"])))
    result = {}
    for run, points in table.items():
        points.sort()
        first = lambda bar: next(((i, s) for i, value, s in points if value >= bar), (None, None))
        (to90, seconds90), (to95, seconds95) = first(0.90), first(0.95)
        result[run] = {
            "final": points[-1][1], "best": max(v for _, v, _ in points), "iterations": points[-1][0],
            "to90": to90, "to95": to95, "seconds90": seconds90, "seconds95": seconds95,
            "curve": {i: value for i, value, _ in points},
        }
    return result


def summary(values):
    if not values:
        return None
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def along_the_curve(a, b):
    """How one run's test accuracy compares with its pair's at the evaluations both made after the
    start: how many are above, the mean difference over all of them and over the last 10, and the
    largest difference with its iteration."""
    shared = sorted(set(a["curve"]) & set(b["curve"]) - {0})
    if not shared:
        return None
    differences = [a["curve"][i] - b["curve"][i] for i in shared]
    largest = max(range(len(shared)), key=lambda k: differences[k])
    return {
        "evaluations": len(shared), "above": sum(d > 0 for d in differences),
        "mean": statistics.fmean(differences), "meanLast10": statistics.fmean(differences[-10:]),
        "largest": differences[largest], "largestAt": shared[largest],
    }


def main():
    base = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "paper-scale")
    experiments = {folder.name: runs(folder) for folder in sorted(base.iterdir()) if folder.is_dir()}
    report = {"experiments": experiments, "pairs": []}
    print("| experiment | seed | final | best | it (s) to 90 % | it (s) to 95 % | iterations |")
    print("|---|---|---|---|---|---|---|")
    mark = lambda i, s: f"{i} ({s:.0f} s)" if i is not None else "–"
    for name, table in experiments.items():
        for seed, r in sorted((table or {}).items()):
            print(f"| {name} | {seed} | {r['final']:.3f} | {r['best']:.3f} | {mark(r['to90'], r['seconds90'])} | {mark(r['to95'], r['seconds95'])} | {r['iterations']} |")
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
        text = lambda x: "–" if not x else f"{x['mean']:+.3f}" + (f" ± {x['sd']:.3f}" if x["n"] > 1 else " (one seed)")
        print(f"| {label} | {', '.join(map(str, seeds))} | {text(final)} | {text(best)} |")
        curves = {s: along_the_curve(a[s], b[s]) for s in seeds}
        report["pairs"].append({"pair": label, "seeds": seeds, "final": final, "best": best, "alongTheCurve": curves})
    print()
    print("| paired difference | seed | evaluations above | mean difference | over the last 10 | largest (iteration) |")
    print("|---|---|---|---|---|---|")
    for pair in report["pairs"]:
        for seed, c in sorted((pair.get("alongTheCurve") or {}).items()):
            if c:
                print(f"| {pair['pair']} | {seed} | {c['above']}/{c['evaluations']} | {c['mean']:+.3f} | {c['meanLast10']:+.3f} | {c['largest']:+.3f} ({c['largestAt']}) |")
    (base / "paired.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
