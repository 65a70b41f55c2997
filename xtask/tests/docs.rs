//! README.md and docs/ stay true: every relative link and image resolves (anchors included),
//! and every command they show is either run here or marked as run elsewhere.
//!
//! Commands live in fenced blocks whose info string starts with `sh`. A plain `sh` block is
//! run here, line by line, in one scratch folder per document (so a later block may read what
//! an earlier one wrote). A block marked `sh slow` (minutes on a CPU adapter; CI runs it or a
//! part of it elsewhere), `sh gpu` (meant for a real GPU), `sh network` (needs the internet)
//! or `sh cluster` (needs a cluster's shared file system) is not run, but each `cargo xtask` line in it must still parse: its subcommand and flags
//! exist and their values have the right form. So do the `cargo xtask` commands quoted in
//! prose, unless they hold placeholders (`--model M`, `[--out DIR]`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// README.md, then docs/*.md in name order.
fn documents() -> Vec<PathBuf> {
    let root = repository();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

fn name(doc: &Path) -> String {
    doc.strip_prefix(repository())
        .unwrap_or(doc)
        .display()
        .to_string()
}

/// A fenced block: its info string and its lines.
struct Block {
    info: String,
    lines: Vec<String>,
}

/// The document's fenced blocks, and its text with them removed (for links and prose).
fn split_blocks(text: &str) -> (Vec<Block>, String) {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    lines: Vec::new(),
                })
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(block), None) => block.lines.push(line.to_owned()),
            (None, None) => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    (blocks, prose)
}

/// Inline code spans of the prose.
fn code_spans(prose: &str) -> Vec<String> {
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The targets of `[text](target)` and `![alt](target)` in the prose.
fn link_targets(prose: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = prose;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(end) => {
                targets.push(after[..end].to_owned());
                rest = &after[end..];
            }
            None => break,
        }
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap();
    let (_, prose) = split_blocks(&text);
    prose
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

#[test]
fn relative_links_and_images_resolve() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let (_, prose) = split_blocks(&text);
        for target in link_targets(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.clone()
            } else {
                doc.parent().unwrap().join(path)
            };
            if !file.exists() {
                broken.push(format!("{}: {target}: no such file", name(&doc)));
                continue;
            }
            if let Some(fragment) = fragment
                && !anchors(&file).iter().any(|a| a == fragment)
            {
                broken.push(format!("{}: {target}: no such heading", name(&doc)));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn link_checking_finds_a_broken_link_and_a_missing_anchor() {
    // The checker's pieces, on made-up text, so the test above cannot pass by finding nothing.
    let (_, prose) =
        split_blocks("see [a](docs/x.md#part) and ![b](img.png)\n```sh\n[c](no)\n```\n");
    assert_eq!(link_targets(&prose), ["docs/x.md#part", "img.png"]);
    assert_eq!(
        anchor(" Several adapters, several machines"),
        "several-adapters-several-machines"
    );
    assert_eq!(
        anchor(" `figure1-mini`: 10,000 images"),
        "figure1-mini-10000-images"
    );
}

/// How a block's commands are checked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Check {
    Run,
    ParseOnly,
}

fn check_of(info: &str, doc: &Path) -> Option<Check> {
    let mut words = info.split_whitespace();
    if words.next() != Some("sh") {
        return None;
    }
    match words.next() {
        None => Some(Check::Run),
        Some("slow" | "gpu" | "network" | "cluster") => Some(Check::ParseOnly),
        Some(other) => panic!(
            "{}: a `sh {other}` block: mark commands as sh, sh slow, sh gpu, sh network or sh cluster",
            name(doc)
        ),
    }
}

/// Environment variables set before a command, as (name, value).
type Environment = Vec<(String, String)>;

/// `VAR=value ... cargo xtask ARGS` split into its environment and arguments, or None for
/// another program.
fn xtask_command(line: &str) -> Option<(Environment, Vec<String>)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut env = Vec::new();
    let mut at = 0;
    while let Some((key, value)) = words.get(at).and_then(|w| w.split_once('=')) {
        if !key.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            break;
        }
        env.push((key.to_owned(), value.to_owned()));
        at += 1;
    }
    if words.get(at..at + 2) != Some(&["cargo", "xtask"][..]) {
        return None;
    }
    Some((env, words[at + 2..].iter().map(|w| w.to_string()).collect()))
}

/// Whether a quoted command holds placeholders rather than values.
fn has_placeholders(args: &[String]) -> bool {
    args.iter().any(|a| {
        a.contains(['[', ']', '|', '<', '>'])
            || a.contains("...")
            || (a.chars().any(|c| c.is_ascii_uppercase())
                && a.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ','))
    })
}

fn xtask(scratch: &Path, cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .current_dir(scratch)
        .env("SHATTER_CACHE_DIR", cache)
        .env_remove("SHATTER_DATA");
    command
}

/// The command with `--help` after its arguments: clap parses every argument before it, so
/// this fails on an unknown subcommand or flag or a malformed value, and runs nothing.
fn assert_parses(doc: &Path, line: &str, env: &[(String, String)], args: &[String]) {
    let scratch = tempfile::tempdir().unwrap();
    let out = xtask(scratch.path(), scratch.path())
        .envs(env.iter().cloned())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: `{line}` does not parse:\n{}",
        name(doc),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_documented_command_is_run_or_marked_and_parses() {
    let gpu = shatter_tests::gpu().is_some();
    let cache = tempfile::tempdir().unwrap();
    let mut ran = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let (blocks, prose) = split_blocks(&text);
        let scratch = tempfile::tempdir().unwrap();
        for block in &blocks {
            let Some(check) = check_of(&block.info, &doc) else {
                continue;
            };
            for line in block.lines.iter().map(|l| l.trim()) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let Some((env, args)) = xtask_command(line) else {
                    assert_eq!(
                        check,
                        Check::ParseOnly,
                        "{}: `{line}` is not a cargo xtask command; run it from .ci/run and \
                         mark its block sh slow, sh gpu, sh network or sh cluster",
                        name(&doc)
                    );
                    continue;
                };
                assert_parses(&doc, line, &env, &args);
                if check == Check::Run && gpu {
                    let out = xtask(scratch.path(), cache.path())
                        .envs(env.iter().cloned())
                        .args(&args)
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}: `{line}` failed:\n{}{}",
                        name(&doc),
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    ran += 1;
                }
            }
        }
        for span in code_spans(&prose) {
            if let Some((env, args)) = xtask_command(&span)
                && !has_placeholders(&args)
            {
                assert_parses(&doc, &span, &env, &args);
            }
        }
    }
    if gpu {
        assert!(ran >= 5, "only {ran} documented commands ran");
    }
}

#[test]
fn command_lines_are_split_into_environment_and_arguments() {
    let (env, args) = xtask_command("WGPU_BACKEND=gl cargo xtask adapters").unwrap();
    assert_eq!(env, [("WGPU_BACKEND".to_owned(), "gl".to_owned())]);
    assert_eq!(args, ["adapters"]);
    assert!(xtask_command("cargo test --workspace").is_none());
    let placeholder = |s: &str| has_placeholders(&xtask_command(s).unwrap().1);
    assert!(placeholder("cargo xtask train --model M --out DIR"));
    assert!(placeholder(
        "cargo xtask sweep [--preset P | --config FILE]"
    ));
    assert!(placeholder("cargo xtask rademacher --model M --n N,N,..."));
    assert!(!placeholder("cargo xtask download cifar10"));
    assert!(!placeholder("cargo xtask bench --model mlp1x512 --steps 2"));
}
