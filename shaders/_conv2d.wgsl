// Convolution as an implicit GEMM on NHWC tensors, in three modes chosen by MODE:
//   0 forward:          y[n,oh,ow,oc]   M = N*OH*OW, N = OC, K = KH*KW*C,  A = x patches, B = w
//   1 backward-data:    dx[n,h,w,c]     M = N*H*W,   N = C,  K = KH*KW*OC, A = dz gathered, B = w per tap, transposed
//   2 backward-filter:  dw[kh,kw,c,oc]  M = KH*KW*C, N = OC, K = N*OH*OW,  A = x patches, transposed, B = dz
// A's element for (row, k) is computed from the geometry when loaded (a tap in the padding,
// or a gradient position the stride skips, reads 0), so no im2col buffer exists.
// The filter is [KH, KW, C, OC]. This fragment holds the geometry, the loops and the
// epilogue; the fragments composed after it supply the loads (load_a, load_b,
// a_tile_filter) with scalar reads (conv2d.wgsl, any shape) or 16-byte reads
// (conv2d_vec4.wgsl), and the entry point with B's panels (_conv2d_panels.wgsl: each
// lane loads its own; _conv2d_panels_shared.wgsl: a subgroup's lanes share them).
// Each invocation accumulates an 8x8, 16x8, 8x16, 16x16 or 8x32 block of C (BLOCK_ROWS x
// BLOCK_COLS) in named registers (see gemm_vec4.wgsl for why), and invocations are laid
// out in one dimension so every lane of a workgroup has a block, whatever N is.

// The shape, overrides, bindings of the bias and C, and the epilogue (`store`) come from
// _conv2d_common.wgsl, placed before this fragment.

// 8 rows of A over 4 consecutive k: a{i} = A[row0 + i, k .. k + 4].
struct Rows {
    a0: vec4<f32>,
    a1: vec4<f32>,
    a2: vec4<f32>,
    a3: vec4<f32>,
    a4: vec4<f32>,
    a5: vec4<f32>,
    a6: vec4<f32>,
    a7: vec4<f32>,
}

// 4 rows of B over 8 columns: b{j}{h} = B[k + j, col0 + 4h .. col0 + 4h + 4].
struct Panel {
    b00: vec4<f32>,
    b01: vec4<f32>,
    b10: vec4<f32>,
    b11: vec4<f32>,
    b20: vec4<f32>,
    b21: vec4<f32>,
    b30: vec4<f32>,
    b31: vec4<f32>,
}

// The 8x8 block of C: c{i}{h} = C[row0 + i, col0 + 4h .. col0 + 4h + 4].
struct Block {
    c00: vec4<f32>,
    c01: vec4<f32>,
    c10: vec4<f32>,
    c11: vec4<f32>,
    c20: vec4<f32>,
    c21: vec4<f32>,
    c30: vec4<f32>,
    c31: vec4<f32>,
    c40: vec4<f32>,
    c41: vec4<f32>,
    c50: vec4<f32>,
    c51: vec4<f32>,
    c60: vec4<f32>,
    c61: vec4<f32>,
    c70: vec4<f32>,
    c71: vec4<f32>,
}

// The rows of one group of four rows of A in backward-filter mode: each row is a filter
// tap (kh, kw, as offsets from the output position less the padding) and a channel.
struct TapRows {
    dh: vec4<i32>,
    dw: vec4<i32>,
    channel: vec4<u32>,
}

// Which of four (row, column) positions lie in [0, height) x [0, width).
fn inside(row: vec4<i32>, col: vec4<i32>, height: vec4<i32>, width: vec4<i32>) -> vec4<bool> {
    return (row >= vec4<i32>(0)) & (row < height) & (col >= vec4<i32>(0)) & (col < width);
}

fn row_times_panel(a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
    return a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
}

