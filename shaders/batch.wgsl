// The batch kernel: gathers the step's images from the resident dataset through the
// epoch's order, crops them (centre, or random for augmentation, with random left-right
// flips where asked), standardizes each image on its own (TensorFlow's
// per_image_standardization: (x - mean) / max(std, 1 / sqrt(values))) and writes the
// network's input and the labels. One workgroup per batch row.
//
// Pixels stay on the GPU as u8, four to a u32 word. After the Gaussian randomization the
// values are f32, one to a word, or where that would take more than three storage bindings
// (CIFAR-10's 50,000 images at 128 MiB a binding) f16, two to a word, decoded by hand
// (unpack2x16float needs a capability some Vulkan drivers lack). One storage binding is limited
// (128 MiB on many adapters), so the dataset is split into up to three chunks of
// `images_per_chunk` whole images; an image never straddles two chunks.
// Rows past the end of the data (the last, partial batch) are written as zeros with
// label 0; the loss masks them out.

struct BatchShape {
    images: u32,          // images in this split
    batch: u32,           // rows of the input tensor
    channels: u32,
    height: u32,          // stored image size
    width: u32,
    crop_height: u32,     // network input size
    crop_width: u32,
    images_per_chunk: u32,
    sequential: u32,      // 1: image = step * batch + row (evaluation); 0: through `order`
    pixel_format: u32,    // U8_PIXELS, F32_PIXELS or F16_PIXELS
    random_crop: u32,     // 1: crop at a random offset per sample; 0: centre crop
    crop_seed: u32,
    random_flip: u32,     // 1: mirror left-right with probability 1/2 per sample
    flip_seed: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    _pad: u32,
}

const THREADS: u32 = 64u;

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: BatchShape;
var<private> shape: BatchShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read> chunk0: array<u32>;
@group(0) @binding(5) var<storage, read> chunk1: array<u32>;
@group(0) @binding(6) var<storage, read> chunk2: array<u32>;
@group(0) @binding(7) var<storage, read_write> x: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<u32>;

var<workgroup> partial: array<vec2<f32>, THREADS>;

// How the words of the chunks hold their values (shatter::PixelFormat).
const U8_PIXELS: u32 = 0u;   // four u8 pixels a word, the first in the lowest byte
const F32_PIXELS: u32 = 1u;  // one f32 a word
const F16_PIXELS: u32 = 2u;  // two f16 a word, the first in the low half

// Value `index` of a chunk (counted from the chunk's first value), on the scale of
// u8 / 255, from the word holding it.
fn word_of(index: u32) -> u32 {
    switch shape.pixel_format {
        case F32_PIXELS: { return index; }
        case F16_PIXELS: { return index / 2u; }
        default: { return index / 4u; }
    }
}

// An f16's bits as the f32 of the same value, exactly.
fn half_to_f32(half: u32) -> f32 {
    let sign = (half & 0x8000u) << 16u;
    let exponent = (half >> 10u) & 0x1fu;
    let mantissa = half & 0x3ffu;
    if exponent == 0u {
        // Zero and subnormals: mantissa x 2^-24.
        let magnitude = f32(mantissa) * 5.9604645e-8;
        return select(magnitude, -magnitude, sign != 0u);
    }
    // Normal numbers: rebias the exponent (15 -> 127). f16 infinities and NaNs cannot
    // occur: the values are finite draws near [0, 1].
    return bitcast<f32>(sign | ((exponent + 112u) << 23u) | (mantissa << 13u));
}

fn decode(word: u32, index: u32) -> f32 {
    switch shape.pixel_format {
        case F32_PIXELS: { return bitcast<f32>(word); }
        case F16_PIXELS: { return half_to_f32((word >> ((index % 2u) * 16u)) & 0xffffu); }
        default: { return f32((word >> ((index % 4u) * 8u)) & 0xffu) / 255.0; }
    }
}

// Where value `e` of an image's input lies in the crop: its channel, column and row in
// the networks' NHWC layout. Each invocation starts at its own value and steps THREADS
// values at a time by additions: an integer division by a number known only at run time
// is a scalar divide per lane on CPU adapters, and with four per value they took about
// a quarter of this kernel there (7.2 -> 5.5 ms for a batch of 128 on lavapipe).
struct CropPosition {
    channel: u32,
    col: u32,
    row: u32,
}

fn crop_position(e: u32) -> CropPosition {
    let pixel = e / shape.channels;
    return CropPosition(e % shape.channels, pixel % shape.crop_width, pixel / shape.crop_width);
}

// `at` moved on by `step` (a crop_position): each carry is at most one, since both
// columns are below crop_width.
fn advance(at: CropPosition, step: CropPosition) -> CropPosition {
    var next = CropPosition(at.channel + step.channel, at.col + step.col, at.row + step.row);
    if next.channel >= shape.channels {
        next.channel -= shape.channels;
        next.col += 1u;
    }
    if next.col >= shape.crop_width {
        next.col -= shape.crop_width;
        next.row += 1u;
    }
    return next;
}

// Offset in the stored image (channel-major, as the formats store it) of the value at
// `at` in the crop whose corner is (top, left), mirrored left-right where `flip`.
fn source_offset(at: CropPosition, top: u32, left: u32, flip: bool) -> u32 {
    let col = select(at.col, shape.crop_width - 1u - at.col, flip);
    return (at.channel * shape.height + at.row + top) * shape.width + col + left;
}

