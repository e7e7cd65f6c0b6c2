"""Turns a run of Validation/bench/run_all.sh into results.json, results.csv, report.md and a plot.

    python report.py RESULTS_DIR        # reads RESULTS_DIR/results.jsonl (+ meta.json)

report.md is the table for the README's "Performance" section: for every workload and precision,
NeuroODE's time, each peer's best variant, the ratio NeuroODE/peer (below 1: NeuroODE is faster),
memory where measured, and for the network workloads each tool's fraction of the machine's limit:

    fraction = (GEMM flops / GEMM rate + exponentials / exp rate) / measured seconds

with the rates from probe.py (one core's rate × the cores, the ideal the machine allows), and per
neuron-step 2N GEMM flops and 3 exponentials forward (T, m∞, and one for w∞ and τ); BPTT counts 3×
the GEMM flops (W_rec·T forward, W_recᵀ·λ and λ·Tᵀ backward), rematerialised BPTT 4× and 6
exponentials; ES counts S + 1 forward runs. Spiral and ROBER are dominated by small operations and
solver control, not by a throughput limit, so they get no fraction.
"""
import csv
import json
import math
import pathlib
import sys

WORKLOADS = [
    ("network-forward", "network forward", "s"),
    ("es-iteration", "one ES iteration", "s"),
    ("bptt", "BPTT", "s"),
    ("bptt-checkpointed", "checkpointed BPTT", "s"),
    ("spiral-H50", "spiral training iteration, H = 50", "ms"),
    ("spiral-H1000", "spiral training iteration, H = 1000", "ms"),
    ("rober", "ROBER to 4e10, BDF", "ms"),
]
PEERS = ["jax", "pytorch", "numpy", "diffrax", "torchdiffeq", "scipy", "c-cvode"]
CSV_FIELDS = ["tool", "workload", "precision", "variant", "status", "seconds", "milliseconds", "peakBytes",
              "addedBytes", "compileSeconds", "neuronStepsPerSecond", "loss", "gradientNorm", "version", "error",
              "settings"]


def load(directory: pathlib.Path):
    records = []
    for line in (directory / "results.jsonl").read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    meta_path = directory / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return records, meta


def variant(record):
    return (record.get("settings") or {}).get("variant", "")


def ok(record):
    return record.get("status", "ok") == "ok" and isinstance(record.get("seconds", record.get("milliseconds")), (int, float))


def seconds(record):
    if "seconds" in record:
        return record["seconds"]
    return record["milliseconds"] / 1e3


def memory(record):
    """Resident memory the measured call added (NeuroODE reports the same quantity as peakBytes)."""
    if record.get("tool") == "neuroode":
        return record.get("peakBytes")
    return record.get("addedBytes")


def best(records, tool, workload, precision):
    candidates = [r for r in records if r.get("tool") == tool and r.get("workload") == workload
                  and r.get("precision") == precision and ok(r)]
    return min(candidates, key=seconds) if candidates else None


def neuroode_for(records, workload, precision):
    """NeuroODE's record for a row; a command without a float32 path (all its records float64)
    stands beside the peers' float32 too."""
    mine = best(records, "neuroode", workload, precision)
    if mine is None and precision == "f32":
        only = [r for r in records if r.get("tool") == "neuroode" and r.get("workload") == workload and ok(r)]
        if only and all(r.get("precision") == "f64" for r in only):
            mine = best(records, "neuroode", workload, "f64")
    return mine


def limit_seconds(record, probe):
    """The machine's lower bound on the record's work (see the module docstring), or None."""
    workload = record.get("workload")
    settings = record.get("settings") or {}
    if probe is None or workload not in ("network-forward", "es-iteration", "bptt", "bptt-checkpointed"):
        return None
    n = settings.get("neurons", 128)
    b = settings.get("batch", 64)
    steps = settings.get("steps", {"bptt-checkpointed": 10000}.get(workload, 3000))
    runs = settings.get("samples", 100) + 1 if workload == "es-iteration" else 1
    gemm_factor, exps = {"network-forward": (1, 3), "es-iteration": (1, 3), "bptt": (3, 3),
                         "bptt-checkpointed": (4, 6)}[workload]
    suffix = "F32" if record.get("precision") == "f32" else "F64"
    cores = probe.get("cores") or 1
    gemm_rate = probe.get(f"gemmFlopsPerSecond{suffix}1Thread", 0) * cores
    exp_rate = probe.get(f"expPerSecond{suffix}1Thread", 0) * cores
    if not gemm_rate or not exp_rate:
        return None
    neuron_steps = n * b * steps * runs
    return neuron_steps * (gemm_factor * 2 * n / gemm_rate + exps / exp_rate)