fn multiply_add(acc: Block, a: Rows, b: Panel) -> Block {
    var r = acc;
    r.c00 += row_times_panel(a.a0, b.b00, b.b10, b.b20, b.b30);
    r.c01 += row_times_panel(a.a0, b.b01, b.b11, b.b21, b.b31);
    r.c10 += row_times_panel(a.a1, b.b00, b.b10, b.b20, b.b30);
    r.c11 += row_times_panel(a.a1, b.b01, b.b11, b.b21, b.b31);
    r.c20 += row_times_panel(a.a2, b.b00, b.b10, b.b20, b.b30);
    r.c21 += row_times_panel(a.a2, b.b01, b.b11, b.b21, b.b31);
    r.c30 += row_times_panel(a.a3, b.b00, b.b10, b.b20, b.b30);
    r.c31 += row_times_panel(a.a3, b.b01, b.b11, b.b21, b.b31);
    r.c40 += row_times_panel(a.a4, b.b00, b.b10, b.b20, b.b30);
    r.c41 += row_times_panel(a.a4, b.b01, b.b11, b.b21, b.b31);
    r.c50 += row_times_panel(a.a5, b.b00, b.b10, b.b20, b.b30);
    r.c51 += row_times_panel(a.a5, b.b01, b.b11, b.b21, b.b31);
    r.c60 += row_times_panel(a.a6, b.b00, b.b10, b.b20, b.b30);
    r.c61 += row_times_panel(a.a6, b.b01, b.b11, b.b21, b.b31);
    r.c70 += row_times_panel(a.a7, b.b00, b.b10, b.b20, b.b30);
    r.c71 += row_times_panel(a.a7, b.b01, b.b11, b.b21, b.b31);
    return r;
}

// Row i of a block: its two quads, c{i}0 and c{i}1.
fn block_row(acc: Block, i: u32) -> mat2x4<f32> {
    switch i {
        case 0u: { return mat2x4<f32>(acc.c00, acc.c01); }
        case 1u: { return mat2x4<f32>(acc.c10, acc.c11); }
        case 2u: { return mat2x4<f32>(acc.c20, acc.c21); }
        case 3u: { return mat2x4<f32>(acc.c30, acc.c31); }
        case 4u: { return mat2x4<f32>(acc.c40, acc.c41); }
        case 5u: { return mat2x4<f32>(acc.c50, acc.c51); }
        case 6u: { return mat2x4<f32>(acc.c60, acc.c61); }
        default: { return mat2x4<f32>(acc.c70, acc.c71); }
    }
}

// One row of the block a trip, for the reason store_blocks gives.
fn store_block(row0: u32, col0: u32, acc: Block) {
    for (var i = 0u; i < 8u; i++) {
        let quads = block_row(acc, i);
        store(row0 + i, col0, quads[0]);
        store(row0 + i, col0 + 4u, quads[1]);
    }
}

// Values of a 4-wide group of columns starting at `col` that lie inside N (0 to 4).
fn columns_in(col: u32) -> u32 {
    return select(0u, min(4u, shape.n - col), col < shape.n);
}

// Rows of A from 8 gather bases: a{i} = A-source[base{i} + offset .. + count{i}].
fn gather_rows(base_lo: vec4<u32>, base_hi: vec4<u32>, count_lo: vec4<u32>, count_hi: vec4<u32>, offset: u32) -> Rows {
    var r: Rows;
    r.a0 = load_a(base_lo.x + offset, count_lo.x);
    r.a1 = load_a(base_lo.y + offset, count_lo.y);
    r.a2 = load_a(base_lo.z + offset, count_lo.z);
    r.a3 = load_a(base_lo.w + offset, count_lo.w);
    r.a4 = load_a(base_hi.x + offset, count_hi.x);
    r.a5 = load_a(base_hi.y + offset, count_hi.y);
    r.a6 = load_a(base_hi.z + offset, count_hi.z);
    r.a7 = load_a(base_hi.w + offset, count_hi.w);
    return r;
}

