// How the implicit-GEMM convolution (_conv2d.wgsl) lays its blocks of C over invocations
// and loads B's panels on devices with 8-wide subgroups (lavapipe): the entry point
// `conv2d_shared`. There a subgroup is one SIMD register's lanes, every load is a loop
// over those lanes, and a broadcast from one lane to all is one register shuffle. So the
// 8 lanes of a subgroup take 8 consecutive row blocks of C at one column block, and each
// 4-k panel of B (8 vec4s, the same for all 8 lanes) is loaded once for the subgroup, a
// vec4 by each lane, and broadcast: 1 load per panel and lane instead of 8. Same results
// as _conv2d_panels.wgsl, value for value.

// This invocation's lane in its subgroup, set by the entry point.
var<private> lane: u32;

// B rows k .. k + 4 over the block's 8 columns, for B stored row-major [K, N]
// (forward: the filter; backward-filter: dz). Rows at or past `k_count` read 0.
// Lane l loads B[k + l / 2, col0 + 4 (l % 2) ..], which is Panel field l.
fn panel_rows(k: u32, k_count: u32, col0: u32) -> Panel {
    let row = lane / 2u;
    let col = col0 + 4u * (lane % 2u);
    let mine = load_b((k + row) * shape.n + col, select(0u, columns_in(col), row < k_count));
    return Panel(
        subgroupBroadcast(mine, 0u),
        subgroupBroadcast(mine, 1u),
        subgroupBroadcast(mine, 2u),
        subgroupBroadcast(mine, 3u),
        subgroupBroadcast(mine, 4u),
        subgroupBroadcast(mine, 5u),
        subgroupBroadcast(mine, 6u),
        subgroupBroadcast(mine, 7u),
    );
}

// Backward-data's B for k = (tap, oc .. oc + 4) over the block's 8 columns (input
// channels): B[k = (tap, oc + j), col = c] = w[(tap * C + c) * OC + oc + j]. Lane l loads
// column col0 + l's four k values; the block transposes them into rows.
fn filter_panel(tap: u32, oc: u32, count: u32, col0: u32) -> Panel {
    let s = shape;
    let column = min(col0 + lane, s.n - 1u);
    let mine = load_b((tap * s.in_channels + column) * s.out_channels + oc, count);
    let left = transpose(mat4x4<f32>(
        subgroupBroadcast(mine, 0u),
        subgroupBroadcast(mine, 1u),
        subgroupBroadcast(mine, 2u),
        subgroupBroadcast(mine, 3u),
    ));
    let right = transpose(mat4x4<f32>(
        subgroupBroadcast(mine, 4u),
        subgroupBroadcast(mine, 5u),
        subgroupBroadcast(mine, 6u),
        subgroupBroadcast(mine, 7u),
    ));
    return Panel(left[0], right[0], left[1], right[1], left[2], right[2], left[3], right[3]);
}

// The host dispatches WORKGROUP / 8 whole subgroups per workgroup (WORKGROUP a multiple
// of 8). Subgroup g takes column block g % column_blocks and row blocks 8 (g /
// column_blocks) + lane. Lanes past the last row block compute clamped rows that are never
// stored, because every lane must be there for the broadcasts; a subgroup wholly past
// the last block leaves at once, all its lanes together.
@compute @workgroup_size(WORKGROUP)
fn conv2d_shared(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(subgroup_id) subgroup: u32,
    @builtin(subgroup_invocation_id) subgroup_lane: u32,
) {
    shape = shape_buffer;
    lane = subgroup_lane;
    k_split = workgroup.z;
    let g = (workgroup.x + workgroup.y * groups.x) * (WORKGROUP / 8u) + subgroup;
    let column_blocks = (shape.n + BLOCK_COLS - 1u) / BLOCK_COLS;
    let row_blocks = (shape.m + BLOCK_ROWS - 1u) / BLOCK_ROWS;
    let first_row_block = (g / column_blocks) * 8u;
    if first_row_block >= row_blocks {
        return;
    }
    compute_blocks((first_row_block + lane) * BLOCK_ROWS, (g % column_blocks) * BLOCK_COLS);
}
