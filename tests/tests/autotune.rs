//! The autotune cache: shape keys, the choice rule, the file's reading, merging and
//! failure modes, and (on an adapter) that tuning fills it and later plans follow it.

use shatter::autotune::{TuneCache, adapter_key, pick};
use shatter_nn::{GemmPlan, GemmShape, GemmVariant};
use shatter_tests::gpu;

fn shape(m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> GemmShape {
    GemmShape {
        m,
        n,
        k,
        trans_a,
        trans_b,
    }
}

#[test]
fn shape_keys_round_trip_and_reject_malformed_keys() {
    let cases = [
        (shape(128, 512, 2352, false, false), "128x512x2352"),
        (shape(2352, 512, 128, true, false), "2352x512x128-ta"),
        (shape(128, 2352, 512, false, true), "128x2352x512-tb"),
        (shape(4, 4, 4, true, true), "4x4x4-ta-tb"),
    ];
    for (s, key) in cases {
        assert_eq!(s.key(), key);
        assert_eq!(GemmShape::from_key(key), Some(s), "{key}");
    }
    for bad in [
        "",
        "128x512",
        "1x2x3x4",
        "axbxc",
        "1x2x3-tc",
        "1x2x3-",
        "1x2x3-tb-ta",
    ] {
        assert_eq!(GemmShape::from_key(bad), None, "{bad:?} must not parse");
    }
}

#[test]
fn variant_names_round_trip() {
    for variant in GemmVariant::all() {
        assert_eq!(GemmVariant::from_name(&variant.name()), Some(variant));
    }
    assert_eq!(
        GemmVariant::from_name("vec4"),
        Some(GemmVariant::default_vec4())
    );
    assert_eq!(GemmVariant::from_name("vec4-3x3"), None);
}

#[test]
fn pick_keeps_the_default_unless_another_is_clearly_faster() {
    let default = GemmVariant::Vec4 { rows: 8, cols: 8 };
    let small = GemmVariant::Vec4 { rows: 16, cols: 16 };
    // 10% faster: within the margin, so the default stays.
    let close = [(GemmVariant::Register, 5.0), (default, 1.0), (small, 0.9)];
    assert_eq!(pick(&close, default), default);
    // 20% faster: it wins.
    let clear = [(GemmVariant::Register, 5.0), (default, 1.0), (small, 0.8)];
    assert_eq!(pick(&clear, small), small);
    assert_eq!(pick(&clear, default), small);
    // A default that does not run the shape is not there to keep.
    let without_default = [(GemmVariant::Register, 2.0), (GemmVariant::Tiled, 3.0)];
    assert_eq!(pick(&without_default, default), GemmVariant::Register);
}

#[test]
fn plans_use_their_choices_and_the_default_elsewhere() {
    let default = GemmVariant::Vec4 { rows: 16, cols: 16 };
    let tuned = shape(128, 512, 2352, false, false);
    let other = shape(64, 64, 64, true, false);
    let mut plan = GemmPlan::fixed(default);
    plan.choose(tuned, GemmVariant::Register);
    assert_eq!(plan.variant(tuned), GemmVariant::Register);
    assert_eq!(plan.variant(other), default);
    assert_eq!(plan.spec(other).variant, default);
    assert_eq!(
        plan.summary(&[tuned, other, tuned]),
        "register, vec4-16x16 (1 of 2 shapes tuned)"
    );
}

#[test]
fn a_missing_cache_is_empty_and_a_broken_one_is_ignored_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autotune.json");
    let missing = TuneCache::load(&path);
    assert_eq!(missing.ignored, None);

    std::fs::write(&path, "{ not json").unwrap();
    let broken = TuneCache::load(&path);
    let reason = broken.ignored.expect("a malformed file is reported");
    assert!(
        reason.starts_with(&format!("{}: key must be a string", path.display())),
        "{reason}"
    );

    std::fs::write(&path, r#"{"format": 99, "adapters": {}}"#).unwrap();
    let other = TuneCache::load(&path);
    assert_eq!(
        other.ignored.as_deref(),
        Some(format!("{}: format 99 (this build reads 1)", path.display()).as_str())
    );
}

#[test]
fn saving_merges_with_entries_another_process_wrote_meanwhile() {
    let Some(gpu) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autotune.json");
    let mut cache = TuneCache::load(&path);
    // Another process saves an entry after this one loaded.
    let written = format!(
        r#"{{"format": 1, "adapters": {{"other adapter | vulkan | x | y": {{"8x8x8": "register"}},
            "{}": {{"4x4x4": "vec4-32x16", "8x8x8": "no-such-kernel"}}}}}}"#,
        adapter_key(gpu)
    );
    std::fs::write(&path, written).unwrap();
    let tiny = shape(4, 8, 4, false, false);
    let timed = cache.tune(gpu, &[tiny, tiny], |_| {}).unwrap();
    assert_eq!(timed.len(), 1, "a repeated shape is timed once");
    assert!(timed[0].timings.iter().all(|&(_, ms)| ms > 0.0));
    cache.save().unwrap();

    let reread = TuneCache::load(&path);
    assert_eq!(reread.ignored, None);
    let plan = reread.plan(gpu);
    assert_eq!(plan.variant(tiny), timed[0].best, "the new entry");
    assert_eq!(
        plan.variant(shape(4, 4, 4, false, false)),
        GemmVariant::Vec4 { rows: 32, cols: 16 },
        "the other process's entry"
    );
    assert_eq!(
        plan.variant(shape(8, 8, 8, false, false)),
        GemmVariant::for_adapter(gpu),
        "an unknown kernel name falls back to the default"
    );
    assert_eq!(plan.chosen_count(), 2);
    assert!(reread.missing(gpu, &[tiny]).is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("other adapter | vulkan | x | y"), "{text}");
    assert!(!dir.path().join("autotune.json.tmp").exists());
}
