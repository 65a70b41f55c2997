// General matrix multiply staged through workgroup memory, for discrete and integrated GPUs:
//   C[M, N] = op(A)[M, K] * op(B)[K, N]  (+ bias[N])  (then ReLU)
// The tiles and their product come from _workgroup_tiles.wgsl; this file fills them, with
// loads arranged so neighbouring invocations read neighbouring addresses for every
// storage layout. Shape, overrides, bias, C and the epilogue come from _gemm_common.wgsl.
//
// Split over K (SPLIT, for GPUs; see `GemmVariant::TiledSplit`): workgroup z multiplies
// only K's range [z * k_chunk, (z + 1) * k_chunk) and stores its plain product, without
// the epilogue, in slice z of C (then a [splits, M, N] partial buffer), which
// gemm_split_sum.wgsl adds up. k_chunk is a multiple of DEPTH, so only the last range
// meets the end of K, where the loads' bounds checks already stop.

// Multiply one range of K per workgroup z into slice z of C.
override SPLIT: bool = false;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;


fn load_a(row: u32, k: u32) -> f32 {
    if row >= shape.m || k >= shape.k {
        return 0.0;
    }
    if TRANS_A {
        return a[k * shape.m + row];
    }
    return a[row * shape.k + k];
}

fn load_b(k: u32, col: u32) -> f32 {
    if col >= shape.n || k >= shape.k {
        return 0.0;
    }
    if TRANS_B {
        return b[col * shape.k + k];
    }
    return b[k * shape.n + col];
}

@compute @workgroup_size(16, 16)
fn gemm_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    shape = shape_buffer;
    let row_base = wid.y * TILE;
    let col_base = wid.x * TILE;
    let thread = lid.y * 16u + lid.x;
    var acc = mat4x4<f32>();
    // The loop holds barriers, so its bounds must be uniform: WGSL's analysis (Tint's, in
    // browsers, which naga's does not match) counts a read of the read-only storage buffer
    // as uniform, and one of the private copy `shape` as not.
    var k_begin = 0u;
    var k_end = shape_buffer.k;
    if SPLIT {
        k_begin = wid.z * shape_buffer.k_chunk;
        k_end = min(shape_buffer.k, k_begin + shape_buffer.k_chunk);
    }
    for (var k0 = k_begin; k0 < k_end; k0 += DEPTH) {
        for (var i = 0u; i < 4u; i++) {
            let e = thread + i * 256u;
            // Walk along whichever index is contiguous in memory.
            var ar = e % TILE;
            var ak = e / TILE;
            if !TRANS_A {
                ar = e / DEPTH;
                ak = e % DEPTH;
            }
            tile_a[ak * TILE + ar] = load_a(row_base + ar, k0 + ak);
            var bc = e % TILE;
            var bk = e / TILE;
            if TRANS_B {
                bc = e / DEPTH;
                bk = e % DEPTH;
            }
            tile_b[bk * TILE + bc] = load_b(k0 + bk, col_base + bc);
        }
        workgroupBarrier();
        acc = multiply_tiles(acc, lid);
        workgroupBarrier();
    }
    let row0 = row_base + lid.y * 4u;
    let col0 = col_base + lid.x * 4u;
    if SPLIT {
        let slice = wid.z * shape.m * shape.n;
        for (var i = 0u; i < 4u; i++) {
            store_partial(slice, row0 + i, col0, acc[i]);
        }
        return;
    }
    for (var i = 0u; i < 4u; i++) {
        store(row0 + i, col0, acc[i]);
    }
}

// Write four consecutive values of row `row` of a range's product into its slice of the
// partial buffer, as they are; values past the edge of C are dropped.
fn store_partial(slice: u32, row: u32, col0: u32, value: vec4<f32>) {
    if row >= shape.m {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if col < shape.n {
            c[slice + row * shape.n + col] = value[j];
        }
    }
}
