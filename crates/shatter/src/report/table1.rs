//! Table 1: train and test accuracy per model, regularizer setting and labels (true or
//! random), measured beside the paper's CIFAR-10 numbers (assets/paper/table1.csv).

use std::collections::BTreeMap;

use crate::record::RunRecord;
use crate::report::figures::models_of;
use crate::report::runs::{Outcome, mean};

/// The paper's Table 1, compiled in so a report needs no files besides the runs.
const PAPER_TABLE_1: &str = include_str!("../../../../assets/paper/table1.csv");

/// The row a run belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowKey {
    pub model: String,
    pub random_crop: bool,
    pub weight_decay: bool,
    pub corruption: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PaperNumbers {
    pub train: f64,
    pub test: f64,
}

#[derive(Clone, Debug)]
pub struct Table1Row {
    pub key: RowKey,
    /// The distinct weight-decay values behind "yes" (one, usually).
    pub weight_decay_values: Vec<f64>,
    pub runs: usize,
    pub fitted: usize,
    pub diverged: usize,
    /// Mean final accuracies in percent over the row's runs that did not diverge.
    pub train: Option<f64>,
    pub test: Option<f64>,
    pub paper: Option<PaperNumbers>,
}

/// The paper's rows, keyed as shatter's runs are.
pub fn paper_table_1() -> BTreeMap<RowKey, PaperNumbers> {
    PAPER_TABLE_1
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("model,") && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let number = |s: &str| {
                s.parse::<f64>()
                    .expect("assets/paper/table1.csv holds numbers")
            };
            (
                RowKey {
                    model: f[0].into(),
                    random_crop: f[1] == "yes",
                    weight_decay: f[2] == "yes",
                    corruption: f[3].into(),
                },
                PaperNumbers {
                    train: number(f[4]),
                    test: number(f[5]),
                },
            )
        })
        .collect()
}

/// Rows for every (model, random crop, weight decay, labels) the runs cover, with true or
/// random labels only (the other modes are Figure 1's), in the paper's order.
pub fn table_1(runs: &[&RunRecord]) -> Vec<Table1Row> {
    let paper = paper_table_1();
    let mut groups: BTreeMap<RowKey, Vec<&RunRecord>> = BTreeMap::new();
    for &run in runs {
        let c = &run.config;
        if c.corrupt != "none" && c.corrupt != "random-labels" {
            continue;
        }
        // Inception V3 is the paper's ImageNet model: its runs are Table 2's.
        if c.model
            .parse::<shatter_nn::ModelKind>()
            .is_ok_and(|m| m.is_inception_v3())
        {
            continue;
        }
        let key = RowKey {
            model: c.model.clone(),
            random_crop: c.random_crop,
            weight_decay: c.weight_decay > 0.0,
            corruption: c.corrupt.clone(),
        };
        groups.entry(key).or_default().push(run);
    }
    let order = models_of(runs);
    let mut rows: Vec<Table1Row> = groups
        .into_iter()
        .map(|(key, group)| {
            let finite: Vec<&&RunRecord> = group.iter().filter(|r| !r.diverged).collect();
            let mut weight_decay_values: Vec<f64> =
                group.iter().map(|r| r.config.weight_decay).collect();
            weight_decay_values.sort_by(f64::total_cmp);
            weight_decay_values.dedup();
            Table1Row {
                paper: paper.get(&key).cloned(),
                weight_decay_values,
                runs: group.len(),
                fitted: group
                    .iter()
                    .filter(|r| Outcome::of(r) == Outcome::Fitted)
                    .count(),
                diverged: group.len() - finite.len(),
                train: mean(finite.iter().map(|r| 100.0 * r.final_train_accuracy)),
                test: mean(finite.iter().map(|r| 100.0 * r.final_test_accuracy)),
                key,
            }
        })
        .collect();
    // The paper's order: model, then regularized first, true labels before random.
    rows.sort_by_key(|r| {
        (
            order.iter().position(|m| *m == r.key.model),
            !r.key.random_crop,
            !r.key.weight_decay,
            r.key.corruption != "none",
        )
    });
    rows
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.2}"))
}

fn labels(corruption: &str) -> &'static str {
    if corruption == "none" {
        "true"
    } else {
        "random"
    }
}

fn status(row: &Table1Row) -> String {
    let mut s = format!("{}/{} fitted", row.fitted, row.runs);
    if row.diverged > 0 {
        s.push_str(&format!(", {} diverged", row.diverged));
    }
    s
}

/// Table 1 as CSV: one header line, then one line per row; empty cells where the paper
/// has no such row or no run finished without diverging.
pub fn table_1_csv(rows: &[Table1Row]) -> String {
    let mut out = String::from(
        "model,random_crop,weight_decay,labels,runs,fitted,diverged,train_accuracy,test_accuracy,paper_train_accuracy,paper_test_accuracy\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            r.key.model,
            yes_no(r.key.random_crop),
            r.weight_decay_values
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            labels(&r.key.corruption),
            r.runs,
            r.fitted,
            r.diverged,
            percent(r.train),
            percent(r.test),
            percent(r.paper.as_ref().map(|p| p.train)),
            percent(r.paper.as_ref().map(|p| p.test)),
        ));
    }
    out
}

/// Table 1 as a Markdown table, measured beside the paper.
pub fn table_1_markdown(rows: &[Table1Row]) -> String {
    let mut out = String::from(
        "| model | random crop | weight decay | labels | runs | train % | test % | paper train % | paper test % |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let wd = if r.key.weight_decay {
            r.weight_decay_values
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "no".into()
        };
        let (paper_train, paper_test) = match &r.paper {
            Some(p) => (format!("{:.2}", p.train), format!("{:.2}", p.test)),
            None => ("—".into(), "—".into()),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.key.model,
            yes_no(r.key.random_crop),
            wd,
            labels(&r.key.corruption),
            status(r),
            percent(r.train),
            percent(r.test),
            paper_train,
            paper_test,
        ));
    }
    out
}
