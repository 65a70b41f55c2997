//! The report from a results folder of made-up runs: every figure and table is written,
//! Table 1 carries the paper's numbers, and runs that did not fit or diverged are shown as
//! such. No GPU needed.

use shatter::rademacher::mean_and_interval;
use shatter::report::{
    paper_table_1, table_1, table_1_csv, table_2, table_2_markdown, write_report,
};
use shatter_tests::fixtures::{Ending, run_record, write_record};

fn fixture_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let runs = [
        // mlp1x512: every level fitted, slower and worse on test as p grows.
        run_record("mlp1x512", "none", 1, Ending::FittedAt(5), 0.80),
        run_record("mlp1x512", "labels:0.5", 1, Ending::FittedAt(10), 0.45),
        run_record("mlp1x512", "random-labels", 1, Ending::FittedAt(15), 0.10),
        run_record("mlp1x512", "random-labels", 2, Ending::FittedAt(17), 0.12),
        run_record("mlp1x512", "shuffled-pixels", 1, Ending::FittedAt(6), 0.70),
        run_record("mlp1x512", "random-pixels", 1, Ending::FittedAt(4), 0.10),
        run_record("mlp1x512", "gaussian", 1, Ending::FittedAt(3), 0.10),
        // alexnet: random labels did not fit in the budget, p = 0.5 diverged.
        run_record("alexnet", "none", 1, Ending::FittedAt(8), 0.85),
        run_record("alexnet", "labels:0.5", 1, Ending::Diverged, 0.10),
        run_record("alexnet", "random-labels", 1, Ending::NotFitted, 0.11),
    ];
    for run in &runs {
        write_record(out, run);
    }
    // A weight-decay run: a Table 1 row of its own, not on Figure 1.
    let mut regularized = run_record("mlp1x512", "none", 1, Ending::FittedAt(6), 0.82);
    regularized.config.weight_decay = 0.0005;
    write_record(out, &regularized);
    std::fs::write(out.join("runs").join("broken.json"), "{").unwrap();
    dir
}

#[test]
fn a_report_has_every_figure_and_table() {
    let dir = fixture_folder();
    let out = dir.path();
    let summary = write_report(out).unwrap();
    assert_eq!(summary.runs, 11);
    assert_eq!(summary.skipped.len(), 1);
    let names: Vec<String> = summary
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "figure1a-alexnet.png",
            "figure1a-mlp1x512.png",
            "figure1b.png",
            "figure1c.png",
            "table1.csv",
            "table1.md",
            "report.md"
        ]
    );
    for png in names.iter().filter(|n| n.ends_with(".png")) {
        let image = image::open(out.join(png)).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (960, 640), "{png}");
        // Not a blank canvas: curves and text in colours other than white.
        let coloured = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(coloured > 10_000, "{png}: only {coloured} drawn pixels");
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for expected in [
        "- Runs: 11 finished: 9 fitted, 1 did not fit, 1 diverged",
        "- Adapter: fixture adapter [vulkan, Cpu] driver fixture 1.0",
        "- Commit: 0123456789ab (shatter 0.1.0)",
        "![Figure 1a, mlp1x512](figure1a-mlp1x512.png)",
        "![figure1b.png](figure1b.png)",
        "![figure1c.png](figure1c.png)",
        "[table1.csv](table1.csv)",
        "- alexnet random-labels seed 1: did not fit after 20 epochs (train 90.00%, budget 20 epochs, threshold 1)",
        "- alexnet labels:0.5 seed 1: diverged after 3 epochs",
        "Figure 1b: alexnet at p=1: 1 of 1 runs did not fit; the hollow point is the images seen, a lower bound",
        "## Files skipped in runs/\n\n- runs/broken.json: not a run record (EOF while parsing",
    ] {
        assert!(
            report.contains(expected),
            "report.md lacks {expected:?}:\n{report}"
        );
    }
}

