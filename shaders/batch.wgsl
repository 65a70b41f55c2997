// The batch kernel: gathers the step's images from the resident dataset through the
// epoch's order, crops them (centre, or random for augmentation), standardizes each image on its own (TensorFlow's
// per_image_standardization: (x - mean) / max(std, 1 / sqrt(values))) and writes the
// network's input and the labels. One workgroup per batch row.
//
// Pixels stay on the GPU as u8, four to a u32 word (f32 values one to a word after the
// Gaussian randomization). One storage binding is limited
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
    float_pixels: u32,    // 1: one f32 per word (Gaussian data); 0: four u8 pixels per word
    random_crop: u32,     // 1: crop at a random offset per sample; 0: centre crop
    crop_seed: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    _pad: u32,
}

const THREADS: u32 = 64u;

@group(0) @binding(0) var<uniform> shape: BatchShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read> chunk0: array<u32>;
@group(0) @binding(5) var<storage, read> chunk1: array<u32>;
@group(0) @binding(6) var<storage, read> chunk2: array<u32>;
@group(0) @binding(7) var<storage, read_write> x: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<u32>;

var<workgroup> partial: array<vec2<f32>, THREADS>;

// Value `index` of a chunk (counted from the chunk's first value), on the scale of
// u8 / 255, from the word holding it.
fn word_of(index: u32) -> u32 {
    return select(index / 4u, index, shape.float_pixels == 1u);
}

fn decode(word: u32, index: u32) -> f32 {
    if shape.float_pixels == 1u {
        return bitcast<f32>(word);
    }
    return f32((word >> ((index % 4u) * 8u)) & 0xffu) / 255.0;
}

// Offset in the stored image (channel-major, as the formats store it) of value `e` of the
// input, which is the image cropped at (top, left) in the networks' NHWC layout.
fn source_offset(e: u32, top: u32, left: u32) -> u32 {
    let channel = e % shape.channels;
    let pixel = e / shape.channels;
    let row = pixel / shape.crop_width + top;
    let col = pixel % shape.crop_width + left;
    return (channel * shape.height + row) * shape.width + col;
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

// Sum of `value` over the workgroup; every invocation gets the result. One barrier, then
// each invocation adds the partials itself: on CPU adapters a barrier costs far more than
// 64 additions, and on GPUs the reads of the same address are broadcasts.
fn workgroup_sum(lid: u32, value: vec2<f32>) -> vec2<f32> {
    partial[lid] = value;
    workgroupBarrier();
    var total = vec2<f32>(0.0);
    for (var i = 0u; i < THREADS; i++) {
        total += partial[i];
    }
    return total;
}

@compute @workgroup_size(THREADS)
fn gather_batch(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
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
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            let v = decode(chunk0[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
        }
    } else if chunk == 1u {
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            let v = decode(chunk1[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
        }
    } else {
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            let v = decode(chunk2[word_of(i)], i);
            sums += vec2<f32>(v, v * v);
        }
    }
    let totals = workgroup_sum(lid, sums) / f32(values);
    let mean = totals.x;
    let variance = max(totals.y - mean * mean, 0.0);
    // Invalid rows are written as zeros: scale 0 and mean 0 turn every value into 0.
    let scale = select(0.0, 1.0 / max(sqrt(variance), inverseSqrt(f32(values))), valid);
    let shift = select(0.0, mean, valid);
    let base = row * values;
    if chunk == 0u {
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            x[base + e] = (decode(chunk0[word_of(i)], i) - shift) * scale;
        }
    } else if chunk == 1u {
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            x[base + e] = (decode(chunk1[word_of(i)], i) - shift) * scale;
        }
    } else {
        for (var e = lid; e < values; e += THREADS) {
            let i = first + source_offset(e, origin.x, origin.y);
            x[base + e] = (decode(chunk2[word_of(i)], i) - shift) * scale;
        }
    }
    if lid == 0u {
        y[row] = select(0u, labels[image], valid);
    }
}
