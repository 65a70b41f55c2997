// General matrix multiply for dense layers, register-blocked without workgroup memory:
//   C[M, N] = op(A)[M, K] * op(B)[K, N]  (+ bias[N])  (then ReLU)
// Each invocation keeps a 4x4 block of C in registers. No barriers, so it suits CPU
// adapters (llvmpipe, lavapipe, WARP), where a workgroup barrier is expensive; discrete
// GPUs get gemm_tiled.wgsl. Loads past the matrix edge are clamped to the last row or
// column (always in bounds) and their results are never stored, so the inner loop has
// no branches and any M, N, K works. Shape, overrides, bias, C and the epilogue come from
// _gemm_common.wgsl.

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

fn a_at(row: u32, k: u32) -> f32 {
    if TRANS_A {
        return a[k * shape.m + row];
    }
    return a[row * shape.k + k];
}

fn b_at(k: u32, col: u32) -> f32 {
    if TRANS_B {
        return b[col * shape.k + k];
    }
    return b[k * shape.n + col];
}

@compute @workgroup_size(8, 8)
fn gemm(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let row0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    if row0 >= shape.m || col0 >= shape.n {
        return;
    }
    let last_row = shape.m - 1u;
    let last_col = shape.n - 1u;
    let r = vec4<u32>(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row));
    let q = vec4<u32>(col0, min(col0 + 1u, last_col), min(col0 + 2u, last_col), min(col0 + 3u, last_col));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k = 0u; k < shape.k; k++) {
        let bk = vec4<f32>(b_at(k, q.x), b_at(k, q.y), b_at(k, q.z), b_at(k, q.w));
        acc0 += a_at(r.x, k) * bk;
        acc1 += a_at(r.y, k) * bk;
        acc2 += a_at(r.z, k) * bk;
        acc3 += a_at(r.w, k) * bk;
    }
    store(row0, col0, acc0);
    store(row0 + 1u, col0, acc1);
    store(row0 + 2u, col0, acc2);
    store(row0 + 3u, col0, acc3);
}