// The rows of the block of C one invocation computes (set by the host, with BLOCK_COLS
// below; autotuned): with BLOCK_ROWS = 16, two 8x8 blocks, rows
// row0 .. row0 + 8 and row0 + 8 .. row0 + 16, that share every panel of B; with 8, the
// top one only. Sharing halves B's loads per multiply-add, which bound the speed on CPU
// adapters: 16 rows ran the AlexNet's second convolution 1.15-1.35x faster in all three
// modes, but its first (scalar loads of A, more registers live) 1.2-1.5x slower.
override BLOCK_ROWS: u32 = 16u;

// Invocations per workgroup, set by the host (ConvVariant in crates/nn/src/conv_plan.rs,
// autotuned): by default 8 (one SIMD batch of llvmpipe's 8 lanes) on CPU adapters, which
// hand whole workgroups to their threads, so a layer with few blocks (a first layer's
// filter gradient has 56) spreads over the cores; 64 on GPUs, whose SIMD groups are 32 or
// 64 wide.
override WORKGROUP: u32 = 64u;

// Columns of C per invocation: 8, 16 as two 8x8 blocks side by side that share every
// gather of A (halving A's loads per multiply-add, as BLOCK_ROWS does for B's), or, with
// BLOCK_ROWS = 8 only, 32 as four such blocks. 32 pays where a subgroup shares B's
// panels (_conv2d_panels_shared.wgsl), so that A's gathers are most of the loads.
override BLOCK_COLS: u32 = 8u;

// The invocation's blocks: with 16 rows, rows row0 (top) and row0 + 8 (bottom); with 8,
// the top row only. Columns col0 (left, the "top" and "bottom" blocks) and col0 + 8
// ("_right"); with 32 columns, `bottom` and `bottom_right` hold the top row's columns
// col0 + 16 and col0 + 24 instead. The ones BLOCK_ROWS and BLOCK_COLS leave out stay
// unused.
struct Blocks {
    top: Block,
    bottom: Block,
    top_right: Block,
    bottom_right: Block,
}

// The panels of B one step of an invocation reads: columns col0, col0 + 8, col0 + 16 and
// col0 + 24 (the last three only as BLOCK_COLS needs them).
struct Panels {
    p0: Panel,
    p1: Panel,
    p2: Panel,
    p3: Panel,
}

// One step of the invocation's blocks: rows of A for the top and bottom rows, panels of
// B for its columns.
fn accumulate(acc: Blocks, top: Rows, bottom: Rows, b: Panels) -> Blocks {
    var r = acc;
    r.top = multiply_add(r.top, top, b.p0);
    if BLOCK_ROWS == 16u {
        r.bottom = multiply_add(r.bottom, bottom, b.p0);
    }
    if BLOCK_COLS >= 16u {
        r.top_right = multiply_add(r.top_right, top, b.p1);
        if BLOCK_ROWS == 16u {
            r.bottom_right = multiply_add(r.bottom_right, bottom, b.p1);
        }
    }
    if BLOCK_COLS == 32u {
        r.bottom = multiply_add(r.bottom, top, b.p2);
        r.bottom_right = multiply_add(r.bottom_right, top, b.p3);
    }
    return r;
}

// B's panels for k = (k, k + 4) of B stored row-major [K, N], at the block's columns.
fn row_panels(k: u32, count: u32, col0: u32) -> Panels {
    var b: Panels;
    b.p0 = panel_rows(k, count, col0);
    if BLOCK_COLS >= 16u {
        b.p1 = panel_rows(k, count, col0 + 8u);
    }
    if BLOCK_COLS == 32u {
        b.p2 = panel_rows(k, count, col0 + 16u);
        b.p3 = panel_rows(k, count, col0 + 24u);
    }
    return b;
}

