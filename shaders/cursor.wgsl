// The step cursor: where a pass over the data stands. The host sets it once per pass
// (step 0 and the images seen before it); this kernel, recorded last in every step,
// moves it on, so several steps can be recorded in one command buffer without the host.

struct Cursor {
    step: u32,
    images_seen: u32,
    _pad0: u32,
    _pad1: u32,
}

struct Pass {
    // Images in this pass (the training set, or the split being evaluated).
    images: u32,
    batch: u32,
}

@group(0) @binding(0) var<uniform> pass_shape: Pass;
@group(0) @binding(1) var<storage, read_write> cursor: Cursor;

@compute @workgroup_size(1)
fn advance_cursor() {
    let start = cursor.step * pass_shape.batch;
    let remaining = select(0u, pass_shape.images - start, pass_shape.images > start);
    cursor.images_seen += min(pass_shape.batch, remaining);
    cursor.step += 1u;
}
