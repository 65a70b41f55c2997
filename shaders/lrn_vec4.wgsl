// Local response normalization (see _lrn.wgsl), four channels per invocation: 16-byte
// loads and stores, no loop, and each s^-beta computed once per value instead of once
// per window it falls in. For channel counts that are multiples of 4 and radii up to 4;
// lrn.wgsl runs the rest.
//
// The window sums of channels c .. c + 4 need c - 4 .. c + 8: the quads before, at and
// after c, zero past either end of the channels. A sum over [c + j - r, c + j + r] is
// the sum of the quads shifted by -r .. r, each shift weighted in or out by the radius.

@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
// Backward only: dy (the forward binds x here too).
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
// s, written by the forward, read by the backward.
@group(0) @binding(3) var<storage, read_write> scale: array<vec4<f32>>;
// Forward: y. Backward: dx.
@group(0) @binding(4) var<storage, read_write> destination: array<vec4<f32>>;

// Three consecutive quads of one pixel's channels.
struct Quads {
    before: vec4<f32>,
    at: vec4<f32>,
    after: vec4<f32>,
}

// Indices of quad i's neighbours in the same pixel (i itself where there is none), and
// whether each exists.
struct Neighbours {
    before: u32,
    after: u32,
    has_before: bool,
    has_after: bool,
}

fn neighbours(i: u32) -> Neighbours {
    let q = i % (shape.channels / 4u);
    let has_before = q > 0u;
    let has_after = q + 1u < shape.channels / 4u;
    return Neighbours(select(i, i - 1u, has_before), select(i, i + 1u, has_after), has_before, has_after);
}

// Three loaded quads, a missing neighbour replaced by `missing`.
fn quads(nb: Neighbours, before: vec4<f32>, at: vec4<f32>, after: vec4<f32>, missing: vec4<f32>) -> Quads {
    return Quads(select(missing, before, nb.has_before), at, select(missing, after, nb.has_after));
}

fn weight(on: bool) -> f32 {
    return select(0.0, 1.0, on);
}

// Sums over the radius-r windows of the four channels of `v.at`.
fn window_sums(v: Quads) -> vec4<f32> {
    let r = shape.radius;
    let b = v.before;
    let a = v.at;
    let n = v.after;
    var sum = a;
    sum += weight(r >= 1u) * (vec4<f32>(b.w, a.x, a.y, a.z) + vec4<f32>(a.y, a.z, a.w, n.x));
    sum += weight(r >= 2u) * (vec4<f32>(b.z, b.w, a.x, a.y) + vec4<f32>(a.z, a.w, n.x, n.y));
    sum += weight(r >= 3u) * (vec4<f32>(b.y, b.z, b.w, a.x) + vec4<f32>(a.w, n.x, n.y, n.z));
    sum += weight(r >= 4u) * (b + n);
    return sum;
}

// Quad i and its neighbours of x, dy and s. A missing neighbour reads 0, except its scale,
// which reads 1 so that its power stays finite (its dy is 0).
fn quads_x(i: u32) -> Quads {
    let nb = neighbours(i);
    return quads(nb, x[nb.before], x[i], x[nb.after], vec4<f32>(0.0));
}

fn quads_dy(i: u32) -> Quads {
    let nb = neighbours(i);
    return quads(nb, dy[nb.before], dy[i], dy[nb.after], vec4<f32>(0.0));
}

fn quads_scale(i: u32) -> Quads {
    let nb = neighbours(i);
    return quads(nb, scale[nb.before], scale[i], scale[nb.after], vec4<f32>(1.0));
}

@compute @workgroup_size(256)
fn lrn_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i >= shape.pixels * shape.channels / 4u {
        return;
    }
    let v = quads_x(i);
    let s = shape.bias + shape.alpha * window_sums(Quads(v.before * v.before, v.at * v.at, v.after * v.after));
    scale[i] = s;
    destination[i] = v.at * pow(s, vec4<f32>(-shape.beta));
}

@compute @workgroup_size(256)
fn lrn_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    shape = shape_buffer;
    let i = flat_index(gid, groups);
    if i >= shape.pixels * shape.channels / 4u {
        return;
    }
    let xs = quads_x(i);
    let d = quads_dy(i);
    let s = quads_scale(i);
    let power = vec4<f32>(-shape.beta - 1.0);
    let t = Quads(
        d.before * xs.before * pow(s.before, power),
        d.at * xs.at * pow(s.at, power),
        d.after * xs.after * pow(s.after, power),
    );
    destination[i] = d.at * pow(s.at, vec4<f32>(-shape.beta)) - 2.0 * shape.alpha * shape.beta * xs.at * window_sums(t);
}
