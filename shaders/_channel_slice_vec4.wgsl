// ReLU backward from a channel slice (see _channel_slice.wgsl), four channels per
// invocation with 16-byte accesses, a quarter of the load instructions of
// channel_slice.wgsl (on CPU adapters each one is a loop over the lanes). For channel
// counts, strides and offsets that are multiples of 4. channel_slice_vec4.wgsl writes dz;
// channel_slice_vec4_mirrored.wgsl also writes dz's texel mirror.

@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dz: array<vec4<f32>>;

// The quads of dz.
fn dz_quads() -> u32 {
    return shape.pixels * (shape.channels / 4u);
}

// Quad `i` of dz, from the slice's quad at the same pixel and channels. A slice that is
// the whole tensor lies at the same index, found without the two divisions, which are a
// scalar divide per lane on CPU adapters.
fn dz_quad(i: u32) -> vec4<f32> {
    var at = i;
    if shape.stride != shape.channels {
        let quads = shape.channels / 4u;
        at = ((i / quads) * shape.stride + shape.offset) / 4u + i % quads;
    }
    return select(vec4<f32>(0.0), dy[at], y[at] > vec4<f32>(0.0));
}
