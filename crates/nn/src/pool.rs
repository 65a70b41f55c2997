//! Max pooling (shaders/pool.wgsl), average pooling (shaders/avg_pool.wgsl) and global mean
//! pooling (shaders/mean_pool.wgsl).

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, U32Buffer, workgroups_for};

use crate::geometry::WindowGeometry;
use crate::slice::ChannelSlice;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PoolShape {
    batch: u32,
    in_height: u32,
    in_width: u32,
    channels: u32,
    out_height: u32,
    out_width: u32,
    window: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    y_stride: u32,
    y_offset: u32,
}

fn pool_shape(g: &WindowGeometry, y: &ChannelSlice<'_>) -> PoolShape {
    assert_eq!(g.in_channels, g.out_channels, "pooling keeps the channels");
    assert_eq!(
        g.window_height, g.window_width,
        "pooling windows are square"
    );
    assert_eq!(y.channels, g.out_channels, "pooling output slice channels");
    assert_eq!(y.pixels(), g.output_pixels(), "pooling output pixels");
    let u = |v: usize| v as u32;
    PoolShape {
        batch: u(g.batch),
        in_height: u(g.in_height),
        in_width: u(g.in_width),
        channels: u(g.in_channels),
        out_height: u(g.out_height),
        out_width: u(g.out_width),
        window: u(g.window_height),
        stride: u(g.stride),
        pad_top: u(g.pad_top),
        pad_left: u(g.pad_left),
        y_stride: u(y.stride()),
        y_offset: u(y.offset),
    }
}

/// The pooling shader for slice `y`, and the invocations covering `elements`: four
/// channels per invocation (shaders/pool_vec4.wgsl) where `y` is whole quads (the slice
/// has the input's channels).
fn pool_kernel(y: &ChannelSlice<'_>, entry: &'static str, elements: usize) -> (Kernel, [u32; 3]) {
    if y.whole_quads() {
        (
            Kernel::new("pool_vec4", entry),
            workgroups_for(elements / 4, 256),
        )
    } else {
        (Kernel::new("pool", entry), workgroups_for(elements, 256))
    }
}

/// y = the maximum of each window of x (padding never chosen), into the channel slice
/// `y`; `argmax` records the flat index of x each output took.
pub fn max_pool_forward(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    x: &Tensor,
    argmax: &U32Buffer,
    y: ChannelSlice<'_>,
) -> Result<Dispatch, GpuError> {
    assert_eq!(x.len(), g.input_len(), "{label}: input length");
    assert_eq!(argmax.len, g.output_len(), "{label}: argmax length");
    let shape = gpu.params(&format!("{label}.shape"), &pool_shape(g, &y));
    let (kernel, workgroups) = pool_kernel(&y, "max_pool_forward", g.output_len());
    gpu.dispatch(
        label,
        &kernel,
        &[
            Binding::params(&shape),
            Binding::read(&x.buffer),
            Binding::write(&argmax.buffer),
            Binding::write(&y.tensor.buffer),
        ],
        workgroups,
    )
}

/// dx = the gradient of each window's output routed to the input it took (added to dx
/// when `accumulate`). `dy` is the gradient, sliced as the forward's output.
pub fn max_pool_backward(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    dy: ChannelSlice<'_>,
    argmax: &U32Buffer,
    dx: &Tensor,
    accumulate: bool,
) -> Result<Dispatch, GpuError> {
    assert_eq!(dx.len(), g.input_len(), "{label}: input-gradient length");
    let shape = gpu.params(&format!("{label}.shape"), &pool_shape(g, &dy));
    let (kernel, workgroups) = pool_kernel(&dy, "max_pool_backward", g.input_len());
    gpu.dispatch(
        label,
        &kernel.with("ACCUMULATE", if accumulate { 1.0 } else { 0.0 }),
        &[
            Binding::params(&shape),
            Binding::read(&dy.tensor.buffer),
            Binding::write(&argmax.buffer),
            Binding::write(&dx.buffer),
        ],
        workgroups,
    )
}

