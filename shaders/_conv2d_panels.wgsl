// How the implicit-GEMM convolution (_conv2d.wgsl) lays its blocks of C over invocations
// and loads B's panels when every lane loads its own: the entry point `conv2d`, for any
// adapter. _conv2d_panels_shared.wgsl is the same with a subgroup's lanes sharing them.

// B rows k .. k + 4 over the block's 8 columns, for B stored row-major [K, N]
// (forward: the filter; backward-filter: dz). Rows at or past `k_count` read 0.
fn panel_rows(k: u32, k_count: u32, col0: u32) -> Panel {
    let n = shape.n;
    let w0 = columns_in(col0);
    let w1 = columns_in(col0 + 4u);
    var p: Panel;
    p.b00 = load_b(k * n + col0, select(0u, w0, 0u < k_count));
    p.b01 = load_b(k * n + col0 + 4u, select(0u, w1, 0u < k_count));
    p.b10 = load_b((k + 1u) * n + col0, select(0u, w0, 1u < k_count));
    p.b11 = load_b((k + 1u) * n + col0 + 4u, select(0u, w1, 1u < k_count));
    p.b20 = load_b((k + 2u) * n + col0, select(0u, w0, 2u < k_count));
    p.b21 = load_b((k + 2u) * n + col0 + 4u, select(0u, w1, 2u < k_count));
    p.b30 = load_b((k + 3u) * n + col0, select(0u, w0, 3u < k_count));
    p.b31 = load_b((k + 3u) * n + col0 + 4u, select(0u, w1, 3u < k_count));
    return p;
}

// Backward-data's B for k = (tap, oc .. oc + 4) over the block's 8 columns (input
// channels): B[k = (tap, oc + j), col = c] = w[(tap * C + c) * OC + oc + j]. Each column's
// four k values are read together, then transposed into rows.
fn filter_panel(tap: u32, oc: u32, count: u32, col0: u32) -> Panel {
    let s = shape;
    let filter_tap = tap * s.in_channels;
    let last_col = s.n - 1u;
    let left = transpose(mat4x4<f32>(
        load_b((filter_tap + min(col0, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 1u, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 2u, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 3u, last_col)) * s.out_channels + oc, count),
    ));
    let right = transpose(mat4x4<f32>(
        load_b((filter_tap + min(col0 + 4u, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 5u, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 6u, last_col)) * s.out_channels + oc, count),
        load_b((filter_tap + min(col0 + 7u, last_col)) * s.out_channels + oc, count),
    ));
    return Panel(left[0], right[0], left[1], right[1], left[2], right[2], left[3], right[3]);
}

// The block's (row0, col0) from the flat invocation index, and whether it is in range.
fn block_origin(gid: vec3<u32>, groups: vec3<u32>) -> vec3<u32> {
    let index = gid.x + gid.y * groups.x * WORKGROUP;
    let column_blocks = (shape.n + BLOCK_COLS - 1u) / BLOCK_COLS;
    let row_blocks = (shape.m + BLOCK_ROWS - 1u) / BLOCK_ROWS;
    return vec3<u32>((index / column_blocks) * BLOCK_ROWS, (index % column_blocks) * BLOCK_COLS, u32(index < row_blocks * column_blocks));
}

@compute @workgroup_size(WORKGROUP)
fn conv2d(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    k_split = gid.z;
    let origin = block_origin(gid, groups);
    if origin.z == 0u {
        return;
    }
    compute_blocks(origin.x, origin.y);
}