// Backward-data's panels of the filter for (tap, oc .. oc + 4) at the block's columns.
fn filter_panels(tap: u32, oc: u32, count: u32, col0: u32) -> Panels {
    var b: Panels;
    b.p0 = filter_panel(tap, oc, count, col0);
    if BLOCK_COLS >= 16u {
        b.p1 = filter_panel(tap, oc, count, col0 + 8u);
    }
    if BLOCK_COLS == 32u {
        b.p2 = filter_panel(tap, oc, count, col0 + 16u);
        b.p3 = filter_panel(tap, oc, count, col0 + 24u);
    }
    return b;
}

// Rows row0 + 4q .. row0 + 4q + 4 of C, clamped to the last row (their results are dropped).
fn row_quad(row0: u32, q: u32) -> vec4<u32> {
    return min(vec4<u32>(row0 + 4u * q) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(shape.m - 1u));
}

// Where 8 rows of A gather from for one tap, and whether each row reads at all (a tap in
// the padding, or a gradient position the stride skips, reads 0).
struct Sources {
    base_lo: vec4<u32>,
    base_hi: vec4<u32>,
    in_lo: vec4<bool>,
    in_hi: vec4<bool>,
}

// Rows of A from 8 sources at `offset`, `count` values each.
fn gather(src: Sources, offset: u32, count: u32) -> Rows {
    let count_lo = select(vec4<u32>(0u), vec4<u32>(count), src.in_lo);
    let count_hi = select(vec4<u32>(0u), vec4<u32>(count), src.in_hi);
    return gather_rows(src.base_lo, src.base_hi, count_lo, count_hi, offset);
}

// Forward: where the windows of 8 output pixels (rows row0 .. row0 + 8) start, padding
// included.
struct Windows {
    image_lo: vec4<u32>,
    image_hi: vec4<u32>,
    top_lo: vec4<i32>,
    top_hi: vec4<i32>,
    left_lo: vec4<i32>,
    left_hi: vec4<i32>,
}

fn windows(row0: u32) -> Windows {
    let s = shape;
    let rows_lo = row_quad(row0, 0u);
    let rows_hi = row_quad(row0, 1u);
    let plane = s.out_height * s.out_width;
    let pixel_lo = rows_lo % plane;
    let pixel_hi = rows_hi % plane;
    var w: Windows;
    w.image_lo = rows_lo / plane;
    w.image_hi = rows_hi / plane;
    w.top_lo = vec4<i32>((pixel_lo / s.out_width) * s.stride) - i32(s.pad_top);
    w.top_hi = vec4<i32>((pixel_hi / s.out_width) * s.stride) - i32(s.pad_top);
    w.left_lo = vec4<i32>((pixel_lo % s.out_width) * s.stride) - i32(s.pad_left);
    w.left_hi = vec4<i32>((pixel_hi % s.out_width) * s.stride) - i32(s.pad_left);
    return w;
}

// The input pixels filter tap (kh, kw) of 8 windows reads.
fn window_sources(w: Windows, kh: i32, kw: i32) -> Sources {
    let s = shape;
    let height = vec4<i32>(i32(s.in_height));
    let width = vec4<i32>(i32(s.in_width));
    let ih_lo = w.top_lo + kh;
    let ih_hi = w.top_hi + kh;
    let iw_lo = w.left_lo + kw;
    let iw_hi = w.left_hi + kw;
    var src: Sources;
    src.in_lo = inside(ih_lo, iw_lo, height, width);
    src.in_hi = inside(ih_hi, iw_hi, height, width);
    src.base_lo = select(vec4<u32>(0u), ((w.image_lo * s.in_height + vec4<u32>(ih_lo)) * s.in_width + vec4<u32>(iw_lo)) * s.in_channels, src.in_lo);
    src.base_hi = select(vec4<u32>(0u), ((w.image_hi * s.in_height + vec4<u32>(ih_hi)) * s.in_width + vec4<u32>(iw_hi)) * s.in_channels, src.in_hi);
    return src;
}

