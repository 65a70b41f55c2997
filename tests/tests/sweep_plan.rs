//! Sweep files: expansion into runs, stable run ids, shards, filters, and the results
//! folder's tolerance of files that are not run records. No GPU needed.

use std::collections::BTreeSet;

use shatter::TrainConfig;
use shatter::sweep::{Axis, Shard, Sweep, SweepSpec, read_results, run_id};
use shatter_tests::fixtures::{Ending, run_record, write_record};

fn parse(text: &str) -> Result<Sweep, String> {
    Sweep::parse(text, "mine.toml").map_err(|e| e.to_string())
}

#[test]
fn the_presets_expand_to_the_papers_grids() {
    let quick = Sweep::preset("quick").unwrap();
    assert_eq!(quick.name, "quick");
    // 2 models x (true labels, 5 corruption levels incl. random labels, 3 pixel modes).
    assert_eq!(quick.runs.len(), 18);
    let models: BTreeSet<&str> = quick.runs.iter().map(|r| r.config.model.as_str()).collect();
    assert_eq!(models, BTreeSet::from(["alexnet", "mlp1x512"]));
    assert!(
        quick
            .runs
            .iter()
            .all(|r| r.config.dataset == "fashion-mnist-mini")
    );

    let figure1 = Sweep::preset("figure1").unwrap();
    assert_eq!(figure1.runs.len(), 27);
    let inception = figure1
        .runs
        .iter()
        .find(|r| r.config.model == "inception")
        .unwrap();
    assert_eq!(
        inception.config.lr, 0.1,
        "the paper's rate for the Inception"
    );
    let mlp = figure1
        .runs
        .iter()
        .find(|r| r.config.model == "mlp1x512")
        .unwrap();
    assert_eq!(mlp.config.lr, 0.01);

    // Inception with and without BN, AlexNet, two MLPs; true and random labels; crop and
    // weight decay on and off: 5 x 2 x 2 x 2.
    let table1 = Sweep::preset("table1").unwrap();
    assert_eq!(table1.runs.len(), 40);
    for (model, crop, wd, corrupt) in [
        ("inception-nobn", false, 0.0005, "none"),
        ("inception", true, 0.0005, "none"),
        ("alexnet", false, 0.0, "random-labels"),
        ("mlp3x512", false, 0.0, "none"),
    ] {
        assert!(
            table1.runs.iter().any(|r| r.config.model == model
                && r.config.random_crop == crop
                && r.config.weight_decay == wd
                && r.config.corrupt == corrupt),
            "table1 lacks {model} crop {crop} wd {wd} {corrupt}"
        );
    }
    // Table 2: Inception V3 with random crops, dropout and weight decay each on and off,
    // true and random labels, on 299x299 crops of images at 342, streamed (too large to
    // hold); and its miniature, streamed by request, unregularized.
    let table2 = Sweep::preset("imagenet").unwrap();
    assert_eq!(table2.runs.len(), 16);
    for run in &table2.runs {
        let c = &run.config;
        assert!(c.model.starts_with("inception-v3"), "{}", c.model);
        assert_eq!(
            (c.dataset.as_str(), c.image_size, c.crop),
            ("imagenet", Some(342), 299)
        );
        assert_eq!((c.batch_size, c.lr), (128, 0.1));
    }
    for (model, crop, wd, corrupt) in [
        ("inception-v3", true, 0.00004, "none"),
        ("inception-v3-nodropout", false, 0.0, "random-labels"),
    ] {
        assert!(
            table2.runs.iter().any(|r| r.config.model == model
                && r.config.random_crop == crop
                && r.config.random_flip == crop
                && r.config.weight_decay == wd
                && r.config.corrupt == corrupt),
            "imagenet lacks {model} crop {crop} wd {wd} {corrupt}"
        );
    }
    let mini = Sweep::preset("imagenet-mini").unwrap();
    assert_eq!(mini.runs.len(), 2);
    for run in &mini.runs {
        let c = &run.config;
        assert_eq!(c.model, "inception-v3-nodropout");
        assert_eq!(
            (c.dataset.as_str(), c.image_size, c.crop),
            ("imagenet-mini", None, 75)
        );
        assert!(c.stream && !c.random_crop && c.weight_decay == 0.0);
    }
    let err = Sweep::preset("huge").err().unwrap().to_string();
    assert_eq!(
        err,
        "unknown preset 'huge': expected one of quick, figure1-mini, figure1-fmnist, figure1, table1, imagenet-mini, imagenet"
    );
}