/// Inception V3's runs make Table 2, not Table 1: its rows are augmentation, dropout and
/// weight decay with true or random labels, with top-1 and top-5, and the paper's one
/// known number (95.20% top-1 training accuracy on random labels, no regularizer).
#[test]
fn inception_v3_runs_make_table_2() {
    let dir = fixture_folder();
    let out = dir.path();
    let mut runs = vec![
        run_record("inception-v3", "none", 1, Ending::FittedAt(5), 0.60),
        run_record(
            "inception-v3-nodropout",
            "random-labels",
            1,
            Ending::NotFitted,
            0.01,
        ),
        run_record(
            "inception-v3-nodropout",
            "random-labels",
            2,
            Ending::FittedAt(9),
            0.03,
        ),
        // Figure 1's modes are not Table 2's.
        run_record("inception-v3", "gaussian", 1, Ending::FittedAt(4), 0.02),
    ];
    runs[0].final_test_top5_accuracy = 0.9;
    runs[1].final_test_top5_accuracy = 0.04;
    runs[2].final_test_top5_accuracy = 0.06;
    runs[0].config.random_crop = true;
    for run in &runs {
        write_record(out, run);
    }
    let results = shatter::sweep::read_results(out).unwrap();
    let records: Vec<_> = results.runs.values().collect();
    assert_eq!(
        table_2_markdown(&table_2(&records)),
        "| labels | augmentation | dropout | weight decay | runs | train top-1 % | test top-1 % | test top-5 % | paper train top-1 % |\n\
         |---|---|---|---|---|---|---|---|---|\n\
         | true | yes | yes | no | 1 | 100.00 | 60.00 | 90.00 | — |\n\
         | random | no | no | no | 2 | 95.00 | 2.00 | 5.00 | 95.20 |\n"
    );
    assert!(
        table_1(&records)
            .iter()
            .all(|r| !r.key.model.starts_with("inception-v3")),
        "Table 1 is the CIFAR-10 models'"
    );
    write_report(out).unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Table 2"), "{report}");
    assert!(out.join("table2.md").exists());
    assert!(
        !std::fs::read_to_string(out.join("table1.md"))
            .unwrap()
            .contains("Table 2")
    );
}

#[test]
fn table_1_puts_the_papers_numbers_beside_the_measured_ones() {
    let dir = fixture_folder();
    let results = shatter::sweep::read_results(dir.path()).unwrap();
    let records: Vec<_> = results.runs.values().collect();
    let csv = table_1_csv(&table_1(&records));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines,
        [
            "model,random_crop,weight_decay,labels,runs,fitted,diverged,train_accuracy,test_accuracy,paper_train_accuracy,paper_test_accuracy",
            "alexnet,no,0,true,1,1,0,100.00,85.00,100.00,76.07",
            "alexnet,no,0,random,1,0,0,90.00,11.00,99.82,9.86",
            "mlp1x512,no,0.0005,true,1,1,0,100.00,82.00,99.80,50.39",
            "mlp1x512,no,0,true,1,1,0,100.00,80.00,100.00,50.51",
            "mlp1x512,no,0,random,2,2,0,100.00,11.00,99.34,10.61",
        ]
    );
    // Every row of the paper's table is there, and its numbers are the paper's.
    let paper = paper_table_1();
    assert_eq!(paper.len(), 19);
    let inception = paper
        .iter()
        .find(|(k, _)| k.model == "inception" && k.random_crop && k.weight_decay)
        .unwrap()
        .1;
    assert_eq!((inception.train, inception.test), (100.0, 89.05));
}

#[test]
fn the_rademacher_interval_is_students_t_over_the_draws() {
    let (mean, half) = mean_and_interval(&[1.0]);
    assert_eq!((mean, half), (1.0, None));
    let (mean, half) = mean_and_interval(&[0.2, 0.4, 0.6]);
    assert!((mean - 0.4).abs() < 1e-12);
    // sd 0.2, t(0.975, 2) = 4.303: 4.303 * 0.2 / sqrt(3).
    assert!((half.unwrap() - 4.303 * 0.2 / 3f64.sqrt()).abs() < 1e-9);
}