// Forward: row = output pixel (n, oh, ow); k = (kh, kw, c) walked tap by tap, channels
// four at a time, so the inner loop has no division.
fn conv_forward(row0: u32, col0: u32) -> Blocks {
    let s = shape;
    let top = windows(row0);
    let bottom = windows(row0 + 8u);
    var acc: Blocks;
    // One flat loop over (tap, channel group), as in conv_backward_filter: a first
    // layer's padded channels are one group a tap, and the nested loops ran it 1.7x
    // slower. The tap is kept by counters, as llvmpipe runs an if's body whatever its
    // condition, and a division there would cost every step.
    let steps = s.window_height * s.window_width * ((s.in_channels + 3u) / 4u);
    var tap = 0u;
    var kh = 0;
    var kw = 0;
    var ch = 0u;
    var src_top = window_sources(top, 0, 0);
    var src_bottom = window_sources(bottom, 0, 0);
    for (var step = 0u; step < steps; step++) {
        let count = min(4u, s.in_channels - ch);
        let k = tap * s.in_channels + ch;
        var a_bottom: Rows;
        if BLOCK_ROWS == 16u {
            a_bottom = gather(src_bottom, ch, count);
        }
        acc = accumulate(acc, gather(src_top, ch, count), a_bottom, row_panels(k, count, col0));
        ch += 4u;
        if ch >= s.in_channels {
            ch = 0u;
            tap += 1u;
            kw += 1;
            if kw == i32(s.window_width) {
                kw = 0;
                kh += 1;
            }
            src_top = window_sources(top, kh, kw);
            src_bottom = window_sources(bottom, kh, kw);
        }
    }
    return acc;
}

// Backward-data: 8 input pixels (rows row0 .. row0 + 8), padding added.
struct Pixels {
    image_lo: vec4<u32>,
    image_hi: vec4<u32>,
    h_lo: vec4<i32>,
    h_hi: vec4<i32>,
    w_lo: vec4<i32>,
    w_hi: vec4<i32>,
}

fn pixels(row0: u32) -> Pixels {
    let s = shape;
    let rows_lo = row_quad(row0, 0u);
    let rows_hi = row_quad(row0, 1u);
    let plane = s.in_height * s.in_width;
    let pixel_lo = rows_lo % plane;
    let pixel_hi = rows_hi % plane;
    var p: Pixels;
    p.image_lo = rows_lo / plane;
    p.image_hi = rows_hi / plane;
    p.h_lo = vec4<i32>(pixel_lo / s.in_width) + i32(s.pad_top);
    p.h_hi = vec4<i32>(pixel_hi / s.in_width) + i32(s.pad_top);
    p.w_lo = vec4<i32>(pixel_lo % s.in_width) + i32(s.pad_left);
    p.w_hi = vec4<i32>(pixel_hi % s.in_width) + i32(s.pad_left);
    return p;
}

// The output positions filter tap (kh, kw) reaches from 8 input pixels:
// ((h + pad - kh) / stride, ...), when that division is whole and lands inside the output.
fn pixel_targets(p: Pixels, kh: i32, kw: i32) -> Sources {
    let s = shape;
    let stride = vec4<i32>(i32(s.stride));
    let out_h = vec4<i32>(i32(s.out_height));
    let out_w = vec4<i32>(i32(s.out_width));
    let th_lo = p.h_lo - kh;
    let th_hi = p.h_hi - kh;
    let tw_lo = p.w_lo - kw;
    let tw_hi = p.w_hi - kw;
    // Clamp negatives to 0 before dividing; they are invalid anyway.
    let oh_lo = max(th_lo, vec4<i32>(0)) / stride;
    let oh_hi = max(th_hi, vec4<i32>(0)) / stride;
    let ow_lo = max(tw_lo, vec4<i32>(0)) / stride;
    let ow_hi = max(tw_hi, vec4<i32>(0)) / stride;
    var src: Sources;
    src.in_lo = inside(th_lo, tw_lo, out_h * stride, out_w * stride) & (oh_lo * stride == th_lo) & (ow_lo * stride == tw_lo);
    src.in_hi = inside(th_hi, tw_hi, out_h * stride, out_w * stride) & (oh_hi * stride == th_hi) & (ow_hi * stride == tw_hi);
    src.base_lo = select(vec4<u32>(0u), ((p.image_lo * s.out_height + vec4<u32>(oh_lo)) * s.out_width + vec4<u32>(ow_lo)) * s.out_channels, src.in_lo);
    src.base_hi = select(vec4<u32>(0u), ((p.image_hi * s.out_height + vec4<u32>(oh_hi)) * s.out_width + vec4<u32>(ow_hi)) * s.out_channels, src.in_hi);
    return src;
}

