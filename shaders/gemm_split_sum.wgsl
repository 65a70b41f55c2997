// The second half of a GEMM split over K (`GemmVariant::TiledSplit`):
//   C[row, col] = sum over ranges z of partial[z, row, col]  (+ bias[col])  (then ReLU)
// One invocation per value of C, adding the ranges in order, so the result does not
// depend on how the ranges' workgroups were scheduled. Columns run along x, so
// neighbouring invocations read neighbouring addresses of every slice.

struct SplitShape {
    m: u32,
    n: u32,
    // The number of ranges (slices of `partial`).
    splits: u32,
    _pad: u32,
}

// Add bias[col] to every row of C.
override BIAS: bool = false;
// Apply max(0, x) after the bias.
override RELU: bool = false;

// Read-only storage rather than uniform, and copied into `shape` as the kernel starts:
// see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: SplitShape;
var<private> shape: SplitShape;
// [splits, M, N]: each range's product.
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64)
fn gemm_split_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let col = gid.x;
    let row = gid.y;
    if col >= shape.n || row >= shape.m {
        return;
    }
    let at = row * shape.n + col;
    let slice = shape.m * shape.n;
    var v = 0.0;
    for (var z = 0u; z < shape.splits; z++) {
        v += partial[z * slice + at];
    }
    if BIAS {
        v += bias[col];
    }
    if RELU {
        v = max(v, 0.0);
    }
    c[at] = v;
}
