// The step cursor: where a pass over the data stands. The host sets it once per pass
// (step 0 and the images seen before it). `set_learning_rate`, recorded first in every
// training step, computes the step's learning rate once for all optimizer kernels;
// `advance_cursor`, recorded last, moves the cursor on. So several steps can be recorded
// in one command buffer without the host.

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    // Rows of this step's batch that hold images (the last batch of a pass is partial):
    // what batch normalization averages over.
    rows: u32,
}

struct Pass {
    // Images in this pass (the training set, or the split being evaluated).
    images: u32,
    batch: u32,
    // The schedule lr = lr0 * decay ^ (images_seen / decay_images), floored exponent when staircase.
    staircase: u32,
    _pad: u32,
    lr0: f32,
    decay: f32,
    decay_images: f32,
    _pad2: f32,
}

// Read-only storage rather than uniform, and copied into `pass_shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> pass_shape_buffer: Pass;
var<private> pass_shape: Pass;
@group(0) @binding(1) var<storage, read_write> cursor: Cursor;

@compute @workgroup_size(1)
fn advance_cursor() {
    pass_shape = pass_shape_buffer;
    let start = cursor.step * pass_shape.batch;
    let remaining = select(0u, pass_shape.images - start, pass_shape.images > start);
    cursor.images_seen += min(pass_shape.batch, remaining);
    cursor.step += 1u;
}

@compute @workgroup_size(1)
fn set_learning_rate() {
    pass_shape = pass_shape_buffer;
    var exponent = f32(cursor.images_seen) / pass_shape.decay_images;
    if pass_shape.staircase == 1u {
        exponent = floor(exponent);
    }
    cursor.lr = pass_shape.lr0 * pow(pass_shape.decay, exponent);
    let start = cursor.step * pass_shape.batch;
    cursor.rows = min(pass_shape.batch, select(0u, pass_shape.images - start, pass_shape.images > start));
}
