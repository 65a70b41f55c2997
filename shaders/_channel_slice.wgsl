// ReLU backward from a channel slice of a concatenation into a tensor of the slice's own
// channels: dz[p, c] = dy[p, offset + c] where y[p, offset + c] > 0, else 0. A branch's
// gradient is read where the concatenation put its output, so splitting the
// concatenation's gradient costs no copy of its own. This fragment holds the shape;
// channel_slice.wgsl runs one value per invocation, channel_slice_vec4.wgsl four.

struct SliceShape {
    pixels: u32,
    channels: u32,
    stride: u32,
    offset: u32,
}

// Read-only storage rather than uniform, and copied into `shape` as each kernel
// starts: see BindingKind::Params in crates/gpu/src/dispatch.rs.
@group(0) @binding(0) var<storage, read> shape_buffer: SliceShape;
var<private> shape: SliceShape;
