"""The cross-check's table: shatter's runs of reference/cross-check.toml beside
reference/train_mlp.py's, per setting, over their seeds.

    python reference/compare.py SHATTER_RESULTS PYTORCH_RESULTS > table.md

SHATTER_RESULTS is the sweep's results folder (its runs/*.json); PYTORCH_RESULTS a folder of
train_mlp.py's records (*.json). For each setting it shows, for each implementation, the
first epoch at which training accuracy reached 99%, 99.9% and 100% (mean over the seeds
that got there, and how many did) and the final test accuracy (mean, with the seeds' range).
"""

import glob
import json
import os
import sys

SETTINGS = ["none", "labels:0.2", "labels:0.4", "labels:0.6", "labels:0.8", "random-labels",
            "shuffled-pixels", "random-pixels", "gaussian"]
LEVELS = ["at_99", "at_99_9", "at_100"]


def shatter_runs(folder):
    runs = {}
    for path in glob.glob(os.path.join(folder, "runs", "*.json")):
        record = json.load(open(path))
        runs.setdefault(record["config"]["corrupt"], []).append(record)
    return runs


def pytorch_runs(folder):
    runs = {}
    for path in glob.glob(os.path.join(folder, "*.json")):
        record = json.load(open(path))
        runs.setdefault(record["corrupt"], []).append(record)
    return runs


def level(records, key):
    reached = [r["fit_epochs"][key] for r in records if r["fit_epochs"][key] is not None]
    if not reached:
        return f"— (0/{len(records)})"
    mean = sum(reached) / len(reached)
    spread = f" [{min(reached)}-{max(reached)}]" if len(reached) > 1 else ""
    count = "" if len(reached) == len(records) else f" ({len(reached)}/{len(records)})"
    return f"{mean:.0f}{spread}{count}"


def test_accuracy(records):
    values = [100 * r["final_test_accuracy"] for r in records]
    mean = sum(values) / len(values)
    return f"{mean:.1f}% [{min(values):.1f}-{max(values):.1f}]"


def main():
    shatter, pytorch = shatter_runs(sys.argv[1]), pytorch_runs(sys.argv[2])
    print("| setting | | 99% | 99.9% | 100% | test accuracy |")
    print("|---|---|---|---|---|---|")
    for setting in SETTINGS:
        for name, runs in (("shatter", shatter), ("PyTorch", pytorch)):
            records = runs.get(setting, [])
            if not records:
                continue
            cells = [level(records, key) for key in LEVELS]
            label = f"`{setting}`" if name == "shatter" else ""
            print(f"| {label} | {name} ({len(records)} seed{'' if len(records) == 1 else 's'}) | " + " | ".join(cells)
                  + f" | {test_accuracy(records)} |")


if __name__ == "__main__":
    main()
