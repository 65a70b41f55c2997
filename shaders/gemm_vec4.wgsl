// General matrix multiply with 16-byte loads, register-blocked, no workgroup memory:
//   C[M, N] = op(A)[M, K] * op(B)[K, N]  (+ bias[N])  (then ReLU)
// On CPU adapters every storage load is issued per invocation, so the number of load
// instructions bounds the speed: reading A and B as vec4 moves four values per load.
// Each invocation computes an 8x8 block of C: 16 vec4 loads per 256 multiply-adds.
// Needs K % 4 == 0, M % 4 == 0 when A is transposed, and N % 8 == 0 when B is not; the
// host falls back to gemm.wgsl otherwise. Measured on llvmpipe (2 cores, 512^3): this
// block 15 to 18 GFLOP/s, a 4x8 block about 12, 4x4 about 9.5, gemm.wgsl's scalar loads
// about 5. The same 8x8 block held in arrays ran at 5.7 (the arrays went to memory with
// indexed access), so every register here is named; the code is written out, not looped.

@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

// The 16 accumulators do not fit a CPU's vector registers, but spilling them costs plain
// vector moves, which are cheaper than the per-lane gathers of extra loads.
@compute @workgroup_size(8, 8)
fn gemm_vec4_8x8(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 8u;
    let col0 = gid.x * 8u;
    if row0 >= shape.m || col0 >= shape.n {
        return;
    }
    let m = shape.m;
    let n = shape.n;
    let k_len = shape.k;
    let last_row = m - 1u;
    let last_col = n - 1u;
    let r0 = min(row0 + 0u, last_row);
    let r1 = min(row0 + 1u, last_row);
    let r2 = min(row0 + 2u, last_row);
    let r3 = min(row0 + 3u, last_row);
    let r4 = min(row0 + 4u, last_row);
    let r5 = min(row0 + 5u, last_row);
    let r6 = min(row0 + 6u, last_row);
    let r7 = min(row0 + 7u, last_row);
    let q0 = min(col0 + 0u, last_col);
    let q1 = min(col0 + 1u, last_col);
    let q2 = min(col0 + 2u, last_col);
    let q3 = min(col0 + 3u, last_col);
    let q4 = min(col0 + 4u, last_col);
    let q5 = min(col0 + 5u, last_col);
    let q6 = min(col0 + 6u, last_col);
    let q7 = min(col0 + 7u, last_col);
    // With A transposed, rows are read four at a time; the second group is clamped to stay in bounds.
    let g1 = min(row0 + 4u, m - 4u);
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0);
    var acc41 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0);
    var acc51 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0);
    var acc61 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0);
    var acc71 = vec4<f32>(0.0);
    for (var k = 0u; k < k_len; k += 4u) {
        var a0: vec4<f32>;
        var a1: vec4<f32>;
        var a2: vec4<f32>;
        var a3: vec4<f32>;
        var a4: vec4<f32>;
        var a5: vec4<f32>;
        var a6: vec4<f32>;
        var a7: vec4<f32>;
        if TRANS_A {
            let t0 = transpose(mat4x4<f32>(
                a[(k * m + row0) / 4u],
                a[((k + 1u) * m + row0) / 4u],
                a[((k + 2u) * m + row0) / 4u],
                a[((k + 3u) * m + row0) / 4u],
            ));
            a0 = t0[0];
            a1 = t0[1];
            a2 = t0[2];
            a3 = t0[3];
            let t1 = transpose(mat4x4<f32>(
                a[(k * m + g1) / 4u],
                a[((k + 1u) * m + g1) / 4u],
                a[((k + 2u) * m + g1) / 4u],
                a[((k + 3u) * m + g1) / 4u],
            ));
            a4 = t1[0];
            a5 = t1[1];
            a6 = t1[2];
            a7 = t1[3];
        } else {
            a0 = a[(r0 * k_len + k) / 4u];
            a1 = a[(r1 * k_len + k) / 4u];
            a2 = a[(r2 * k_len + k) / 4u];
            a3 = a[(r3 * k_len + k) / 4u];
            a4 = a[(r4 * k_len + k) / 4u];
            a5 = a[(r5 * k_len + k) / 4u];
            a6 = a[(r6 * k_len + k) / 4u];
            a7 = a[(r7 * k_len + k) / 4u];
        }
        // b{j}{h} = B[k + j, col0 + 4h .. col0 + 4h + 4]
        var b00: vec4<f32>;
        var b01: vec4<f32>;
        var b10: vec4<f32>;
        var b11: vec4<f32>;
        var b20: vec4<f32>;
        var b21: vec4<f32>;
        var b30: vec4<f32>;
        var b31: vec4<f32>;
        if TRANS_B {
            let u0 = transpose(mat4x4<f32>(
                b[(q0 * k_len + k) / 4u],
                b[(q1 * k_len + k) / 4u],
                b[(q2 * k_len + k) / 4u],
                b[(q3 * k_len + k) / 4u],
            ));
            b00 = u0[0];
            b10 = u0[1];
            b20 = u0[2];
            b30 = u0[3];
            let u1 = transpose(mat4x4<f32>(
                b[(q4 * k_len + k) / 4u],
                b[(q5 * k_len + k) / 4u],
                b[(q6 * k_len + k) / 4u],
                b[(q7 * k_len + k) / 4u],
            ));
            b01 = u1[0];
            b11 = u1[1];
            b21 = u1[2];
            b31 = u1[3];
        } else {
            b00 = b[(k * n + col0) / 4u];
            b01 = b[(k * n + col0 + 4u) / 4u];
            b10 = b[((k + 1u) * n + col0) / 4u];
            b11 = b[((k + 1u) * n + col0 + 4u) / 4u];
            b20 = b[((k + 2u) * n + col0) / 4u];
            b21 = b[((k + 2u) * n + col0 + 4u) / 4u];
            b30 = b[((k + 3u) * n + col0) / 4u];
            b31 = b[((k + 3u) * n + col0 + 4u) / 4u];
        }
        acc00 += a0.x * b00 + a0.y * b10 + a0.z * b20 + a0.w * b30;
        acc01 += a0.x * b01 + a0.y * b11 + a0.z * b21 + a0.w * b31;
        acc10 += a1.x * b00 + a1.y * b10 + a1.z * b20 + a1.w * b30;
        acc11 += a1.x * b01 + a1.y * b11 + a1.z * b21 + a1.w * b31;
        acc20 += a2.x * b00 + a2.y * b10 + a2.z * b20 + a2.w * b30;
        acc21 += a2.x * b01 + a2.y * b11 + a2.z * b21 + a2.w * b31;
        acc30 += a3.x * b00 + a3.y * b10 + a3.z * b20 + a3.w * b30;
        acc31 += a3.x * b01 + a3.y * b11 + a3.z * b21 + a3.w * b31;
        acc40 += a4.x * b00 + a4.y * b10 + a4.z * b20 + a4.w * b30;
        acc41 += a4.x * b01 + a4.y * b11 + a4.z * b21 + a4.w * b31;
        acc50 += a5.x * b00 + a5.y * b10 + a5.z * b20 + a5.w * b30;
        acc51 += a5.x * b01 + a5.y * b11 + a5.z * b21 + a5.w * b31;
        acc60 += a6.x * b00 + a6.y * b10 + a6.z * b20 + a6.w * b30;
        acc61 += a6.x * b01 + a6.y * b11 + a6.z * b21 + a6.w * b31;
        acc70 += a7.x * b00 + a7.y * b10 + a7.z * b20 + a7.w * b30;
        acc71 += a7.x * b01 + a7.y * b11 + a7.z * b21 + a7.w * b31;
    }
    // store() drops rows past M (those of a clamped second group) and columns past N.
    store(row0 + 0u, col0, acc00);
    store(row0 + 0u, col0 + 4u, acc01);
    store(row0 + 1u, col0, acc10);
    store(row0 + 1u, col0 + 4u, acc11);
    store(row0 + 2u, col0, acc20);
    store(row0 + 2u, col0 + 4u, acc21);
    store(row0 + 3u, col0, acc30);
    store(row0 + 3u, col0 + 4u, acc31);
    store(row0 + 4u, col0, acc40);
    store(row0 + 4u, col0 + 4u, acc41);
    store(row0 + 5u, col0, acc50);
    store(row0 + 5u, col0 + 4u, acc51);
    store(row0 + 6u, col0, acc60);
    store(row0 + 6u, col0 + 4u, acc61);
    store(row0 + 7u, col0, acc70);
    store(row0 + 7u, col0 + 4u, acc71);
}