#[test]
fn the_figure1_presets_at_scale_expand_to_three_models_nine_settings_three_seeds() {
    for (name, dataset, epochs) in [
        ("figure1-mini", "fashion-mnist-mini", 300),
        ("figure1-fmnist", "fashion-mnist", 100),
    ] {
        let sweep = Sweep::preset(name).unwrap();
        assert_eq!(sweep.name, name);
        assert_eq!(sweep.runs.len(), 81, "{name}");
        let settings: BTreeSet<(&str, &str, u64)> = sweep
            .runs
            .iter()
            .map(|r| {
                (
                    r.config.model.as_str(),
                    r.config.corrupt.as_str(),
                    r.config.seed,
                )
            })
            .collect();
        assert_eq!(settings.len(), 81, "{name}: every run a setting of its own");
        for run in &sweep.runs {
            let c = &run.config;
            assert_eq!(
                (c.dataset.as_str(), c.subset, c.test_subset),
                (dataset, None, None),
                "{name}: the whole dataset"
            );
            // The paper's recipe.
            assert_eq!(c.batch_size, 128);
            assert_eq!(c.lr, if c.model == "inception" { 0.1 } else { 0.01 });
            assert_eq!((c.momentum, c.lr_decay), (0.9, 0.95));
            assert_eq!(c.lr_decay_images, Some(50_000));
            assert_eq!((c.weight_decay, c.random_crop), (0.0, false));
            assert_eq!(c.epochs, epochs);
            assert_eq!(c.fit_threshold, 0.999);
            let conv_init = if c.model == "mlp1x512" {
                "he"
            } else {
                "glorot"
            };
            assert_eq!(
                c.conv_init, conv_init,
                "{name}: {}'s own initialization",
                c.model
            );
        }
        let models: BTreeSet<&str> = settings.iter().map(|s| s.0).collect();
        assert_eq!(models, BTreeSet::from(["alexnet", "inception", "mlp1x512"]));
        let corruptions: BTreeSet<&str> = settings.iter().map(|s| s.1).collect();
        assert_eq!(corruptions.len(), 9);
        let seeds: BTreeSet<u64> = settings.iter().map(|s| s.2).collect();
        assert_eq!(seeds, BTreeSet::from([1, 2, 3]));
    }
}

#[test]
fn lists_in_train_are_grid_axes_and_single_values_are_settings() {
    let sweep = parse(
        r#"
        [sweep]
        name = "mine"
        dataset = "fashion-mnist-mini"
        subset = 2000
        models = ["mlp1x512", "alexnet"]
        corruptions = ["none", "labels:0.2"]
        seeds = [1, 2]

        [train]
        epochs = 7
        lr = 0.02
        batch_size = 64
        weight_decay = [0.0, 0.0005]
        random_crop = [false, true]
        lr_decay_every = "epoch"
        "#,
    )
    .unwrap();
    assert_eq!(sweep.runs.len(), 2 * 2 * 2 * 2 * 2);
    let first = &sweep.runs[0].config;
    assert_eq!(
        first,
        &TrainConfig {
            model: "mlp1x512".into(),
            dataset: "fashion-mnist-mini".into(),
            corrupt: "none".into(),
            subset: Some(2000),
            epochs: 7,
            seed: 1,
            data_seed: 1,
            batch_size: 64,
            lr: 0.02,
            lr_decay_images: None,
            weight_decay: 0.0,
            random_crop: false,
            ..TrainConfig::default()
        }
    );
    // The last axis varies fastest.
    assert!(sweep.runs[1].config.random_crop);
    assert_eq!(sweep.runs[2].config.weight_decay, 0.0005);
    let ids: BTreeSet<&str> = sweep.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), sweep.runs.len(), "every run has its own id");
}