// PCG's output permutation of a 32-bit state: a well-mixed hash of a counter.
fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// The crop's (top, left): the centre, or for random crops a position drawn from the
// sample's place in the run (training images seen before it) and the seed, so every
// sample of every epoch gets its own offsets and a run is reproducible.
fn crop_origin(sample: u32) -> vec2<u32> {
    let spare_rows = shape.height - shape.crop_height;
    let spare_cols = shape.width - shape.crop_width;
    if shape.random_crop == 0u {
        return vec2<u32>(spare_rows / 2u, spare_cols / 2u);
    }
    let h = pcg_hash(sample ^ pcg_hash(shape.crop_seed));
    return vec2<u32>((h & 0xffffu) % (spare_rows + 1u), (h >> 16u) % (spare_cols + 1u));
}

// Whether a sample is mirrored: with random flips, one bit drawn like its crop, from the
// sample's place in the run and a seed of its own.
fn flipped(sample: u32) -> bool {
    return shape.random_flip == 1u && (pcg_hash(sample ^ pcg_hash(shape.flip_seed)) & 1u) == 1u;
}

// Sum of `value` over the workgroup; every invocation gets the result. The first
// invocation adds the partials and shares the total through a second barrier. On CPU
// adapters every workgroup-memory load is a loop over the SIMD lanes, so each of the
// workgroup's eight SIMD batches adding the 64 partials itself cost more than the barrier,
// and took about a third of this kernel (11.0 -> 7.2 ms for a batch of 128 on lavapipe).
var<workgroup> total: vec2<f32>;

fn workgroup_sum(lid: u32, value: vec2<f32>) -> vec2<f32> {
    partial[lid] = value;
    workgroupBarrier();
    if lid == 0u {
        var sum = vec2<f32>(0.0);
        for (var i = 0u; i < THREADS; i++) {
            sum += partial[i];
        }
        total = sum;
    }
    return workgroupUniformLoad(&total);
}

// The values an invocation reads in the first pass, kept for the second where the crop
// has at most HELD * THREADS of them (3 x 32 x 32 has 3072), so the dataset is read once.
// On CPU adapters each storage load is a loop over the lanes, while the held values sit
// in registers and stack slots: a batch of 128 3x28x28 images took 2.5-3.6 ms on lavapipe
// instead of 4.3-6.2. Larger crops read the dataset again.
const HELD: u32 = 48u;
var<private> held: array<f32, HELD>;

fn hold(j: u32, v: f32) {
    if j < HELD {
        held[j] = v;
    }
}

@compute @workgroup_size(THREADS)
fn gather_batch(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    shape = shape_buffer;
    let lid = lid3.x;
    let row = wid.x;
    let slot = cursor.step * shape.batch + row;
    let valid = slot < shape.images;
    // Invalid rows still run the reductions (barriers need uniform control flow) on image 0.
    var image = 0u;
    if valid {
        image = select(order[slot], slot, shape.sequential == 1u);
    }
    let values = shape.channels * shape.crop_height * shape.crop_width;
    let origin = crop_origin(cursor.images_seen + row);
    let flip = flipped(cursor.images_seen + row);
    let step = crop_position(THREADS);

    // Mean and variance from one pass of sums and sums of squares: values lie in [0, 1],
    // so f32 keeps the variance to about 1e-6, and a nearly constant image falls under the
    // 1 / sqrt(values) floor anyway.
    let chunk = image / shape.images_per_chunk;
    let first = (image % shape.images_per_chunk) * shape.channels * shape.height * shape.width;
    // Each pass has one loop per chunk, the chunk chosen once outside it: with the choice
    // inside, CPU adapters (which run every storage load as a loop over lanes, in every
    // branch of an if) paid for three loads per value.
    var sums = vec2<f32>(0.0);
    if chunk == 0u {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            let v = decode(chunk0[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
            hold(e / THREADS, v);
            at = advance(at, step);
        }
    } else if chunk == 1u {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            let v = decode(chunk1[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
            hold(e / THREADS, v);
            at = advance(at, step);
        }
    } else {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            let v = decode(chunk2[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
            hold(e / THREADS, v);
            at = advance(at, step);
        }
    }
    let totals = workgroup_sum(lid, sums) / f32(values);
    let mean = totals.x;
    let variance = max(totals.y - mean * mean, 0.0);
    // Invalid rows are written as zeros: scale 0 and mean 0 turn every value into 0.
    let scale = select(0.0, 1.0 / max(sqrt(variance), inverseSqrt(f32(values))), valid);
    let shift = select(0.0, mean, valid);
    let base = row * values;
    if values <= HELD * THREADS {
        var j = 0u;
        for (var e = lid; e < values; e += THREADS) {
            x[base + e] = (held[j] - shift) * scale;
            j++;
        }
    } else if chunk == 0u {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            x[base + e] = (decode(chunk0[word_of(i)], i) - shift) * scale;
            at = advance(at, step);
        }
    } else if chunk == 1u {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            x[base + e] = (decode(chunk1[word_of(i)], i) - shift) * scale;
            at = advance(at, step);
        }
    } else {
        var at = crop_position(lid);
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(at, origin.x, origin.y, flip);
            x[base + e] = (decode(chunk2[word_of(i)], i) - shift) * scale;
            at = advance(at, step);
        }
    }
    if lid == 0u {
        y[row] = select(0u, labels[image], valid);
    }
}
