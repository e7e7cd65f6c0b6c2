#!/usr/bin/env python3
"""The figures of REPRODUCTION.md "Claim 3 at the paper's size": every paper-size evidence run in
one plot, and each method's per-seed difference from the readout-only control.

Reads the experiment folders that run_paper_scale.sh writes (through paired.py's reader) and
writes, beside them:
  accuracy.svg     test accuracy against iteration — case A (readout, BPTT, ES, the hybrid, hidden
                   by ES with the readout frozen) and the authors' timing (readout, their
                   frozen-W_rec hybrid, the same with W_rec trained); the line is the mean over seeds, the band min–max
  vs-readout.svg   per seed, each method's test accuracy minus the readout-only run's on the same
                   seed (same initialization, minibatches and test set), at every evaluation
Experiments that have not run yet are left out of the legend, not drawn.

Needs matplotlib (Validation/bench/peers/setup.sh installs it, or `pip install matplotlib`).
Usage: Validation/reproduction/plot_paper_scale.py [Validation/reproduction/paper-scale]
"""
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from paired import runs

SETTINGS = ("128 snic neurons, Adam 5e-3, cross-entropy, ES σ = 0.1, S = 100; "
            "test accuracy on 512 held-out trials")
CASE_A = [
    ("A-readout", "readout only (W_in, W_rec at init)", "tab:gray"),
    ("A-bptt", "BPTT, every weight", "tab:blue"),
    ("A-es", "ES, every weight", "tab:red"),
    ("A-hybrid-alternate", "hybrid: ES on W_in/W_rec, readout exact", "tab:orange"),
    ("A-hidden-es-readout-frozen", "ES on W_in/W_rec, readout frozen", "tab:purple"),
]
AUTHORS = [
    ("authors-readout", "readout only", "tab:gray"),
    ("authors-hybrid-frozen-Wrec", "authors' hybrid (plain ES, W_rec frozen)", "tab:green"),
    ("authors-hybrid-Wrec-trained", "authors' hybrid with W_rec trained", "tab:olive"),
]
CONTROL = {"A": "A-readout", "authors": "authors-readout"}


def curves(table):
    """(iterations, mean, low, high) over the seeds, at the evaluations every seed made."""
    shared = sorted(set.intersection(*(set(run["curve"]) for run in table.values())))
    values = [[run["curve"][i] for run in table.values()] for i in shared]
    return shared, [sum(v) / len(v) for v in values], [min(v) for v in values], [max(v) for v in values]


def accuracy_panel(axis, experiments, lines, title):
    for name, label, colour in lines:
        table = experiments.get(name)
        if not table:
            continue
        x, mean, low, high = curves(table)
        seeds = len(table)
        axis.plot(x, mean, color=colour, label=f"{label} ({seeds} seed{'s' if seeds > 1 else ''})")
        if seeds > 1:
            axis.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0)
    axis.axhline(1 / 3, color="black", linestyle=":", linewidth=1, label="chance (1/3)")
    axis.axhline(0.95, color="black", linestyle="--", linewidth=1, label="paper's claim (0.95)")
    axis.set(title=title, xlabel="iteration", ylabel="test accuracy (held out)", ylim=(0.2, 1.0))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)


def difference_panel(axis, experiments):
    for name, label, colour in CASE_A[1:] + AUTHORS[1:]:
        table = experiments.get(name)
        control = experiments.get(CONTROL["authors" if name.startswith("authors") else "A"])
        if not table or not control:
            continue
        for k, seed in enumerate(sorted(set(table) & set(control))):
            shared = sorted(set(table[seed]["curve"]) & set(control[seed]["curve"]) - {0})
            difference = [table[seed]["curve"][i] - control[seed]["curve"][i] for i in shared]
            axis.plot(shared, difference, color=colour, marker="o", markersize=3,
                      linestyle=("-", "--", ":")[k % 3], label=f"{label}, seed {seed}")
    axis.axhline(0, color="black", linewidth=1)
    axis.set(title="Against the readout-only control, paired by seed",
             xlabel="iteration", ylabel="test accuracy − readout-only run's (same seed)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))


def main():
    base = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "paper-scale")
    experiments = {folder.name: runs(folder) for folder in sorted(base.iterdir()) if folder.is_dir()}

    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 6.2), sharey=True)
    accuracy_panel(left, experiments, CASE_A, "Case A: 6 ms tokens (3000 steps of 0.1 ms), batch 64")
    accuracy_panel(right, experiments, AUTHORS, "Authors' timing: 4 ms tokens (2000 steps), batch 50")
    figure.suptitle(f"Evidence integration at the paper's size — {SETTINGS}", fontsize=10)
    figure.tight_layout()
    figure.savefig(base / "accuracy.svg")

    figure, axis = plt.subplots(figsize=(11, 5))
    difference_panel(axis, experiments)
    figure.suptitle(SETTINGS, fontsize=9)
    figure.tight_layout()
    figure.savefig(base / "vs-readout.svg")
    print(f"wrote {base / 'accuracy.svg'} and {base / 'vs-readout.svg'}")


if __name__ == "__main__":
    main()