#[test]
fn the_batch_norm_axis_switches_the_inception_and_leaves_other_models_alone() {
    let sweep = parse(
        r#"
        [sweep]
        name = "bn"
        dataset = "cifar10"
        models = ["inception", "alexnet"]
        [train]
        batch_norm = [true, false]
        "#,
    )
    .unwrap();
    let models: Vec<&str> = sweep.runs.iter().map(|r| r.config.model.as_str()).collect();
    // alexnet has no batch norm: its two settings are one run.
    assert_eq!(models, ["inception", "inception-nobn", "alexnet"]);
    // Without the axis, a model runs as named.
    let sweep = parse(
        "[sweep]\nname = \"bn\"\ndataset = \"cifar10\"\nmodels = [\"inception-nobn\", \"inception\"]\n",
    )
    .unwrap();
    let models: Vec<&str> = sweep.runs.iter().map(|r| r.config.model.as_str()).collect();
    assert_eq!(models, ["inception-nobn", "inception"]);
}

#[test]
fn an_image_size_sets_the_crop_unless_the_crop_is_given() {
    let sweep = |train: &str| {
        parse(&format!(
            "[sweep]\nname = \"v3\"\ndataset = \"folder:/photos\"\nmodels = [\"inception-v3\"]\n[train]\n{train}\n"
        ))
        .unwrap()
    };
    let sides = |s: Sweep| -> Vec<(Option<usize>, usize)> {
        s.runs
            .iter()
            .map(|r| (r.config.image_size, r.config.crop))
            .collect()
    };
    assert_eq!(
        sides(sweep("image_size = [96, 299]")),
        [(Some(96), 96), (Some(299), 299)]
    );
    assert_eq!(sides(sweep("image_size = 96\ncrop = 80")), [(Some(96), 80)]);
    let err = parse(
        "[sweep]\nname = \"v3\"\ndataset = \"folder:/photos\"\nmodels = [\"inception-v3\"]\n",
    )
    .err()
    .unwrap();
    assert_eq!(
        err,
        "mine.toml: inception-v3 takes inputs of at least 75x75, but folder:/photos at crop 28 gives 28x28: train it on an image folder with an image size of 75 or more"
    );
}

#[test]
fn the_dropout_axis_switches_inception_v3_and_leaves_other_models_alone() {
    let sweep = parse(
        "[sweep]\nname = \"t2\"\ndataset = \"folder:/photos\"\nmodels = [\"inception-v3\", \"mlp1x512\"]\n[train]\nimage_size = 96\ndropout = [true, false]\nbatch_norm = [true, false]\n",
    )
    .unwrap();
    let models: Vec<&str> = sweep.runs.iter().map(|r| r.config.model.as_str()).collect();
    assert_eq!(
        models,
        ["inception-v3", "inception-v3-nodropout", "mlp1x512"]
    );
}

#[test]
fn run_ids_are_a_stable_hash_of_the_whole_config() {
    let config = TrainConfig::default();
    // Pinned (sha256 of the config's JSON, checked by hand): a change here renames every
    // finished run of every results folder.
    assert_eq!(run_id(&config), run_id(&config.clone()));
    assert_eq!(run_id(&config), "167d297de4d3c19c");
    for changed in [
        TrainConfig {
            seed: 2,
            ..config.clone()
        },
        TrainConfig {
            lr: 0.011,
            ..config.clone()
        },
        TrainConfig {
            corrupt: "labels:0.2".into(),
            ..config.clone()
        },
        TrainConfig {
            random_crop: true,
            ..config.clone()
        },
        TrainConfig {
            image_size: Some(32),
            ..config.clone()
        },
    ] {
        assert_ne!(run_id(&changed), run_id(&config), "{changed:?}");
    }
    // The same file expands to the same ids every time.
    let a = Sweep::preset("quick").unwrap();
    let b = Sweep::preset("quick").unwrap();
    assert_eq!(a.runs, b.runs);
}

