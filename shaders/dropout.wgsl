// Dropout on a batch of rows, as inverted dropout: in training each value is kept with
// probability 1 - rate and scaled by 1 / (1 - rate), else zeroed; in evaluation (rate 0)
// it is the identity. The mask is never stored: it is a hash of the run's seed, the
// sample's place in the run (training images seen before its batch, plus its row) and the
// value's index in the row, so the backward draws the same mask again, every step draws a
// new one, and a run repeats bit for bit. crates/nn/src/reference/dropout.rs is the same
// arithmetic on the CPU.

struct DropoutShape {
    rows: u32,
    row_len: u32,
    // Values dropped: those whose hash is below `threshold` = rate x 2^32.
    threshold: u32,
    seed: u32,
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    rows: u32,
}

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: DropoutShape;
var<private> shape: DropoutShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
// Forward: x. Backward: dy.
@group(0) @binding(2) var<storage, read> source: array<f32>;
// Forward: y. Backward: dx.
@group(0) @binding(3) var<storage, read_write> destination: array<f32>;

fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// The value's scale: 0 where dropped, `scale` where kept.
fn keep(i: u32) -> f32 {
    let sample = cursor.images_seen + i / shape.row_len;
    let h = pcg_hash((i % shape.row_len) ^ pcg_hash(sample ^ pcg_hash(shape.seed)));
    return select(shape.scale, 0.0, h < shape.threshold);
}

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i < shape.rows * shape.row_len {
        destination[i] = source[i] * keep(i);
    }
}

// dx = dy through the same mask and scale as the forward of this step.
@compute @workgroup_size(256)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i < shape.rows * shape.row_len {
        destination[i] = source[i] * keep(i);
    }
}
