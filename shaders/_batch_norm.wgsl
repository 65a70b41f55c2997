// Shared by the batch-normalization kernels (batch_norm.wgsl, batch_norm_backward.wgsl),
// which normalize each channel of z, a [rows, channels] matrix (rows = batch * pixels of
// an NHWC tensor), and write or read y in a channel slice of a concatenation.
//   training:   y = relu?(gamma * (z - mean) / sqrt(var + eps) + beta), mean and (biased)
//               var over the rows of this batch that hold images (cursor.rows images)
//   evaluation: the same with the running averages of mean and unbiased var.

struct NormShape {
    // Pixels of one image (height * width).
    pixels: u32,
    channels: u32,
    // Rows of y are y_stride apart, and this layer's channels start at y_offset.
    y_stride: u32,
    y_offset: u32,
    // Running averages: running = momentum * running + (1 - momentum) * batch.
    momentum: f32,
    epsilon: f32,
    // Images in the batch (rows of the tensors / pixels), valid or not.
    images: u32,
    _pad: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    rows: u32,
}

// Apply max(0, x) after the affine transform (the conv module's ReLU).
override RELU: bool = true;

const THREADS: u32 = 64u;

var<workgroup> partial: array<vec2<f32>, THREADS>;

// Sum of `value` over the workgroup, returned to every invocation (one barrier before,
// so the scratch can be reused, one after).
fn workgroup_sum(lid: u32, value: vec2<f32>) -> vec2<f32> {
    workgroupBarrier();
    partial[lid] = value;
    workgroupBarrier();
    var total = vec2<f32>(0.0);
    for (var i = 0u; i < THREADS; i++) {
        total += partial[i];
    }
    return total;
}
