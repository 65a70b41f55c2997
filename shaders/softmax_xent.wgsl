// Softmax cross-entropy over a batch of logits: the gradient with respect to the
// logits ((softmax - onehot) / valid rows) and, for the step, the summed loss, the
// number of correct predictions (argmax, first index on ties) and the number whose label
// is among the five highest logits (top-5, ties ranked by class index as the argmax
// ranks them; every row when there are five classes or fewer). One workgroup
// handles the whole batch and reduces in a fixed order, so results are deterministic.
// Rows past the end of the data (partial last batch) get zero gradient and no metrics.

struct LossShape {
    batch: u32,
    classes: u32,
    images: u32,      // images in the pass, to know how many rows of this step are real
    _pad: u32,
}

struct Cursor {
    step: u32,
    images_seen: u32,
    lr: f32,
    _pad: u32,
}

const THREADS: u32 = 256u;

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: LossShape;
var<private> shape: LossShape;
@group(0) @binding(1) var<storage, read> cursor: Cursor;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
// Per step: [loss summed over real rows, correct rows, real rows, top-5 correct rows].
@group(0) @binding(5) var<storage, read_write> metrics: array<vec4<f32>>;

var<workgroup> loss_partial: array<f32, THREADS>;
var<workgroup> correct_partial: array<f32, THREADS>;
var<workgroup> top5_partial: array<f32, THREADS>;

@compute @workgroup_size(THREADS)
fn softmax_xent(@builtin(local_invocation_id) lid3: vec3<u32>) {
    shape = shape_buffer;
    let lid = lid3.x;
    let start = cursor.step * shape.batch;
    let remaining = select(0u, shape.images - start, shape.images > start);
    let valid = min(shape.batch, remaining);
    let scale = 1.0 / f32(max(valid, 1u));
    var loss = 0.0;
    var correct = 0.0;
    var top5 = 0.0;
    for (var row = lid; row < shape.batch; row += THREADS) {
        let base = row * shape.classes;
        if row >= valid {
            for (var j = 0u; j < shape.classes; j++) {
                dlogits[base + j] = 0.0;
            }
            continue;
        }
        var best = logits[base];
        var best_class = 0u;
        for (var j = 1u; j < shape.classes; j++) {
            let z = logits[base + j];
            if z > best {
                best = z;
                best_class = j;
            }
        }
        var total = 0.0;
        for (var j = 0u; j < shape.classes; j++) {
            total += exp(logits[base + j] - best);
        }
        let label = labels[row];
        loss += log(total) - (logits[base + label] - best);
        correct += select(0.0, 1.0, best_class == label);
        // The label's rank: the classes ahead of it, a tie going to the lower index.
        let label_logit = logits[base + label];
        var ahead = 0u;
        for (var j = 0u; j < shape.classes; j++) {
            let z = logits[base + j];
            ahead += select(0u, 1u, z > label_logit || (z == label_logit && j < label));
        }
        top5 += select(0.0, 1.0, ahead < 5u);
        for (var j = 0u; j < shape.classes; j++) {
            let p = exp(logits[base + j] - best) / total;
            dlogits[base + j] = (p - select(0.0, 1.0, j == label)) * scale;
        }
    }
    loss_partial[lid] = loss;
    correct_partial[lid] = correct;
    top5_partial[lid] = top5;
    workgroupBarrier();
    for (var stride = THREADS / 2u; stride > 0u; stride /= 2u) {
        if lid < stride {
            loss_partial[lid] += loss_partial[lid + stride];
            correct_partial[lid] += correct_partial[lid + stride];
            top5_partial[lid] += top5_partial[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        metrics[cursor.step] = vec4<f32>(loss_partial[0], correct_partial[0], f32(valid), top5_partial[0]);
    }
}