/// y = the mean of each window's taps inside the image (TensorFlow's avg_pool: padding is
/// not counted), into the channel slice `y`.
pub fn avg_pool_forward(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    x: &Tensor,
    y: ChannelSlice<'_>,
) -> Result<Dispatch, GpuError> {
    assert_eq!(x.len(), g.input_len(), "{label}: input length");
    let shape = gpu.params(&format!("{label}.shape"), &pool_shape(g, &y));
    gpu.dispatch(
        label,
        &Kernel::new("avg_pool", "avg_pool_forward"),
        &[
            Binding::params(&shape),
            Binding::read(&x.buffer),
            Binding::write(&y.tensor.buffer),
        ],
        workgroups_for(g.output_len(), 256),
    )
}

/// dx = each output's gradient spread evenly over the inputs its window averaged (added
/// to dx when `accumulate`). `dy` is the gradient, sliced as the forward's output.
pub fn avg_pool_backward(
    gpu: &Gpu,
    label: &str,
    g: &WindowGeometry,
    dy: ChannelSlice<'_>,
    dx: &Tensor,
    accumulate: bool,
) -> Result<Dispatch, GpuError> {
    assert_eq!(dx.len(), g.input_len(), "{label}: input-gradient length");
    let shape = gpu.params(&format!("{label}.shape"), &pool_shape(g, &dy));
    gpu.dispatch(
        label,
        &Kernel::new("avg_pool", "avg_pool_backward")
            .with("ACCUMULATE", if accumulate { 1.0 } else { 0.0 }),
        &[
            Binding::params(&shape),
            Binding::read(&dy.tensor.buffer),
            Binding::write(&dx.buffer),
        ],
        workgroups_for(g.input_len(), 256),
    )
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MeanPoolShape {
    batch: u32,
    pixels: u32,
    channels: u32,
    _pad: u32,
}

fn mean_pool(
    gpu: &Gpu,
    label: &str,
    entry: &'static str,
    [batch, pixels, channels]: [usize; 3],
    source: &Tensor,
    destination: &Tensor,
    invocations: (usize, u32),
) -> Result<Dispatch, GpuError> {
    let shape = gpu.params(
        &format!("{label}.shape"),
        &MeanPoolShape {
            batch: batch as u32,
            pixels: pixels as u32,
            channels: channels as u32,
            _pad: 0,
        },
    );
    gpu.dispatch(
        label,
        &Kernel::new("mean_pool", entry),
        &[
            Binding::params(&shape),
            Binding::read(&source.buffer),
            Binding::write(&destination.buffer),
        ],
        workgroups_for(invocations.0, invocations.1),
    )
}

/// y[n, c] = the mean of x[n, p, c] over the `pixels` of each image.
pub fn mean_pool_forward(
    gpu: &Gpu,
    label: &str,
    [batch, pixels, channels]: [usize; 3],
    x: &Tensor,
    y: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(x.len(), batch * pixels * channels, "{label}: input length");
    assert_eq!(y.len(), batch * channels, "{label}: output length");
    let dims = [batch, pixels, channels];
    mean_pool(
        gpu,
        label,
        "mean_pool_forward",
        dims,
        x,
        y,
        (batch * channels, 64),
    )
}

/// dx[n, p, c] = dy[n, c] / pixels.
pub fn mean_pool_backward(
    gpu: &Gpu,
    label: &str,
    [batch, pixels, channels]: [usize; 3],
    dy: &Tensor,
    dx: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(
        dy.len(),
        batch * channels,
        "{label}: output-gradient length"
    );
    assert_eq!(
        dx.len(),
        batch * pixels * channels,
        "{label}: input-gradient length"
    );
    let dims = [batch, pixels, channels];
    mean_pool(
        gpu,
        label,
        "mean_pool_backward",
        dims,
        dy,
        dx,
        (dx.len(), 256),
    )
}