def sizes_line(records):
    """The network workloads' sizes as the peers ran them (NeuroODE's commands use the same)."""
    parts = []
    for workload, title, _ in WORKLOADS[:4]:
        r = next((r for r in records if r.get("workload") == workload and ok(r) and r.get("tool") != "neuroode"
                  and (r.get("settings") or {}).get("neurons")), None)
        if r:
            st = r["settings"]
            text = f"{title}: {st['neurons']} neurons × {st['batch']} trials, {st['steps']} steps of 0.1 ms"
            if "samples" in st:
                text += f", S = {st['samples']} mirrored samples + the centre"
            parts.append(text)
    return "; ".join(parts) + "." if parts else ""


def loss_lines(records):
    """The final mean voltage of the forward and L(θ) at the seeded θ as each tool computed them:
    the same function of the same numbers."""
    lines = []
    means = [f"{r['tool']} {r.get('precision', '')} {r['finalMeanV']:.{7 if r.get('precision') == 'f32' else 10}g}"
             for r in records if r.get("workload") == "network-forward" and ok(r)
             and isinstance(r.get("finalMeanV"), (int, float))]
    if means:
        lines.append("- network forward, final mean V (mV): " + ", ".join(dict.fromkeys(means)))
    for workload, title, _ in WORKLOADS[1:4]:
        values = [f"{r['tool']} {r.get('precision', '')} {r['loss']:.{7 if r.get('precision') == 'f32' else 10}g}"
                  for r in records
                  if r.get("workload") == workload and ok(r) and isinstance(r.get("loss"), (int, float))]
        if values:
            lines.append(f"- {title}: " + ", ".join(dict.fromkeys(values)))
    return ["Check values at the seeded network and θ (every tool computes the same function; float64 "
            "agrees to rounding amplified by the spiking dynamics, float32 to its accuracy):", ""] + lines + [""] if lines else []


def fmt_time(value, unit):
    if value is None:
        return "—"
    if unit == "ms":
        value *= 1e3
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def fmt_bytes(value):
    if value is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} B"


def fraction(record, probe):
    bound = limit_seconds(record, probe) if record else None
    return f"{100 * bound / seconds(record):.2g} %" if bound else ""


def table(records, probe):
    lines = ["| work | precision | NeuroODE | peer | peer time | NeuroODE / peer | memory NeuroODE / peer | "
             "NeuroODE % of machine | peer % of machine |",
             "|---|---|---|---|---|---|---|---|---|"]
    precisions = ["f32", "f64"]
    for workload, title, unit in WORKLOADS:
        for precision in precisions:
            mine = neuroode_for(records, workload, precision)
            peers = [(tool, best(records, tool, workload, precision)) for tool in PEERS]
            peers = [(tool, r) for tool, r in peers if r is not None]
            if not peers and (mine is None or mine.get("precision") != precision):
                continue
            missing = [r for r in records if r.get("tool") == "neuroode" and r.get("workload") == workload
                       and r.get("precision") in (precision, "f64") and not ok(r)]
            mine_text = fmt_time(seconds(mine), unit) if mine else ("missing" if missing else "—")
            if mine and mine.get("precision") != precision:
                mine_text += f" ({mine['precision']})"
            for tool, peer in peers or [("—", None)]:
                ratio = f"{seconds(mine) / seconds(peer):.2f}" if mine and peer else ""
                mem = ""
                if mine and peer and (memory(mine) or memory(peer)):
                    mem = f"{fmt_bytes(memory(mine))} / {fmt_bytes(memory(peer))}"
                label = tool if not peer or not variant(peer) else f"{tool} ({variant(peer)})"
                extra = ""
                if peer and peer.get("compileSeconds") is not None and unit == "ms":
                    extra = f" + {peer['compileSeconds']:.1f} s compile"
                lines.append(f"| {title} | {precision} | {mine_text} | {label} | "
                             f"{fmt_time(seconds(peer), unit) if peer else '—'}{extra} | {ratio} | {mem} | "
                             f"{fraction(mine, probe)} | {fraction(peer, probe) if peer else ''} |")
    return "\n".join(lines)


