// Texel mirrors (crates/gpu/src/texels.rs): a copy of an f32 buffer in an rgba32float
// texture, so that kernels can read it with textureLoad. On llvmpipe and lavapipe a
// storage-buffer load runs as a loop over the SIMD lanes with a bounds check per
// component, while a texel fetch is one branch-free gather; the GEMM kernels read their
// operands about 1.5x faster this way. Element 4i .. 4i + 4 of the buffer is texel i,
// laid out in rows of TEXELS_PER_ROW (which must match TEXELS_PER_ROW in texels.rs).

const TEXELS_PER_ROW: u32 = 1024u;

// Where texel `i` lies in a mirror.
fn texel_coords(i: u32) -> vec2<u32> {
    return vec2<u32>(i % TEXELS_PER_ROW, i / TEXELS_PER_ROW);
}
