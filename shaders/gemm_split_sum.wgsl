// The second half of a GEMM split over K (`GemmVariant::TiledSplit`):
//   C[row, col] = sum over ranges z of partial[z, row, col]  (+ bias[col])  (then ReLU)
// through _gemm_common.wgsl's shape, bias, C and epilogue; the shape's `k` is the number
// of ranges (slices of `partial`). One invocation per four columns of a row, adding the
// ranges in order, so the result does not depend on how the ranges' workgroups were
// scheduled. Columns run along x, so neighbouring invocations read neighbouring addresses
// of every slice. Binding 2 (B in the products) is not read.

// [splits, M, N]: each range's product.
@group(0) @binding(1) var<storage, read> partial: array<f32>;

@compute @workgroup_size(64)
fn gemm_split_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let col0 = gid.x * 4u;
    let row = gid.y;
    if col0 >= shape.n || row >= shape.m {
        return;
    }
    let slice = shape.m * shape.n;
    var sum = vec4<f32>(0.0);
    for (var z = 0u; z < shape.k; z++) {
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j;
            if col < shape.n {
                sum[j] += partial[z * slice + row * shape.n + col];
            }
        }
    }
    store(row, col0, sum);
}