#[test]
fn bad_sweep_files_name_the_key_or_value() {
    let base = "[sweep]\nname = \"x\"\ndataset = \"fashion-mnist-mini\"\nmodels = [\"mlp1x512\"]\n";
    let err = parse(&format!("{base}[train]\nlearning_rate = 0.1\n"))
        .err()
        .unwrap();
    assert!(
        err.starts_with(
            "mine.toml (line 6): train.learning_rate: unknown field `learning_rate`, expected one of"
        ),
        "{err}"
    );
    let err = parse(&format!("{base}colour = \"red\"\n")).err().unwrap();
    assert!(
        err.starts_with("mine.toml (line 5): sweep.colour: unknown field `colour`"),
        "{err}"
    );
    let err =
        parse("[sweep]\nname = \"x\"\ndataset = \"fashion-mnist-mini\"\nmodels = [\"resnet\"]\n")
            .err()
            .unwrap();
    assert_eq!(
        err,
        "mine.toml: sweep.models: unknown model 'resnet': expected one of mlp1x512, mlp3x512, alexnet, inception, inception-nobn, inception-v3, inception-v3-nodropout"
    );
    let err = parse(&format!("{base}corruptions = [\"labels:1.5\"]\n"))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "mine.toml: corruption 'labels:1.5': P must be a number between 0 and 1"
    );
    let err = parse(&format!("{base}[train]\nlr = [0.1, -1.0]\n"))
        .err()
        .unwrap();
    assert_eq!(err, "mine.toml: lr must be a number > 0 (got -1)");
    let err = parse(&format!("{base}[train]\nweight_decay = []\n"))
        .err()
        .unwrap();
    assert_eq!(err, "mine.toml: train.weight_decay: the list is empty");
    let err = parse(&format!("{base}[train]\nlr_decay_every = \"often\"\n"))
        .err()
        .unwrap();
    assert_eq!(
        err,
        "mine.toml: train.lr_decay_every 'often': expected a number of images or \"epoch\""
    );
    let err = parse("[sweep]\nname = \"x\"\nmodels = [\"mlp1x512\"]\n")
        .err()
        .unwrap();
    assert!(err.starts_with("mine.toml"), "{err}");
    assert!(err.contains("sweep: missing field `dataset`"), "{err}");
}

#[test]
fn a_setting_of_the_wrong_type_names_the_setting_what_it_takes_and_what_it_found() {
    let base = "[sweep]\nname = \"x\"\ndataset = \"fashion-mnist-mini\"\nmodels = [\"mlp1x512\"]\n[train]\n";
    let error = |train: &str| parse(&format!("{base}{train}\n")).err().unwrap();
    assert_eq!(
        error("epochs = \"ten\""),
        "mine.toml (line 6): train.epochs: expected a whole number or a list of whole numbers, found string \"ten\""
    );
    assert_eq!(
        error("epochs = [10, 2.5]"),
        "mine.toml (line 6): train.epochs[1]: expected a whole number, found floating point `2.5`"
    );
    assert_eq!(
        error("batch_size = -3"),
        "mine.toml (line 6): train.batch_size: expected a whole number or a list of whole numbers, found integer `-3`"
    );
    assert_eq!(
        error("lr = \"fast\""),
        "mine.toml (line 6): train.lr: expected a number or a list of numbers, found string \"fast\""
    );
    assert_eq!(
        error("random_crop = \"yes\""),
        "mine.toml (line 6): train.random_crop: expected true or false or a list of true/false values, found string \"yes\""
    );
    assert_eq!(
        error("conv_init = 3"),
        "mine.toml (line 6): train.conv_init: expected a string or a list of strings, found integer `3`"
    );
    assert_eq!(
        error("lr_decay_every = 2.5"),
        "mine.toml (line 6): train.lr_decay_every: expected a number of images or \"epoch\" or a list of numbers of images or \"epoch\", found floating point `2.5`"
    );
    assert_eq!(
        error("epochs = [[1, 2]]"),
        "mine.toml (line 6): train.epochs[0]: invalid type: sequence, expected a whole number"
    );
    // A whole number where a number is expected is that number.
    let spec = SweepSpec::parse(&format!("{base}lr = 1\nepochs = [1, 2]\n"), "mine.toml").unwrap();
    assert_eq!(spec.train.lr, Some(Axis::One(1.0)));
    assert_eq!(spec.train.epochs, Some(Axis::Many(vec![1, 2])));
}

