//! The report of a results folder: Figure 1 (a per model, b, c) as PNGs, Table 1 as CSV
//! and Markdown beside the paper's numbers, and report.md linking them with the adapter,
//! the commit and the wall time. It reads only `<out>/runs` (and `<out>/sweep.toml`, to
//! name the runs still missing), so it can be rebuilt at any time.

mod figures;
mod runs;
mod table1;
mod table2;

pub use figures::{figure_1a, figure_1b, figure_1c, models_of, rademacher_figure};
pub use runs::{Outcome, label_corruption_level};
pub use table1::{
    PaperNumbers, RowKey, Table1Row, paper_table_1, table_1, table_1_csv, table_1_markdown,
};
pub use table2::{Table2Key, Table2Row, table_2, table_2_markdown};

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::atomic_file::write_atomic;
use crate::record::RunRecord;
use crate::sweep::{Sweep, read_results};

/// What writing a report produced.
#[derive(Debug, Default)]
pub struct ReportSummary {
    /// Every file written, report.md last.
    pub files: Vec<PathBuf>,
    pub runs: usize,
    /// Files in runs/ that were not run records, one line each.
    pub skipped: Vec<String>,
    /// Runs of `<out>/sweep.toml` with no record yet.
    pub missing: usize,
}

/// The file name of Figure 1a for `model`.
pub fn figure_1a_file(model: &str) -> String {
    format!("figure1a-{model}.png")
}

/// Write every figure and table of the runs in `out`, then report.md.
pub fn write_report(out: &Path) -> Result<ReportSummary> {
    let results = read_results(out)?;
    let mut records: Vec<&RunRecord> = results.runs.values().collect();
    // Read in the paper's order: by model, then corruption level (pixel modes after), seed.
    let models = models_of(&records);
    records.sort_by(|a, b| {
        let key = |r: &RunRecord| {
            (
                models.iter().position(|m| *m == r.config.model),
                label_corruption_level(&r.config.corrupt).map_or(2.0, |p| p),
                r.config.corrupt.clone(),
                r.config.seed,
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ka.2.cmp(&kb.2))
            .then(ka.3.cmp(&kb.3))
    });
    let mut summary = ReportSummary {
        runs: records.len(),
        skipped: results.skipped.clone(),
        ..Default::default()
    };
    let mut notes = Vec::new();
    let mut figures_md = String::new();
    for model in models_of(&records) {
        let file = figure_1a_file(&model);
        let path = out.join(&file);
        // A figure is drawn only when it has runs; never leave an older one in its place.
        let _ = std::fs::remove_file(&path);
        notes.extend(figure_1a(&records, &model, &path)?);
        if path.exists() {
            let _ = writeln!(figures_md, "![Figure 1a, {model}]({file})\n");
            summary.files.push(path);
        }
    }
    for (file, draw) in [
        (
            "figure1b.png",
            figure_1b as fn(&[&RunRecord], &Path) -> Result<Vec<String>>,
        ),
        ("figure1c.png", figure_1c),
    ] {
        let path = out.join(file);
        let _ = std::fs::remove_file(&path);
        notes.extend(draw(&records, &path)?);
        if path.exists() {
            let _ = writeln!(figures_md, "![{file}]({file})\n");
            summary.files.push(path);
        }
    }

    let rows = table_1(&records);
    let csv_path = out.join("table1.csv");
    let md_path = out.join("table1.md");
    let table_md = table_1_markdown(&rows);
    let mut tables_md = table_md.clone();
    let table2_md = table_2_markdown(&table_2(&records));
    if !table2_md.is_empty() {
        let table2_path = out.join("table2.md");
        write_atomic(&table2_path, table2_md.as_bytes())?;
        summary.files.push(table2_path);
        tables_md.push_str(&format!(
            "\n## Table 2\n\nInception V3's accuracy (%) at the end of each run, mean over its runs, as the paper's ImageNet table (its appendix) reports it: augmentation is random crops; the paper's number is the one its text states. Also as [table2.md](table2.md).\n\n{table2_md}"
        ));
    }
    write_atomic(&csv_path, table_1_csv(&rows).as_bytes())?;
    write_atomic(&md_path, table_md.as_bytes())?;
    summary.files.push(csv_path);
    summary.files.push(md_path);

    let sweep_path = out.join("sweep.toml");
    let mut missing_md = String::new();
    if sweep_path.exists() {
        match Sweep::from_file(&sweep_path) {
            Ok(sweep) => {
                let missing: Vec<_> = sweep
                    .runs
                    .iter()
                    .filter(|r| !results.runs.contains_key(&r.id))
                    .collect();
                summary.missing = missing.len();
                for run in missing {
                    let c = &run.config;
                    let _ = writeln!(
                        missing_md,
                        "- {} {} {} seed {}",
                        run.id, c.model, c.corrupt, c.seed
                    );
                }
            }
            Err(e) => notes.push(format!(
                "sweep.toml could not be read, so missing runs are not listed: {e}"
            )),
        }
    }

    let report = report_markdown(
        out,
        &records,
        &figures_md,
        &tables_md,
        &notes,
        &summary,
        &missing_md,
    );
    let report_path = out.join("report.md");
    write_atomic(&report_path, report.as_bytes())?;
    summary.files.push(report_path);
    Ok(summary)
}

fn distinct<'r>(records: &[&'r RunRecord], field: impl Fn(&'r RunRecord) -> String) -> String {
    let values: BTreeSet<String> = records.iter().map(|r| field(r)).collect();
    if values.is_empty() {
        "none".into()
    } else {
        values.into_iter().collect::<Vec<_>>().join("; ")
    }
}

fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60)
}

fn report_markdown(
    out: &Path,
    records: &[&RunRecord],
    figures_md: &str,
    table_md: &str,
    notes: &[String],
    summary: &ReportSummary,
    missing_md: &str,
) -> String {
    let count = |o: Outcome| records.iter().filter(|r| Outcome::of(r) == o).count();
    let mut md = String::new();
    let _ = writeln!(md, "# shatter report: {}\n", out.display());
    let _ = writeln!(
        md,
        "- Runs: {} finished: {} fitted, {} did not fit, {} diverged{}",
        records.len(),
        count(Outcome::Fitted),
        count(Outcome::NotFitted),
        count(Outcome::Diverged),
        if summary.missing > 0 {
            format!("; {} runs of sweep.toml not run yet", summary.missing)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        md,
        "- Dataset: {}",
        distinct(records, |r| format!(
            "{} ({} training images)",
            r.dataset, r.train_images
        ))
    );
    let _ = writeln!(
        md,
        "- Adapter: {}",
        distinct(records, |r| format!(
            "{} [{}, {}] driver {} {}",
            r.adapter.name,
            r.adapter.backend,
            r.adapter.device_type,
            r.adapter.driver,
            r.adapter.driver_info
        ))
    );
    let _ = writeln!(
        md,
        "- Commit: {}",
        distinct(records, |r| format!(
            "{} (shatter {})",
            r.git_commit, r.shatter_version
        ))
    );
    let total: f64 = records.iter().map(|r| r.wall_seconds).sum();
    let span = {
        let finished: Vec<(f64, f64)> = records
            .iter()
            .filter_map(|r| {
                r.finished_unix
                    .map(|f| (f as f64 - r.wall_seconds, f as f64))
            })
            .collect();
        let first = finished.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let last = finished
            .iter()
            .map(|p| p.1)
            .fold(f64::NEG_INFINITY, f64::max);
        (last > first).then_some(last - first)
    };
    let _ = writeln!(
        md,
        "- Wall time: {} of training runs in total{}\n",
        duration(total),
        span.map_or_else(String::new, |s| format!(
            "; {} from the first run's start to the last run's end",
            duration(s)
        ))
    );

    let _ = writeln!(md, "## Figure 1\n");
    let _ = writeln!(
        md,
        "Runs without weight decay or random crops, as in the paper's Figure 1; points and curves are means over the runs at each setting (seeds included). (a) training loss per step; (b) training images seen until the fit threshold, relative to the same model on true labels; (c) test error at the end of each run.\n"
    );
    md.push_str(if figures_md.is_empty() {
        "No runs to draw.\n\n"
    } else {
        figures_md
    });
    for note in notes {
        let _ = writeln!(md, "- {note}");
    }
    if !notes.is_empty() {
        md.push('\n');
    }

    let _ = writeln!(md, "## Table 1\n");
    let _ = writeln!(
        md,
        "Accuracy (%) at the end of each run, mean over its runs; the paper's numbers are CIFAR-10's (Zhang et al. 2017, Table 1), measured here on the dataset above. Also as [table1.csv](table1.csv).\n"
    );
    md.push_str(table_md);
    md.push('\n');

    let unfinished: Vec<&&RunRecord> = records
        .iter()
        .filter(|r| Outcome::of(r) != Outcome::Fitted)
        .collect();
    if !unfinished.is_empty() {
        let _ = writeln!(md, "## Runs that did not fit or diverged\n");
        for r in unfinished {
            let _ = writeln!(
                md,
                "- {} {} seed {}: {} after {} epochs (train {:.2}%, budget {} epochs, threshold {})",
                r.config.model,
                r.config.corrupt,
                r.config.seed,
                Outcome::of(r).describe(),
                r.epochs.len(),
                100.0 * r.final_train_accuracy,
                r.config.epochs,
                r.config.fit_threshold
            );
        }
        md.push('\n');
    }
    if !summary.skipped.is_empty() {
        let _ = writeln!(md, "## Files skipped in runs/\n");
        for s in &summary.skipped {
            let _ = writeln!(md, "- {s}");
        }
        md.push('\n');
    }
    if !missing_md.is_empty() {
        let _ = writeln!(md, "## Runs of sweep.toml not run yet\n\n{missing_md}");
    }

    let _ = writeln!(md, "## All runs\n");
    let _ = writeln!(
        md,
        "| run | model | corruption | seed | weight decay | random crop | outcome | epochs | train % | test % | test top-5 % | seconds |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in records {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {} | {:.1} |",
            crate::sweep::run_id(&r.config),
            r.config.model,
            r.config.corrupt,
            r.config.seed,
            r.config.weight_decay,
            if r.config.random_crop { "yes" } else { "no" },
            Outcome::of(r).describe(),
            r.epochs.len(),
            100.0 * r.final_train_accuracy,
            100.0 * r.final_test_accuracy,
            percent_or_dash(r.final_test_top5_accuracy),
            r.wall_seconds
        );
    }
    md
}

/// A share as a percentage with two decimals, or "—" where it was not measured (NaN: a
/// record older than the metric).
fn percent_or_dash(share: f64) -> String {
    if share.is_finite() {
        format!("{:.2}", 100.0 * share)
    } else {
        "—".to_owned()
    }
}
