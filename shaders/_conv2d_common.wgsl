// Shared by the implicit-GEMM convolution kernels, placed before them: the geometry
// (ConvShape), the mode and epilogue overrides, the bindings of the parameters (0), the
// bias (3) and C (4), and the epilogue that stores C. The kernels declare A and B
// (bindings 1 and 2) themselves: _conv2d.wgsl's register-blocked kernels through their
// load fragments, conv2d_tiled.wgsl (workgroup-memory tiles, for GPUs) as scalar arrays.
// The modes, M, N and K are described at the top of _conv2d.wgsl.

struct ConvShape {
    batch: u32,
    in_height: u32,
    in_width: u32,
    in_channels: u32,
    out_height: u32,
    out_width: u32,
    out_channels: u32,
    window_height: u32,
    window_width: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    // The GEMM's M, N, K for this mode.
    m: u32,
    n: u32,
    k: u32,
    // C's rows are c_stride apart and start at column c_offset: a forward pass writes its
    // channel slice of a concatenation in place.
    c_stride: u32,
    c_offset: u32,
    // Rows of C come in groups of row_group of which the first row_keep are stored, packed:
    // a backward-filter pass over channels padded to whole texels drops the padded
    // channels' rows (1 and 1 otherwise).
    row_group: u32,
    row_keep: u32,
    // Backward-filter only: K is cut into k_splits ranges, one per z of the grid, and
    // range z stores its partial sums split_stride values after range z - 1 (summed by
    // the host's next dispatch). A GPU has too few blocks of a first layer's filter
    // gradient (its M x N is small, its K huge) to fill its cores otherwise.
    k_splits: u32,
    split_stride: u32,
    _pad0: u32,
    _pad1: u32,
}

override MODE: u32 = 0u;
// Forward only: add bias[oc], then max(0, x).
override BIAS: bool = false;
override RELU: bool = false;
// Add to C instead of overwriting it: the second consumer of a tensor adds its gradient.
override ACCUMULATE: bool = false;

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: ConvShape;
var<private> shape: ConvShape;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// Which of shape.k_splits ranges of K this invocation sums: its workgroup's z, set by the
// entry point (0 when K is not split).
var<private> k_split: u32;

// Write four values of row `row` of C from column `col0` through the epilogue; rows and
// columns past the edge of C are dropped.
fn store(row: u32, col0: u32, value: vec4<f32>) {
    let kept = row % shape.row_group;
    if row >= shape.m || kept >= shape.row_keep {
        return;
    }
    let out_row = (row / shape.row_group) * shape.row_keep + kept;
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
            let index = k_split * shape.split_stride + out_row * shape.c_stride + shape.c_offset + col;
            if ACCUMULATE {
                v += c[index];
            }
            c[index] = v;
        }
    }
}
