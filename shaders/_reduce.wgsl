// Column sums: the bias gradient of a layer, db[j] = sum over rows of dy[row, j], and
// the sum of a split product's partial results (the rows are its K ranges). Shared by
// reduce.wgsl (one column per invocation) and reduce_vec4.wgsl (four neighbouring
// columns), which name the element type `Lanes`; `cols` counts Lanes. Every sum runs
// in a fixed order, the same for each column in both, so results are deterministic and
// do not depend on the kernel.

struct Matrix {
    rows: u32,
    cols: u32,
    // column_sum_chunks: rows per chunk.
    chunk_rows: u32,
}

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: Matrix;
var<private> shape: Matrix;
@group(0) @binding(1) var<storage, read> dy: array<Lanes>;
@group(0) @binding(2) var<storage, read_write> db: array<Lanes>;

// One invocation per column, rows summed in order.
@compute @workgroup_size(64)
fn column_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let col = gid.x;
    if col >= shape.cols {
        return;
    }
    var sum = Lanes(0.0);
    for (var row = 0u; row < shape.rows; row++) {
        sum += dy[row * shape.cols + col];
    }
    db[col] = sum;
}

// One invocation per column and chunk of chunk_rows rows (gid.y): db[chunk, col] is the
// chunk's sum, for column_sum to add up. A conv layer's dy has batch x height x width
// rows and few columns, so one invocation per column would leave all but a handful of
// a device's lanes idle (its first layer: 64 invocations over 100,352 rows).
@compute @workgroup_size(64)
fn column_sum_chunks(@builtin(global_invocation_id) gid: vec3<u32>) {
    shape = shape_buffer;
    let col = gid.x;
    if col >= shape.cols {
        return;
    }
    let first = gid.y * shape.chunk_rows;
    let end = min(shape.rows, first + shape.chunk_rows);
    var sum = Lanes(0.0);
    for (var row = first; row < end; row++) {
        sum += dy[row * shape.cols + col];
    }
    db[gid.y * shape.cols + col] = sum;
}
