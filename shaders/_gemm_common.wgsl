// Shared by the GEMM kernels (gemm, gemm_tiled, gemm_vec4), which shatter composes as
// this fragment followed by the kernel's own file (see crates/gpu/src/shaders.rs):
//   C[M, N] = op(A)[M, K] * op(B)[K, N]  (+ bias[N])  (then ReLU)
// The kernels declare A and B (bindings 1 and 2) themselves, as f32 or vec4 arrays.

struct GemmShape {
    m: u32,
    n: u32,
    k: u32,
    // The depth of each range of K of a split product (gemm_tiled.wgsl); 0 otherwise.
    k_chunk: u32,
}

// A is stored [K, M] (its transpose) instead of [M, K].
override TRANS_A: bool = false;
// B is stored [N, K] instead of [K, N].
override TRANS_B: bool = false;
// Add bias[col] to every row of C.
override BIAS: bool = false;
// Apply max(0, x) after the bias.
override RELU: bool = false;

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: GemmShape;
var<private> shape: GemmShape;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// Write four consecutive values of row `row` of C from column `col0`, with the bias and
// ReLU epilogue; rows and columns past the edge of C are dropped.
fn store(row: u32, col0: u32, value: vec4<f32>) {
    if row >= shape.m {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if col < shape.n {
            var v = value[j];
            if BIAS {
                v += bias[col];
            }
            if RELU {
                v = max(v, 0.0);
            }
            c[row * shape.n + col] = v;
        }
    }
}
