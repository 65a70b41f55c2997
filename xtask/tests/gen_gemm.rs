//! The committed shaders/generated/gemm_vec4.wgsl, shaders/generated/gemm_texels.wgsl,
//! shaders/generated/gemm_subgroup.wgsl and shaders/generated/gemm_subgroup_texels.wgsl are exactly what
//! `cargo xtask gen-gemm` writes, so the kernels the host asks for (one per tile of
//! `shatter_nn::VEC4_TILES` in the first two, of `shatter_nn::SUBGROUP_TILES` in the
//! others) exist.

use xtask::gen_gemm::{Operands, gemm_source};
use xtask::gen_gemm_subgroup::{entry_prefix, path, subgroup_source};

fn committed(relative: &str) -> (std::path::PathBuf, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn committed_gemm_shaders_match_their_generator() {
    for operands in Operands::ALL {
        let (path, committed) = committed(operands.path());
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

#[test]
fn committed_subgroup_gemm_shaders_match_their_generator() {
    for operands in Operands::ALL {
        let (file, committed) = committed(path(operands));
        assert!(
            committed == subgroup_source(operands),
            "{} differs from its generator: run `cargo xtask gen-gemm`",
            file.display()
        );
        for &(rows, cols) in shatter_nn::SUBGROUP_TILES.iter() {
            let entry = format!("fn {}_{rows}x{cols}(", entry_prefix(operands));
            assert!(
                committed.contains(&entry),
                "{} has no entry point for the {rows}x{cols} tile",
                file.display()
            );
        }
    }
}