// Backward-data: row = input pixel (n, h, w), column = input channel; k = (kh, kw, oc).
fn conv_backward_data(row0: u32, col0: u32) -> Blocks {
    let s = shape;
    let top = pixels(row0);
    let bottom = pixels(row0 + 8u);
    var acc: Blocks;
    // Nested loops here: the targets' divisions by the stride, redone every step in a
    // flat loop (llvmpipe runs an if's body whatever its condition), cost more than the
    // inner loop saves (1.9x slower in the AlexNet).
    for (var tap = 0u; tap < s.window_height * s.window_width; tap++) {
        let kh = i32(tap / s.window_width);
        let kw = i32(tap % s.window_width);
        let src_top = pixel_targets(top, kh, kw);
        let src_bottom = pixel_targets(bottom, kh, kw);
        for (var oc = 0u; oc < s.out_channels; oc += 4u) {
            let count = min(4u, s.out_channels - oc);
            var a_bottom: Rows;
            if BLOCK_ROWS == 16u {
                a_bottom = gather(src_bottom, oc, count);
            }
            acc = accumulate(acc, gather(src_top, oc, count), a_bottom, filter_panels(tap, oc, count, col0));
        }
    }
    return acc;
}

fn tap_rows(rows: vec4<u32>) -> TapRows {
    let s = shape;
    let tap = rows / s.in_channels;
    var t: TapRows;
    t.dh = vec4<i32>(tap / s.window_width) - i32(s.pad_top);
    t.dw = vec4<i32>(tap % s.window_width) - i32(s.pad_left);
    t.channel = rows % s.in_channels;
    return t;
}

// Backward-filter's A for 8 rows (taps and channels lo, hi) and the output positions
// (image, oh, ow + j), j < count, as rows over those four k.
fn filter_rows(lo: TapRows, hi: TapRows, image: u32, oh: u32, ow: u32, count: u32) -> Rows {
    let t_lo = transpose(a_tile_filter(lo, image, oh, ow, count));
    let t_hi = transpose(a_tile_filter(hi, image, oh, ow, count));
    return Rows(t_lo[0], t_lo[1], t_lo[2], t_lo[3], t_hi[0], t_hi[1], t_hi[2], t_hi[3]);
}

// Backward-filter: row = (kh, kw, c), column = oc; k = output pixel (n, oh, ow), walked
// row by row of each image, four output columns at a time (the last group of a row is
// partial: its missing k read 0 on both sides).
fn conv_backward_filter(row0: u32, col0: u32) -> Blocks {
    let s = shape;
    let t0 = tap_rows(row_quad(row0, 0u));
    let t1 = tap_rows(row_quad(row0, 1u));
    let t2 = tap_rows(row_quad(row0, 2u));
    let t3 = tap_rows(row_quad(row0, 3u));
    var acc: Blocks;
    // One flat loop over the groups of four output columns, with the position kept by
    // counters: llvmpipe pays for every loop entered, and nested loops over images and
    // rows (3 groups a row in the AlexNet) ran this pass 1.27x slower.
    // This invocation's range of groups (all of them unless K is split).
    let row_groups = (s.out_width + 3u) / 4u;
    let groups = s.batch * s.out_height * row_groups;
    let per_split = (groups + s.k_splits - 1u) / s.k_splits;
    let first = k_split * per_split;
    let end = min(groups, first + per_split);
    var image = first / (s.out_height * row_groups);
    var oh = (first / row_groups) % s.out_height;
    var ow = (first % row_groups) * 4u;
    for (var group = first; group < end; group++) {
        let count = min(4u, s.out_width - ow);
        let k = (image * s.out_height + oh) * s.out_width + ow;
        var a_bottom: Rows;
        if BLOCK_ROWS == 16u {
            a_bottom = filter_rows(t2, t3, image, oh, ow, count);
        }
        acc = accumulate(acc, filter_rows(t0, t1, image, oh, ow, count), a_bottom, row_panels(k, count, col0));
        ow += 4u;
        if ow >= s.out_width {
            ow = 0u;
            oh += 1u;
            if oh == s.out_height {
                oh = 0u;
                image += 1u;
            }
        }
    }
    return acc;
}

