// Shared by the batch-normalization kernels (_batch_norm_forward.wgsl and
// _batch_norm_backward.wgsl), which normalize each channel of z, a [rows, channels]
// matrix (rows = batch * pixels of an NHWC tensor), and write or read y in a channel
// slice of a concatenation. The kernel's own file names `Lanes`, the channels one
// invocation handles: f32, or vec4<f32> where the channels and the slice are whole
// quads (batch_norm_vec4.wgsl), for a quarter of the loads and stores. Every tensor is
// then indexed in Lanes: a row holds channels / LANE_WIDTH of them.
//   training:   y = relu?(gamma * (z - mean) / sqrt(var + eps) + beta), mean and (biased)
//               var over the rows of this batch that hold images (cursor.rows images)
//   evaluation: the same with the running averages of mean and unbiased var.
//
// Sums over rows are cut in two dispatches: the rows come in chunks of chunk_rows, and a
// workgroup sums one chunk for 32 neighbouring Lanes of channels into `partials` [chunks,
// 2, channels] (two sums each); then one invocation per Lanes combines its chunks in
// order. A layer's rows (100,352 for a 28x28 layer at batch 128) then spread over chunks
// x channel groups workgroups, and the 32 channel lanes read 32 neighbouring values of a
// row, where one workgroup per channel walking all rows, `channels` apart, left a GPU
// idle.

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
    // Rows of one chunk, and chunks covering images * pixels rows.
    chunk_rows: u32,
    chunks: u32,
    // Rows one workgroup of the elementwise kernels covers (8 per invocation, or more
    // where the rows would need more than 65,535 workgroups).
    apply_rows: u32,
    _pad0: u32,
    _pad1: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    rows: u32,
}

// Apply max(0, x) after the affine transform (the conv module's ReLU).
override RELU: bool = true;

// A workgroup: 32 Lanes of channels (x) by 8 rows at a time (y). The elementwise kernels use the
// same layout, so an invocation reads its channel's parameters once for all its rows and
// needs no division to find its channel.
const CHANNEL_LANES: u32 = 32u;
const ROW_LANES: u32 = 8u;

// Two sums carried together.
struct Pair {
    a: Lanes,
    b: Lanes,
}

var<workgroup> lanes: array<Pair, 256>;

// Sum of `value` over the row lanes of one channel lane, returned to each of them (one
// barrier before, so the scratch can be reused, one after).
fn row_lane_sum(lid: vec3<u32>, value: Pair) -> Pair {
    workgroupBarrier();
    lanes[lid.y * CHANNEL_LANES + lid.x] = value;
    workgroupBarrier();
    var total = Pair(Lanes(0.0), Lanes(0.0));
    for (var i = 0u; i < ROW_LANES; i++) {
        let part = lanes[i * CHANNEL_LANES + lid.x];
        total = Pair(total.a + part.a, total.b + part.b);
    }
    return total;
}

// Lanes in a row of z (and in each half of stats, running, affine and its gradient).
fn row_lanes() -> u32 {
    return shape.channels / LANE_WIDTH;
}

// Index in y (in Lanes) of lane `ch` of row `row`.
fn y_index(row: u32, ch: u32) -> u32 {
    return (row * shape.y_stride + shape.y_offset) / LANE_WIDTH + ch;
}

// The valid rows this batch has (rows past them hold no image).
fn valid_rows() -> u32 {
    return cursor.rows * shape.pixels;
}

// The rows [start, end) of an elementwise kernel's workgroup `group`, valid or not.
fn apply_range(group: u32) -> vec2<u32> {
    let rows = shape.images * shape.pixels;
    let start = min(group * shape.apply_rows, rows);
    return vec2<u32>(start, min(start + shape.apply_rows, rows));
}

// The valid rows [start, end) of one chunk (empty past the valid rows).
fn chunk_range(chunk: u32) -> vec2<u32> {
    let start = min(chunk * shape.chunk_rows, valid_rows());
    return vec2<u32>(start, min(start + shape.chunk_rows, valid_rows()));
}
