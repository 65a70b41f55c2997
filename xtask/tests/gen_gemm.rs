//! The committed shaders/gemm_vec4.wgsl is exactly what `cargo xtask gen-gemm` writes, so
//! the kernels the host asks for (one per tile of `shatter_nn::VEC4_TILES`) exist.

use xtask::gen_gemm::{GEMM_VEC4_PATH, gemm_vec4_source};

#[test]
fn committed_gemm_vec4_shader_matches_its_generator() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(GEMM_VEC4_PATH);
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == gemm_vec4_source(),
        "{} differs from its generator: run `cargo xtask gen-gemm`",
        path.display()
    );
    for &(rows, cols) in shatter_nn::VEC4_TILES.iter() {
        assert!(
            committed.contains(&format!("fn gemm_vec4_{rows}x{cols}(")),
            "no entry point for the {rows}x{cols} tile"
        );
    }
}
