//! Every register tile of shaders/gemm_vec4.wgsl and shaders/gemm_texels.wgsl against
//! the CPU reference.
//!
//! A file of its own, so it runs in its own process: the biggest tiles take several
//! seconds each to compile on llvmpipe, and on the GL backend wgpu gives up on a
//! context lock held that long by another test thread ("Could not lock adapter context").

use shatter_nn::{GemmSpec, GemmVariant, VEC4_TILES};
use shatter_tests::{check_gemm, gpu};

/// Every tile of gemm_vec4.wgsl and gemm_texels.wgsl on shapes it runs itself: edges that cut through a
/// tile in every direction, a single tile, and a clamped second row or column group.
/// Each storage form gets its own epilogue, which keeps the number of pipelines (several
/// seconds each to compile for the biggest tiles on CPU adapters) to four per tile.
#[test]
fn gemm_vec4_tiles_match_reference() {
    let Some(gpu) = gpu() else { return };
    let shapes = [(4, 4, 4), (36, 68, 20), (132, 12, 8), (20, 260, 36)];
    let variants = VEC4_TILES.iter().flat_map(|&(rows, cols)| {
        [
            GemmVariant::Vec4 { rows, cols },
            GemmVariant::Texels { rows, cols },
        ]
    });
    for variant in variants {
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
                assert!(spec.fits(variant), "{spec:?} must run its own kernel");
                check_gemm(gpu, spec, j >= 2, (i * 4 + j) as u64 + 3);
            }
        }
    }
}
