// Copy an f32 buffer viewed as [outer, channels, inner] into a texel mirror (see
// _texels.wgsl) of [outer, padded, inner], the channels past `channels` zero. A first
// convolution's 1 or 3 input channels, padded to 4, let it read whole texels like the
// layers after it (a pixel's channels, or a filter tap's, in one fetch); the zeros add
// nothing to any product.

struct Padding {
    outer: u32,
    channels: u32,
    padded: u32,
    inner: u32,
}

// Read-only storage rather than uniform, and copied into `padding` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> padding_buffer: Padding;
var<private> padding: Padding;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var mirror: texture_storage_2d<rgba32float, write>;

fn padded_value(e: u32) -> f32 {
    let i = e % padding.inner;
    let c = (e / padding.inner) % padding.padded;
    let o = e / (padding.inner * padding.padded);
    let index = min((o * padding.channels + c) * padding.inner + i, arrayLength(&source) - 1u);
    return select(0.0, source[index], c < padding.channels);
}

@compute @workgroup_size(64)
fn pack_texels_padded(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    padding = padding_buffer;
    let t = gid.x + gid.y * groups.x * 64u;
    if 4u * t >= padding.outer * padding.padded * padding.inner {
        return;
    }
    let e = 4u * t;
    let v = vec4<f32>(padded_value(e), padded_value(e + 1u), padded_value(e + 2u), padded_value(e + 3u));
    textureStore(mirror, texel_coords(t), v);
}
