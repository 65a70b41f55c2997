// General matrix multiply with 16-byte loads, register-blocked, no workgroup memory:
//   C[M, N] = op(A)[M, K] * op(B)[K, N]  (+ bias[N])  (then ReLU)
// On CPU adapters every storage load is issued per invocation, so the number of load
// instructions bounds the speed: reading A and B as vec4 moves four values per load.
// Each invocation computes a 4x8 block of C (two 4x4 blocks side by side), so there are
// 12 loads per 128 multiply-adds. Needs K % 4 == 0, M % 4 == 0 when A is transposed, and
// N % 8 == 0 when B is not; the host falls back to gemm.wgsl otherwise. On llvmpipe
// (2 cores, 512^3) this ran about 12 GFLOP/s, a 4x4 block about 9.5 and gemm.wgsl's
// scalar loads about 5; 8x8 blocks held in arrays ran slower (about 5.7), so the block
// is spelled out in named registers. Same bindings as gemm.wgsl.

struct GemmShape {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override BIAS: bool = false;
override RELU: bool = false;

@group(0) @binding(0) var<uniform> shape: GemmShape;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

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

@compute @workgroup_size(8, 8)
fn gemm_vec4_4x8(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row0 = gid.y * 4u;
    let col0 = gid.x * 8u;
    if row0 >= shape.m || col0 >= shape.n {
        return;
    }
    let m = shape.m;
    let n = shape.n;
    let k_len = shape.k;
    let last_row = m - 1u;
    let last_col = n - 1u;
    let r = vec4<u32>(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row));
    let q = vec4<u32>(col0, min(col0 + 1u, last_col), min(col0 + 2u, last_col), min(col0 + 3u, last_col));
    let p = vec4<u32>(min(col0 + 4u, last_col), min(col0 + 5u, last_col), min(col0 + 6u, last_col), min(col0 + 7u, last_col));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var acc4 = vec4<f32>(0.0);
    var acc5 = vec4<f32>(0.0);
    var acc6 = vec4<f32>(0.0);
    var acc7 = vec4<f32>(0.0);
    for (var k = 0u; k < k_len; k += 4u) {
        var a0: vec4<f32>;
        var a1: vec4<f32>;
        var a2: vec4<f32>;
        var a3: vec4<f32>;
        if TRANS_A {
            let t = transpose(mat4x4<f32>(
                a[(k * m + row0) / 4u],
                a[((k + 1u) * m + row0) / 4u],
                a[((k + 2u) * m + row0) / 4u],
                a[((k + 3u) * m + row0) / 4u],
            ));
            a0 = t[0];
            a1 = t[1];
            a2 = t[2];
            a3 = t[3];
        } else {
            a0 = a[(r.x * k_len + k) / 4u];
            a1 = a[(r.y * k_len + k) / 4u];
            a2 = a[(r.z * k_len + k) / 4u];
            a3 = a[(r.w * k_len + k) / 4u];
        }
        var b0: vec4<f32>;
        var b1: vec4<f32>;
        var b2: vec4<f32>;
        var b3: vec4<f32>;
        var c0: vec4<f32>;
        var c1: vec4<f32>;
        var c2: vec4<f32>;
        var c3: vec4<f32>;
        if TRANS_B {
            let t = transpose(mat4x4<f32>(
                b[(q.x * k_len + k) / 4u],
                b[(q.y * k_len + k) / 4u],
                b[(q.z * k_len + k) / 4u],
                b[(q.w * k_len + k) / 4u],
            ));
            b0 = t[0];
            b1 = t[1];
            b2 = t[2];
            b3 = t[3];
            let u = transpose(mat4x4<f32>(
                b[(p.x * k_len + k) / 4u],
                b[(p.y * k_len + k) / 4u],
                b[(p.z * k_len + k) / 4u],
                b[(p.w * k_len + k) / 4u],
            ));
            c0 = u[0];
            c1 = u[1];
            c2 = u[2];
            c3 = u[3];
        } else {
            b0 = b[(k * n + col0) / 4u];
            b1 = b[((k + 1u) * n + col0) / 4u];
            b2 = b[((k + 2u) * n + col0) / 4u];
            b3 = b[((k + 3u) * n + col0) / 4u];
            c0 = b[(k * n + col0 + 4u) / 4u];
            c1 = b[((k + 1u) * n + col0 + 4u) / 4u];
            c2 = b[((k + 2u) * n + col0 + 4u) / 4u];
            c3 = b[((k + 3u) * n + col0 + 4u) / 4u];
        }
        acc0 += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
        acc1 += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
        acc2 += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
        acc3 += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
        acc4 += a0.x * c0 + a0.y * c1 + a0.z * c2 + a0.w * c3;
        acc5 += a1.x * c0 + a1.y * c1 + a1.z * c2 + a1.w * c3;
        acc6 += a2.x * c0 + a2.y * c1 + a2.z * c2 + a2.w * c3;
        acc7 += a3.x * c0 + a3.y * c1 + a3.z * c2 + a3.w * c3;
    }
    store(row0, col0, acc0);
    store(row0 + 1u, col0, acc1);
    store(row0 + 2u, col0, acc2);
    store(row0 + 3u, col0, acc3);
    store(row0, col0 + 4u, acc4);
    store(row0 + 1u, col0 + 4u, acc5);
    store(row0 + 2u, col0 + 4u, acc6);
    store(row0 + 3u, col0 + 4u, acc7);
}
