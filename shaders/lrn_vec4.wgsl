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

// Where quad i's neighbours are: whether each exists.
fn neighbours(i: u32) -> vec2<bool> {
    let q = i % (shape.channels / 4u);
    return vec2<bool>(q > 0u, q + 1u < shape.channels / 4u);
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

// Quad i and its neighbours from `values`, zero where there is none.
fn quads_x(i: u32) -> Quads {
    let has = neighbours(i);
    return Quads(
        select(vec4<f32>(0.0), x[select(i, i - 1u, has.x)], has.x),
        x[i],
        select(vec4<f32>(0.0), x[select(i, i + 1u, has.y)], has.y),
    );
}

fn quads_dy(i: u32) -> Quads {
    let has = neighbours(i);
    return Quads(
        select(vec4<f32>(0.0), dy[select(i, i - 1u, has.x)], has.x),
        dy[i],
        select(vec4<f32>(0.0), dy[select(i, i + 1u, has.y)], has.y),
    );
}

fn quads_scale(i: u32) -> Quads {
    let has = neighbours(i);
    // A missing neighbour's scale is 1, so its power stays finite; its dy is 0.
    return Quads(
        select(vec4<f32>(1.0), scale[select(i, i - 1u, has.x)], has.x),
        scale[i],
        select(vec4<f32>(1.0), scale[select(i, i + 1u, has.y)], has.y),
    );
}

@compute @workgroup_size(256)
fn lrn_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
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