def machine_line(probe, meta):
    if probe is None:
        return "Machine: (no probe record)"
    g = lambda key: probe.get(key, 0) / 1e9  # noqa: E731
    return (f"Machine: {probe.get('cpu')}, {probe.get('cores')} logical cores, SIMD {', '.join(probe.get('simd', []))}; "
            f"GEMM (OpenBLAS via NumPy, n = {probe.get('gemmSize', '?')}) {g('gemmFlopsPerSecondF641Thread'):.1f} GFLOP/s f64 and "
            f"{g('gemmFlopsPerSecondF321Thread'):.1f} f32 on one core ({g('gemmFlopsPerSecondF64AllCores'):.1f} / "
            f"{g('gemmFlopsPerSecondF32AllCores'):.1f} on all cores); exp {g('expPerSecondF641Thread'):.2f} G/s f64 and "
            f"{g('expPerSecondF321Thread'):.2f} G/s f32 per core (glibc vector exp, -march=native)."
            + (f" Run {meta.get('date')} at commit {meta.get('commit', '?')[:10]}{' (quick sizes)' if meta.get('quick') else ''}."
               if meta else ""))


def plot(records, directory: pathlib.Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    panels = []
    for workload, title, unit in WORKLOADS:
        for precision in ("f32", "f64"):
            bars = []
            for tool in ["neuroode"] + PEERS:
                r = neuroode_for(records, workload, precision) if tool == "neuroode" else best(records, tool, workload, precision)
                if r is not None:
                    label = f"{tool} {variant(r)}".strip()
                    if r.get("precision") != precision:
                        label += f" ({r['precision']})"
                    bars.append((label, seconds(r) * (1e3 if unit == "ms" else 1)))
            if any(not label.startswith("neuroode") for label, _ in bars):   # a panel compares
                panels.append((f"{title} ({precision})", unit, bars))
    if not panels:
        return
    columns = 2
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(12, 2.2 * rows + 0.5), squeeze=False)
    for ax, (title, unit, bars) in zip(axes.flat, panels):
        labels, values = zip(*bars)
        colors = ["tab:red" if label.startswith("neuroode") else "tab:blue" for label in labels]
        ax.barh(range(len(values)), values, color=colors)
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlim(min(values) / 3, max(values) * 3)
        # Labels on the decades only: minor labels on a short log axis overlap.
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlabel(f"{unit} (log scale)", fontsize=8)
        ax.set_title(title, fontsize=9)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.3g}", va="center", fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle("NeuroODE (red) and peers, same machine, one run — lower is faster", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    for suffix in ("png", "svg"):
        fig.savefig(directory / f"plot.{suffix}", dpi=110)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    directory = pathlib.Path(sys.argv[1])
    records, meta = load(directory)
    probe = next((r for r in records if r.get("tool") == "machine"), None)
    measurements = [r for r in records if r.get("tool") != "machine"]
    (directory / "results.json").write_text(json.dumps(dict(meta=meta, machine=probe, records=measurements), indent=1))
    with open(directory / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for r in measurements:
            row = dict(r, variant=variant(r), status=r.get("status", "ok"),
                       settings=json.dumps(r.get("settings", {}), sort_keys=True))
            writer.writerow(row)
    missing = [f"{r.get('tool')} {r.get('workload')} {r.get('precision', '')}: {r.get('error', '')}"
               for r in measurements if not ok(r)]
    text = [machine_line(probe, meta), "", sizes_line(measurements), "", table(measurements, probe), ""]
    text += loss_lines(measurements)
    if missing:
        text += ["Not measured (the command or script failed):", ""] + [f"- {m}" for m in missing] + [""]
    text += ["Memory is the resident memory the measured call added (VmHWM − RSS before). "
             "Ratios below 1: NeuroODE is faster. Regenerate: `Validation/bench/run_all.sh`."]
    (directory / "report.md").write_text("\n".join(text) + "\n")
    plot(measurements, directory)
    print((directory / "report.md").read_text())


if __name__ == "__main__":
    main()
