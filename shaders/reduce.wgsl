// Column sums: the bias gradient of a dense layer, db[j] = sum over rows of dy[row, j].
// One invocation per column, rows summed in order, so the result is deterministic.

struct Matrix {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<uniform> shape: Matrix;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(64)
fn column_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if col >= shape.cols {
        return;
    }
    var sum = 0.0;
    for (var row = 0u; row < shape.rows; row++) {
        sum += dy[row * shape.cols + col];
    }
    db[col] = sum;
}
