//! The committed shaders/gemm_vec4.wgsl and shaders/gemm_texels.wgsl are exactly what
//! `cargo xtask gen-gemm` writes, so the kernels the host asks for (one per tile of
//! `shatter_nn::VEC4_TILES` in each) exist.

use xtask::gen_gemm::{Operands, gemm_source};

#[test]
fn committed_gemm_shaders_match_their_generator() {
    for operands in Operands::ALL {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(operands.path());
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == gemm_source(operands),
            "{} differs from its generator: run `cargo xtask gen-gemm`",
            path.display()
        );
        for &(rows, cols) in shatter_nn::VEC4_TILES.iter() {
            let entry = format!("fn {}_{rows}x{cols}(", operands.entry_prefix());
            assert!(
                committed.contains(&entry),
                "{} has no entry point for the {rows}x{cols} tile",
                path.display()
            );
        }
    }
}