// The flat x index of (image, ih, iw, 0), and whether that position is inside the image.
fn input_pixel(image: u32, ih: i32, iw: i32) -> vec2<u32> {
    let s = shape;
    let inside = ih >= 0 && iw >= 0 && ih < i32(s.in_height) && iw < i32(s.in_width);
    let index = ((image * s.in_height + u32(max(ih, 0))) * s.in_width + u32(max(iw, 0))) * s.in_channels;
    return vec2<u32>(select(0u, index, inside), u32(inside));
}

// Compute the invocation's blocks of C from (row0, col0) in the mode MODE and store them.
fn compute_blocks(row0: u32, col0: u32) {
    var acc: Blocks;
    if MODE == 0u {
        acc = conv_forward(row0, col0);
    } else if MODE == 1u {
        acc = conv_backward_data(row0, col0);
    } else {
        acc = conv_backward_filter(row0, col0);
    }
    store_blocks(row0, col0, acc);
}

// Where block b of Blocks (top, bottom, top_right, bottom_right) starts in C, as rows and
// columns after (row0, col0), and in z whether BLOCK_ROWS x BLOCK_COLS uses it (1) or not.
fn block_offset(b: u32) -> vec3<u32> {
    switch b {
        case 0u: { return vec3<u32>(0u, 0u, 1u); }
        case 1u: {
            if BLOCK_COLS == 32u { return vec3<u32>(0u, 16u, 1u); }
            return vec3<u32>(8u, 0u, u32(BLOCK_ROWS == 16u));
        }
        case 2u: { return vec3<u32>(0u, 8u, u32(BLOCK_COLS >= 16u)); }
        default: {
            if BLOCK_COLS == 32u { return vec3<u32>(0u, 24u, 1u); }
            return vec3<u32>(8u, 8u, u32(BLOCK_ROWS == 16u && BLOCK_COLS >= 16u));
        }
    }
}

// Block b of Blocks (top, bottom, top_right, bottom_right).
fn block_of(acc: Blocks, b: u32) -> Block {
    switch b {
        case 0u: { return acc.top; }
        case 1u: { return acc.bottom; }
        case 2u: { return acc.top_right; }
        default: { return acc.bottom_right; }
    }
}

// Store the invocation's blocks through the epilogue in a loop over them, and each block
// in a loop over its rows (store_block), not unrolled. Unrolled, the 64 stores of an
// 8x32 block, each four loops over the SIMD lanes on CPU adapters, were most of the code
// llvmpipe compiled: the AlexNet's three convolution kernels took 6-10 s each to compile
// on lavapipe unrolled, 1.1-1.4 s as loops, and ran as fast. The switches pick a block
// and a row; a GPU compiler unrolls the loops and folds them.
fn store_blocks(row0: u32, col0: u32, acc: Blocks) {
    for (var b = 0u; b < 4u; b++) {
        let offset = block_offset(b);
        if offset.z == 1u {
            store_block(row0 + offset.x, col0 + offset.y, block_of(acc, b));
        }
    }
}
