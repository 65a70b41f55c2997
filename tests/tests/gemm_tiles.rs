//! Every register tile of shaders/generated/gemm_vec4.wgsl, shaders/generated/gemm_texels.wgsl,
//! shaders/generated/gemm_subgroup.wgsl and shaders/generated/gemm_subgroup_texels.wgsl against the CPU
//! reference.
//!
//! A file of its own, so it runs in its own process: the biggest tiles take several
//! seconds each to compile on llvmpipe, and on the GL backend wgpu gives up on a
//! context lock held that long by another test thread ("Could not lock adapter context").

use shatter_nn::{GemmSpec, GemmVariant, SUBGROUP_TILES, SUBGROUP_WIDTH, VEC4_TILES};
use shatter_tests::{check_gemm, gpu};

/// Run `variant` on each shape in all four storage forms against the CPU reference, and
/// check it runs `expected` there. Each storage form gets its own epilogue (ReLU on every
/// second, a bias on the last two), which keeps the number of pipelines (several seconds
/// each to compile for the biggest tiles on CPU adapters) to four per tile.
fn check_tile(
    variant: GemmVariant,
    expected: GemmVariant,
    shapes: &[(usize, usize, usize)],
    seed: u64,
) {
    let Some(gpu) = gpu() else { return };
    for (i, &(m, n, k)) in shapes.iter().enumerate() {
        for (j, (ta, tb)) in [(false, false), (true, false), (false, true), (true, true)]
            .into_iter()
            .enumerate()
        {
            let spec = GemmSpec {
                m,
                n,
                k,
                trans_a: ta,
                trans_b: tb,
                relu: j % 2 == 1,
                variant,
            };
            assert!(spec.fits(variant), "{spec:?} must fit its own kernel");
            assert_eq!(spec.runs(gpu), expected, "{spec:?}");
            check_gemm(gpu, spec, j >= 2, (i * 4 + j) as u64 + seed);
        }
    }
}

/// Every tile of gemm_vec4.wgsl and gemm_texels.wgsl on shapes it runs itself: edges that
/// cut through a tile in every direction, a single tile, and a clamped second row or
/// column group.
#[test]
fn gemm_vec4_tiles_match_reference() {
    let shapes = [(4, 4, 4), (36, 68, 20), (132, 12, 8), (20, 260, 36)];
    for &(rows, cols) in VEC4_TILES.iter() {
        for variant in [
            GemmVariant::Vec4 { rows, cols },
            GemmVariant::Texels { rows, cols },
        ] {
            check_tile(variant, variant, &shapes, 3);
        }
    }
}

/// Every tile of gemm_subgroup.wgsl and gemm_subgroup_texels.wgsl, on shapes whose edges
/// cut through a lane's rows, a subgroup's columns and a workgroup's eight subgroups,
/// including a subgroup whose columns all lie past N (it returns at once). Where the
/// adapter lacks 8-wide subgroups (the GL backend), the variant runs the default vec4
/// tile, with the same results.
#[test]
fn gemm_subgroup_tiles_match_reference() {
    let Some(gpu) = gpu() else { return };
    if gpu.is_cpu() && gpu.adapter().backend == "vulkan" {
        // lavapipe: the kernels must really run here, not their fallback.
        assert_eq!(gpu.subgroup_width(), Some(SUBGROUP_WIDTH as u32));
    }
    let shapes = [(4, 32, 4), (36, 68, 20), (132, 12, 8), (20, 600, 36)];
    for &(rows, cols) in SUBGROUP_TILES.iter() {
        for variant in [
            GemmVariant::Subgroup { rows, cols },
            GemmVariant::SubgroupTexels { rows, cols },
        ] {
            let expected = if variant.runs_on(gpu) {
                variant
            } else {
                GemmVariant::default_vec4()
            };
            check_tile(variant, expected, &shapes, 41);
        }
    }
}
