//! The command line's answers to bad input: one line naming the input and the fault,
//! exit code 2, no panic. These need no GPU: input is checked before an adapter opens.

use std::process::Command;

fn xtask(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_bad_input(args: &[&str], message: &str) {
    let (code, _, stderr) = xtask(args);
    assert_eq!(code, 2, "{args:?} should exit 2; stderr: {stderr}");
    assert_eq!(stderr.trim_end(), format!("error: {message}"), "{args:?}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked");
}

#[test]
fn unknown_names_and_out_of_range_values_are_one_line_and_exit_2() {
    assert_bad_input(
        &["train", "--model", "resnet"],
        "unknown model 'resnet': expected one of mlp1x512, mlp3x512, alexnet, inception, inception-nobn, inception-v3, inception-v3-nodropout",
    );
    assert_bad_input(
        &["train", "--dataset", "cifar100"],
        "unknown dataset 'cifar100': expected one of fashion-mnist-mini, fashion-mnist, mnist, cifar10, imagenet, imagenet-mini, folder:PATH, imagenet:PATH",
    );
    assert_bad_input(
        &["train", "--corrupt", "shuffle"],
        "unknown corruption 'shuffle': expected one of none, labels:P (0 <= P <= 1), random-labels, shuffled-pixels, random-pixels, gaussian",
    );
    assert_bad_input(
        &["train", "--corrupt", "labels:1.5"],
        "corruption 'labels:1.5': P must be a number between 0 and 1",
    );
    assert_bad_input(&["train", "--lr", "-1"], "lr must be a number > 0 (got -1)");
    assert_bad_input(
        &["train", "--epochs", "0"],
        "epochs must be at least 1 (got 0)",
    );
    assert_bad_input(
        &["train", "--momentum", "1.5"],
        "momentum must be in [0, 1) (got 1.5)",
    );
    assert_bad_input(
        &["train", "--lr-decay-every", "often"],
        "--lr-decay-every 'often': expected a number of images or 'epoch'",
    );
    assert_bad_input(
        &["bench", "--peak-gflops=0"],
        "--peak-gflops must be a positive number, not 0",
    );
    assert_bad_input(
        &["gpu-bench", "--peak-gflops=-5"],
        "--peak-gflops must be a positive number, not -5",
    );
    assert_bad_input(
        &["gpu-bench", "--tests", "/no/such/folder"],
        "--tests /no/such/folder: expected cargo, none or a folder of test executables",
    );
    assert_bad_input(&["gpu-bench", "--steps", "0"], "--steps must be at least 1");
    assert_bad_input(
        &["bench", "--model", "vgg"],
        "unknown model 'vgg': expected one of mlp1x512, mlp3x512, alexnet, inception, inception-nobn, inception-v3, inception-v3-nodropout",
    );
}

#[test]
fn inception_v3_on_images_too_small_for_it_is_one_line_and_exit_2() {
    assert_bad_input(
        &["train", "--model", "inception-v3"],
        "inception-v3 takes inputs of at least 75x75, but fashion-mnist-mini at crop 28 gives 28x28: train it on an image folder with an image size of 75 or more",
    );
    assert_bad_input(
        &[
            "train",
            "--model",
            "inception-v3",
            "--dataset",
            "folder:/nowhere",
            "--image-size",
            "64",
        ],
        "inception-v3 takes inputs of at least 75x75, but folder:/nowhere at crop 64 gives 64x64: train it on an image folder with an image size of 75 or more",
    );
    assert_bad_input(
        &["train", "--image-size", "64"],
        "image size applies to image folders (folder:PATH, imagenet:PATH) only; fashion-mnist-mini has images of its own size",
    );
    assert_bad_input(
        &["bench", "--model", "inception-v3", "--side", "32"],
        "inception-v3 takes inputs of at least 75x75, not 32x32",
    );
    assert_bad_input(
        &["tune", "--model", "inception-v3"],
        "inception-v3 takes inputs of at least 75x75, not 28x28",
    );
}

#[test]
fn a_missing_dataset_says_where_it_looked_and_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = xtask(&[
        "train",
        "--dataset",
        "mnist",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "stderr: {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("dataset mnist not found"), "{stderr}");
    assert!(
        stderr.contains(&dir.path().join("mnist").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("cargo xtask download mnist"), "{stderr}");
}

#[test]
fn unparsable_arguments_exit_2() {
    let (code, _, stderr) = xtask(&["train", "--epochs", "many"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: invalid value 'many' for '--epochs <EPOCHS>'"),
        "{stderr}"
    );
}

#[test]
fn no_adapter_says_how_to_get_one() {
    // No Metal on Linux, and no Vulkan or GL on macOS: either way, no adapter.
    let backend = if cfg!(target_os = "macos") {
        "vulkan"
    } else {
        "metal"
    };
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["adapters"])
        .env("WGPU_BACKEND", backend)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert_eq!(
        line,
        format!(
            "error: no GPU adapter found (backends tried: {backend}); install a GPU driver, or on Debian/Ubuntu \
             `apt-get install mesa-vulkan-drivers` for a software Vulkan adapter, then check with `cargo xtask adapters`"
        )
    );
}

#[test]
fn an_adapter_name_that_matches_nothing_lists_the_adapters_and_exits_2() {
    let (code, _, stderr) = xtask(&["train", "--adapter", "no-such-gpu", "--epochs", "1"]);
    assert_eq!(code, 2, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(
        line.starts_with("error: no adapter matches 'no-such-gpu': available adapters are "),
        "{line}"
    );
}

#[test]
fn a_truncated_cifar_batch_is_one_line_naming_the_file_and_exit_2() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ] {
        std::fs::write(dir.join(name), vec![1u8; 3073 * 2]).unwrap();
    }
    std::fs::write(dir.join("data_batch_2.bin"), vec![1u8; 3073 + 10]).unwrap();
    let (code, _, stderr) = xtask(&[
        "train",
        "--dataset",
        "cifar10",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].ends_with(&format!(
            "{}: wrong record size: 3083 bytes is not a whole number of 3073-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)",
            dir.join("data_batch_2.bin").display()
        )),
        "{stderr}"
    );
}

#[test]
fn bad_sweep_settings_are_one_line_and_exit_2() {
    assert_bad_input(
        &["sweep", "--shard", "3/2"],
        "--shard '3/2': expected I/N with 1 <= I <= N, e.g. 2/4",
    );
    assert_bad_input(
        &["sweep", "--preset", "huge"],
        "unknown preset 'huge': expected one of quick, figure1-mini, figure1-fmnist, figure1, table1, imagenet-mini, imagenet",
    );
    assert_bad_input(
        &["sweep", "--only", "colour"],
        "--only 'colour': expected KEY=VALUE, e.g. model=mlp1x512",
    );
    assert_bad_input(
        &["sweep", "--jobs", "0"],
        "--jobs must be at least 1 (got 0)",
    );
    assert_bad_input(
        &["sweep", "--config", "no-such-sweep.toml"],
        "no-such-sweep.toml: cannot read (No such file or directory (os error 2))",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "[sweep]\nname = \"mine\"\ndataset = \"fashion-mnist-mini\"\nmodels = [\"mlp1x512\"]\n[train]\nlearning_rate = 0.1\n",
    )
    .unwrap();
    let (code, _, stderr) = xtask(&["sweep", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: {} (line 6): train.learning_rate: unknown field `learning_rate`, expected one of `epochs`, `lr`,",
            file.display()
        )),
        "{stderr}"
    );
    std::fs::write(
        &file,
        "[sweep]\nname = \"mine\"\ndataset = \"fashion-mnist-mini\"\nmodels = [\"mlp1x512\"]\n[train]\nepochs = \"ten\"\n",
    )
    .unwrap();
    assert_bad_input(
        &["sweep", "--config", file.to_str().unwrap()],
        &format!(
            "{} (line 6): train.epochs: expected a whole number or a list of whole numbers, found string \"ten\"",
            file.display()
        ),
    );
    assert_bad_input(
        &["report", dir.path().to_str().unwrap()],
        &format!(
            "{}: no runs/ folder here; expected a results folder written by `cargo xtask sweep`",
            dir.path().display()
        ),
    );
    assert_bad_input(
        &["rademacher", "--n", "0"],
        "--n must be at least 1 (got 0)",
    );
}

#[test]
fn a_bad_bench_baseline_is_one_line_and_exit_2() {
    assert_bad_input(
        &["bench", "--baseline", "no-such-bench.json"],
        "--baseline no-such-bench.json: cannot read (No such file or directory (os error 2))",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.json");
    std::fs::write(
        &file,
        "{\"workload\": \"mlp1x512-train\", \"images_per_second\": 10}\nnot json\n",
    )
    .unwrap();
    let (code, _, stderr) = xtask(&["bench", "--baseline", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: --baseline {} line 2: not a `bench --json` line (",
            file.display()
        )),
        "{stderr}"
    );
    std::fs::write(&file, "{\"hello\": 1}\n").unwrap();
    assert_bad_input(
        &["bench", "--baseline", file.to_str().unwrap()],
        &format!(
            "--baseline {}: no training workloads (expected the output of `cargo xtask bench --json`)",
            file.display()
        ),
    );
}

#[test]
fn tune_rejects_a_malformed_input_shape() {
    for bad in ["3x28", "3x28x0", "threexbyx28"] {
        assert_bad_input(
            &["tune", "--input", bad],
            &format!("--input {bad}: expected CHANNELSxHEIGHTxWIDTH, e.g. 3x28x28"),
        );
    }
}

#[test]
fn streaming_where_it_cannot_apply_is_one_line_and_exit_2() {
    assert_bad_input(
        &["train", "--stream"],
        "stream applies to image folders (folder:PATH, imagenet:PATH) only; fashion-mnist-mini is loaded whole",
    );
}

#[test]
fn a_folder_missing_a_class_in_val_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for split in ["train", "val"] {
        for class in ["n01", "n02"] {
            let folder = dir.path().join(split).join(class);
            std::fs::create_dir_all(&folder).unwrap();
            image::RgbImage::new(8, 8)
                .save(folder.join("0.png"))
                .unwrap();
        }
    }
    std::fs::remove_dir_all(dir.path().join("val/n02")).unwrap();
    let (code, _, stderr) = xtask(&[
        "train",
        "--dataset",
        &format!("imagenet:{}", dir.path().display()),
        "--image-size",
        "8",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].ends_with(&format!(
            "{0}/val: training class 'n02' has no folder here; every class of {0}/train needs one",
            dir.path().display()
        )),
        "{stderr}"
    );
}