#[test]
fn shards_partition_the_runs_exactly() {
    let runs = Sweep::preset("table1").unwrap().runs;
    for count in 1..=7 {
        let shards: Vec<_> = (1..=count)
            .map(|index| Shard { index, count }.select(&runs))
            .collect();
        let mut seen = BTreeSet::new();
        for shard in &shards {
            for run in shard {
                assert!(
                    seen.insert(run.id.clone()),
                    "{} in two shards of {count}",
                    run.id
                );
            }
            assert!(shard.len().abs_diff(runs.len() / count) <= 1, "balanced");
        }
        assert_eq!(seen.len(), runs.len(), "every run in some shard of {count}");
    }
    assert_eq!(
        "2/4".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 4 }
    );
    for bad in ["0/3", "4/3", "x", "1/0", "1-2"] {
        assert_eq!(
            bad.parse::<Shard>().unwrap_err().to_string(),
            format!("--shard '{bad}': expected I/N with 1 <= I <= N, e.g. 2/4")
        );
    }
}

#[test]
fn only_filters_runs_by_any_setting() {
    let mut sweep = Sweep::preset("quick").unwrap();
    sweep.keep_only("model", &["mlp1x512"]).unwrap();
    assert_eq!(sweep.runs.len(), 9);
    sweep.keep_only("lr", &["0.010"]).unwrap();
    assert_eq!(sweep.runs.len(), 9, "numbers compare as numbers");
    sweep
        .keep_only("corrupt", &["random-labels", "none"])
        .unwrap();
    let kept: Vec<&str> = sweep
        .runs
        .iter()
        .map(|r| r.config.corrupt.as_str())
        .collect();
    assert_eq!(
        kept,
        ["none", "random-labels"],
        "either value, in the sweep's order"
    );
    sweep.keep_only("corrupt", &["random-labels"]).unwrap();
    assert_eq!(sweep.runs.len(), 1);
    let err = sweep.keep_only("colour", &["red"]).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "--only 'colour=red': unknown setting 'colour'; expected one of batch_size, conv_init,"
        ),
        "{err}"
    );
}

#[test]
fn files_in_runs_that_are_not_run_records_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let good = write_record(
        out,
        &run_record("mlp1x512", "none", 1, Ending::FittedAt(5), 0.8),
    );
    let runs = out.join("runs");
    // A record cut short, a foreign JSON file, a record under the wrong name, a stray file,
    // and the temporary file of a run in flight (not a problem: ignored silently).
    let text = std::fs::read_to_string(runs.join(format!("{good}.json"))).unwrap();
    std::fs::write(runs.join("00000000000000aa.json"), &text[..text.len() / 2]).unwrap();
    std::fs::write(runs.join("notes.json"), "{\"hello\": 1}").unwrap();
    std::fs::write(runs.join("1111111111111111.json"), &text).unwrap();
    std::fs::write(runs.join("README.txt"), "my notes").unwrap();
    std::fs::write(runs.join("2222222222222222.json.tmp"), "{").unwrap();

    let results = read_results(out).unwrap();
    assert_eq!(results.runs.keys().collect::<Vec<_>>(), [&good]);
    assert_eq!(results.skipped.len(), 4, "{:#?}", results.skipped);
    assert!(
        results.skipped[0]
            .starts_with("runs/00000000000000aa.json: not a run record (EOF while parsing"),
        "{}",
        results.skipped[0]
    );
    assert_eq!(
        results.skipped[1],
        format!(
            "runs/1111111111111111.json: its config hashes to {good}, not to its name; skipped"
        )
    );
    assert_eq!(
        results.skipped[2],
        "runs/README.txt: not a run record (not a .json file); skipped"
    );
    assert!(
        results.skipped[3].starts_with("runs/notes.json: not a run record (missing field"),
        "{}",
        results.skipped[3]
    );
}
