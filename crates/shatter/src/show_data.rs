//! A picture of what the network sees: a grid of training images after randomization,
//! each with its (possibly randomized) label drawn under it, framed green where the label
//! is still the true one and red where the randomization changed it.

use image::{Rgb, RgbImage};
use shatter_data::Dataset;

/// 3x5 bitmaps of the digits 0-9, one row of three bits per line, top to bottom.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

const SCALE: u32 = 2;
const BORDER: u32 = 2;
const LABEL_HEIGHT: u32 = 16;
pub const KEPT: Rgb<u8> = Rgb([40, 160, 60]);
pub const CHANGED: Rgb<u8> = Rgb([210, 40, 40]);

fn draw_digit(canvas: &mut RgbImage, digit: usize, x0: u32, y0: u32) {
    let dot = 2;
    for (row, bits) in DIGITS[digit % 10].iter().enumerate() {
        for col in 0..3 {
            if bits & (0b100 >> col) != 0 {
                for dy in 0..dot {
                    for dx in 0..dot {
                        canvas.put_pixel(
                            x0 + col * dot + dx,
                            y0 + row as u32 * dot + dy,
                            Rgb([0, 0, 0]),
                        );
                    }
                }
            }
        }
    }
}

/// The value of image `i` at (channel, row, col) as a 0..255 byte; real-valued (Gaussian)
/// images are shown on the u8 scale, clipped.
fn value(dataset: &Dataset, i: usize, channel: usize, row: usize, col: usize) -> u8 {
    let offset = i * dataset.image_bytes() + (channel * dataset.height + row) * dataset.width + col;
    match &dataset.train.float_images {
        Some(values) => (values[offset] * 255.0).round().clamp(0.0, 255.0) as u8,
        None => dataset.train.images[offset],
    }
}

/// Draw the first `columns * rows` training images of `dataset`. `true_labels` are the
/// labels before randomization, to mark the changed ones.
pub fn sample_grid(
    dataset: &Dataset,
    true_labels: &[shatter_data::Label],
    columns: u32,
    rows: u32,
) -> RgbImage {
    let (w, h) = (dataset.width as u32 * SCALE, dataset.height as u32 * SCALE);
    let cell_w = w + 2 * BORDER;
    let cell_h = h + 2 * BORDER + LABEL_HEIGHT;
    let mut canvas = RgbImage::from_pixel(columns * cell_w, rows * cell_h, Rgb([255, 255, 255]));
    let shown = (columns * rows) as usize;
    let labels = dataset.train.labels.iter().zip(true_labels).take(shown);
    for (i, (&label, &truth)) in labels.enumerate() {
        let (cx, cy) = ((i as u32 % columns) * cell_w, (i as u32 / columns) * cell_h);
        let frame = if label == truth { KEPT } else { CHANGED };
        for y in 0..h + 2 * BORDER {
            for x in 0..cell_w {
                canvas.put_pixel(cx + x, cy + y, frame);
            }
        }
        for y in 0..h {
            for x in 0..w {
                let (row, col) = ((y / SCALE) as usize, (x / SCALE) as usize);
                let rgb = if dataset.channels >= 3 {
                    [0, 1, 2].map(|c| value(dataset, i, c, row, col))
                } else {
                    [value(dataset, i, 0, row, col); 3]
                };
                canvas.put_pixel(cx + BORDER + x, cy + BORDER + y, Rgb(rgb));
            }
        }
        draw_digit(
            &mut canvas,
            usize::from(label),
            cx + cell_w / 2 - 3,
            cy + h + 2 * BORDER + 3,
        );
    }
    canvas
}
