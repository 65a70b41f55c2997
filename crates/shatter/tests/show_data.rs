//! The sample grid: one cell per image, the frame says whether the label was changed.

use shatter::{CHANGED, KEPT, sample_grid};
use shatter_data::{Corruption, DatasetName, apply_corruption, load_dataset};

#[test]
fn frames_mark_exactly_the_labels_the_randomization_changed() {
    let mut d = load_dataset(
        DatasetName::FashionMnistMini,
        std::path::Path::new("unused"),
    )
    .unwrap();
    let truth = d.train.labels.clone();
    apply_corruption(&mut d, &Corruption::Labels(0.5), 3);
    let grid = sample_grid(&d, &truth, 8, 4);
    // 28x28 images at twice the size, a 2-pixel frame, a 16-pixel label strip.
    let (cell_w, cell_h) = (56 + 4, 56 + 4 + 16);
    assert_eq!(grid.dimensions(), (8 * cell_w, 4 * cell_h));
    let mut changed = 0;
    for i in 0..32u32 {
        let corner = *grid.get_pixel((i % 8) * cell_w, (i / 8) * cell_h);
        let expected = if d.train.labels[i as usize] == truth[i as usize] {
            KEPT
        } else {
            CHANGED
        };
        assert_eq!(corner, expected, "cell {i}");
        changed += usize::from(corner == CHANGED);
    }
    assert!(
        changed > 0 && changed < 32,
        "labels:0.5 changes some of 32 labels, not {changed}"
    );
}
