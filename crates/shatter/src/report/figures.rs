//! The paper's Figure 1 from run records, as PNGs: (a) training loss against steps per
//! randomization, (b) convergence time relative to true labels against the label-corruption
//! level, (c) test error against the level. Runs that did not fit are drawn hollow at what
//! they reached (a lower bound for convergence time), never left out.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::record::RunRecord;
use crate::report::runs::{
    FIGURE_1A_MODES, Outcome, label_corruption_level, mean, mode_label, unregularized,
};

const WIDTH: u32 = 960;
const HEIGHT: u32 = 640;

/// Distinct colours, in order of the curves.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// The font is bundled (assets/fonts) so figures render the same on machines without fonts.
static FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Registration fails only for bytes that are not a font; these are compiled in.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Every figure's frame: the title on top, room for the axis labels.
fn chart_frame<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    title: impl AsRef<str>,
) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title.as_ref(), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70);
    builder
}

fn plot_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing a figure: {e}")
}

/// Draw into a white canvas and write it as a PNG through a temporary file and a rename.
fn write_png(
    path: &Path,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    let image =
        image::RgbImage::from_raw(WIDTH, HEIGHT, pixels).expect("buffer sized to the canvas");
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| anyhow!("{}: cannot encode ({e})", path.display()))?;
    crate::atomic_file::write_atomic(path, png.get_ref())
}

/// Where a model sits in the paper's tables; models it does not have come last.
fn model_order(model: &str) -> usize {
    [
        "inception",
        "inception-nobn",
        "alexnet",
        "mlp3x512",
        "mlp1x512",
    ]
    .iter()
    .position(|m| *m == model)
    .unwrap_or(usize::MAX)
}

/// The models present, in the paper's order (others after, by name).
pub fn models_of(runs: &[&RunRecord]) -> Vec<String> {
    let mut models: Vec<String> = runs.iter().map(|r| r.config.model.clone()).collect();
    models.sort_by(|a, b| model_order(a).cmp(&model_order(b)).then(a.cmp(b)));
    models.dedup();
    models
}

/// Mean over runs of each step's loss (runs that stopped earlier drop out of later steps),
/// smoothed by a trailing mean over `window` steps.
fn mean_loss_curve(runs: &[&RunRecord], window: usize) -> Vec<(f64, f64)> {
    let longest = runs.iter().map(|r| r.step_losses.len()).max().unwrap_or(0);
    let per_step: Vec<f64> = (0..longest)
        .map(|i| {
            mean(runs.iter().filter_map(|r| r.step_losses.get(i).copied())).unwrap_or(f64::NAN)
        })
        .collect();
    let mut curve = Vec::with_capacity(longest);
    let mut sum = 0.0;
    for (i, &loss) in per_step.iter().enumerate() {
        sum += loss;
        if i >= window {
            sum -= per_step[i - window];
        }
        let n = (i + 1).min(window) as f64;
        curve.push(((i + 1) as f64, sum / n));
    }
    curve.retain(|(_, l)| l.is_finite());
    curve
}

/// Figure 1a for one model: training loss against steps, one curve per randomization.
/// Returns one note per curve whose runs did not all fit.
pub fn figure_1a(runs: &[&RunRecord], model: &str, path: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut curves = Vec::new();
    let mut steps = 0usize;
    for mode in FIGURE_1A_MODES {
        let mode_runs: Vec<&RunRecord> = runs
            .iter()
            .copied()
            .filter(|r| r.config.model == model && r.config.corrupt == mode && unregularized(r))
            .collect();
        if mode_runs.is_empty() {
            continue;
        }
        steps = steps.max(
            mode_runs
                .iter()
                .map(|r| r.step_losses.len())
                .max()
                .unwrap_or(0),
        );
        let unfit = mode_runs
            .iter()
            .filter(|r| Outcome::of(r) != Outcome::Fitted)
            .count();
        let mut label = format!(
            "{} ({} run{})",
            mode_label(mode),
            mode_runs.len(),
            plural(mode_runs.len())
        );
        if unfit > 0 {
            label.push_str(&format!(", {unfit} not fitted"));
            notes.push(format!(
                "Figure 1a, {model}, {}: {unfit} of {} runs did not fit (curve ends at the epoch budget or the divergence)",
                mode_label(mode),
                mode_runs.len()
            ));
        }
        curves.push((label, mode_runs));
    }
    if curves.is_empty() {
        return Ok(notes);
    }
    let window = (steps / 100).max(1);
    let drawn: Vec<(String, Vec<(f64, f64)>)> = curves
        .into_iter()
        .map(|(label, runs)| (label, mean_loss_curve(&runs, window)))
        .collect();
    let (scale, unit) = if steps >= 5_000 {
        (1e-3, "thousands of steps")
    } else {
        (1.0, "steps")
    };
    let x_max = (steps as f64 * scale).max(1e-9);
    let y_max = drawn
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.05;
    write_png(path, |root| {
        let mut chart = chart_frame(root, format!("Figure 1a: {model}, training loss"))
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(format!("{unit} (batch {})", batch_of(runs, model)))
            .x_label_formatter(&|x| {
                if scale == 1.0 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.1}")
                }
            })
            .y_desc(if window == 1 {
                "training loss (cross-entropy, per step)".to_owned()
            } else {
                format!("training loss (cross-entropy, mean of {window} steps)")
            })
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(plot_error)?;
        for (i, (label, curve)) in drawn.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    curve.iter().map(|&(x, y)| (x * scale, y)),
                    colour.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })?;
    Ok(notes)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn batch_of(runs: &[&RunRecord], model: &str) -> String {
    let mut sizes: Vec<usize> = runs
        .iter()
        .filter(|r| r.config.model == model)
        .map(|r| r.config.batch_size)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("/")
}

fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// One model's points on Figure 1b or 1c: (level, value, every run there fitted).
type Points = Vec<(f64, f64, bool)>;

/// Unregularized runs of each model grouped by label-corruption level.
fn by_level<'r>(runs: &[&'r RunRecord]) -> BTreeMap<String, Vec<(f64, Vec<&'r RunRecord>)>> {
    let mut models: BTreeMap<String, Vec<(f64, Vec<&RunRecord>)>> = BTreeMap::new();
    for &run in runs.iter().filter(|r| unregularized(r)) {
        let Some(level) = label_corruption_level(&run.config.corrupt) else {
            continue;
        };
        let levels = models.entry(run.config.model.clone()).or_default();
        match levels.iter_mut().find(|(l, _)| *l == level) {
            Some((_, group)) => group.push(run),
            None => levels.push((level, vec![run])),
        }
    }
    for levels in models.values_mut() {
        levels.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    models
}

fn images_seen(run: &RunRecord) -> f64 {
    run.converged_images
        .or(run.epochs.last().map(|e| e.images_seen))
        .unwrap_or(0) as f64
}

/// What the runs count as a fit: "99.9% training accuracy" where they share a threshold.
fn fit_level(runs: &[&RunRecord]) -> String {
    let mut thresholds: Vec<f64> = runs.iter().map(|r| r.config.fit_threshold).collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    match thresholds.as_slice() {
        [one] => {
            let percent = format!("{:.2}", 100.0 * one);
            let percent = percent.trim_end_matches('0').trim_end_matches('.');
            format!("{percent}% training accuracy")
        }
        _ => "fit".to_owned(),
    }
}

/// Figure 1b: images seen until the fit threshold, relative to the same model on true
/// labels, against the label-corruption level. Levels where a run did not fit show the
/// images it saw (a lower bound), hollow.
pub fn figure_1b(runs: &[&RunRecord], path: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut series: Vec<(String, Points)> = Vec::new();
    for model in models_of(runs) {
        let levels = by_level(runs).remove(&model).unwrap_or_default();
        let baseline = levels
            .iter()
            .find(|(l, _)| *l == 0.0)
            .filter(|(_, g)| g.iter().all(|r| Outcome::of(r) == Outcome::Fitted))
            .and_then(|(_, g)| mean(g.iter().map(|r| images_seen(r))));
        let Some(baseline) = baseline.filter(|b| *b > 0.0) else {
            if !levels.is_empty() {
                notes.push(format!(
                    "Figure 1b: {model} has no fitted true-label run, so no convergence time to compare with; left out"
                ));
            }
            continue;
        };
        let mut points = Vec::new();
        for (level, group) in &levels {
            let fitted = group.iter().all(|r| Outcome::of(r) == Outcome::Fitted);
            let value = mean(group.iter().map(|r| images_seen(r))).unwrap_or(0.0) / baseline;
            if !fitted {
                notes.push(format!(
                    "Figure 1b: {model} at p={level}: {} of {} runs did not fit; the hollow point is the images seen, a lower bound",
                    group.iter().filter(|r| Outcome::of(r) != Outcome::Fitted).count(),
                    group.len()
                ));
            }
            points.push((*level, value, fitted));
        }
        series.push((model, points));
    }
    if series.is_empty() {
        return Ok(notes);
    }
    let y_max = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .fold(1.0f64, f64::max)
        * 1.1;
    draw_level_figure(
        path,
        "Figure 1b: convergence time against label corruption",
        &format!(
            "time to {}, relative to true labels (training images seen)",
            fit_level(runs)
        ),
        0.0..y_max,
        &series,
        None,
    )?;
    Ok(notes)
}

/// Figure 1c: test error at the end of each run against the label-corruption level.
pub fn figure_1c(runs: &[&RunRecord], path: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    let mut series: Vec<(String, Points)> = Vec::new();
    let mut classes = 10;
    for model in models_of(runs) {
        let levels = by_level(runs).remove(&model).unwrap_or_default();
        if levels.is_empty() {
            continue;
        }
        let mut points = Vec::new();
        for (level, group) in &levels {
            classes = group[0].classes;
            let fitted = group.iter().all(|r| Outcome::of(r) == Outcome::Fitted);
            if !fitted {
                notes.push(format!(
                    "Figure 1c: {model} at p={level}: {} of {} runs did not fit; hollow point",
                    group
                        .iter()
                        .filter(|r| Outcome::of(r) != Outcome::Fitted)
                        .count(),
                    group.len()
                ));
            }
            let error =
                mean(group.iter().map(|r| 100.0 * (1.0 - r.final_test_accuracy))).unwrap_or(0.0);
            points.push((*level, error, fitted));
        }
        series.push((model, points));
    }
    if series.is_empty() {
        return Ok(notes);
    }
    let chance = 100.0 * (1.0 - 1.0 / classes.max(1) as f64);
    draw_level_figure(
        path,
        "Figure 1c: test error against label corruption",
        "test error (%)",
        0.0..100.0,
        &series,
        Some(chance),
    )?;
    Ok(notes)
}

fn draw_level_figure(
    path: &Path,
    title: &str,
    y_desc: &str,
    y_range: std::ops::Range<f64>,
    series: &[(String, Points)],
    chance: Option<f64>,
) -> Result<()> {
    write_png(path, |root| {
        let mut chart = chart_frame(root, title)
            .build_cartesian_2d(-0.02..1.02, y_range)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("label corruption p (fraction of labels drawn at random)")
            .y_desc(y_desc)
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(plot_error)?;
        if let Some(chance) = chance {
            let grey = RGBColor(120, 120, 120);
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, chance), (1.0, chance)],
                    8,
                    6,
                    grey.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(format!("chance ({chance:.0}% error)"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], grey.stroke_width(2))
                });
        }
        for (i, (model, points)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|&(x, y, _)| (x, y)),
                    colour.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(model.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
            chart
                .draw_series(points.iter().map(|&(x, y, fitted)| {
                    let style = if fitted {
                        colour.filled()
                    } else {
                        colour.stroke_width(2)
                    };
                    Circle::new((x, y), 6, style)
                }))
                .map_err(plot_error)?;
        }
        if series.iter().any(|(_, p)| p.iter().any(|q| !q.2)) {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(plot_error)?
                .label("hollow: did not fit")
                .legend(|(x, y)| Circle::new((x + 12, y), 6, BLACK.stroke_width(2)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The Rademacher estimate against the sample size n (log scale), with 95% intervals.
pub fn rademacher_figure(
    points: &[crate::rademacher::RademacherPoint],
    title: &str,
    path: &Path,
) -> Result<()> {
    let n_min = points.iter().map(|p| p.n).min().unwrap_or(1) as f64;
    let n_max = points.iter().map(|p| p.n).max().unwrap_or(1) as f64;
    let x_range = (n_min / 1.5).max(0.5)..(n_max * 1.5).max(2.0);
    write_png(path, |root| {
        let mut chart = chart_frame(root, title)
            .build_cartesian_2d(x_range.log_scale(), -0.1..1.05)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("n, training inputs (log scale)")
            .x_label_formatter(&|n| {
                // Label 1, 2 and 5 times powers of ten only: a log axis offers a label at
                // every integer multiple, and they overlap.
                let leading = *n / 10f64.powf(n.log10().floor());
                if [1.0, 2.0, 5.0].iter().any(|d| (leading - d).abs() < 1e-6) {
                    format!("{n:.0}")
                } else {
                    String::new()
                }
            })
            .y_desc("estimate of (1/n) sum sigma_i h(x_i)")
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(plot_error)?;
        let colour = COLOURS[0];
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.n as f64, p.mean)),
                colour.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label("mean over draws of sigma, 95% interval")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
            });
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.n as f64, p.mean), 6, colour.filled())),
            )
            .map_err(plot_error)?;
        chart
            .draw_series(points.iter().filter_map(|p| {
                p.half_width_95.map(|h| {
                    PathElement::new(
                        vec![(p.n as f64, p.mean - h), (p.n as f64, p.mean + h)],
                        colour.stroke_width(2),
                    )
                })
            }))
            .map_err(plot_error)?;
        legend(&mut chart, SeriesLabelPosition::LowerLeft)
    })
}
