//! The minimap's pixels: every row of a waterfall as a thin bar on a small raster, computed in
//! one pass so that a 100,000-span trace costs one image, not 100,000 canvas calls.
//!
//! Rows stack top to bottom; when there are more rows than pixel lines, several rows share a
//! line and the later row wins where they overlap (as if painted in order). Each line is filled
//! back to front with a "next unpainted pixel" table, so every pixel is written once however
//! many bars cover it.

use crate::layout::Bar;

/// No bar covers the pixel.
pub const EMPTY: u8 = 0;

/// The raster as palette indexes: `EMPTY`, or `1 + colour` of the bar on top.
pub fn rasterize(bars: &[(Bar, u8)], width: usize, height: usize) -> Vec<u8> {
    let mut pixels = vec![EMPTY; width * height];
    if bars.is_empty() || width == 0 || height == 0 {
        return pixels;
    }
    // The rows each pixel line shows, in row order.
    let mut rows_of_line: Vec<Vec<u32>> = vec![Vec::new(); height];
    let n = bars.len();
    for row in 0..n {
        let top = row * height / n;
        let bottom = ((row + 1) * height / n).max(top + 1).min(height);
        for line in &mut rows_of_line[top..bottom] {
            line.push(row as u32);
        }
    }
    // next[x]: the first unpainted pixel at or after x on the current line (path-halving).
    let mut next: Vec<u32> = vec![0; width + 1];
    for (line, rows) in rows_of_line.iter().enumerate() {
        for (x, slot) in next.iter_mut().enumerate() {
            *slot = x as u32;
        }
        let out = &mut pixels[line * width..(line + 1) * width];
        for &row in rows.iter().rev() {
            let (bar, colour) = bars[row as usize];
            let (from, to) = pixel_span(bar, width);
            let mut x = find(&mut next, from);
            while x < to {
                out[x] = colour.saturating_add(1);
                next[x] = (x + 1) as u32;
                x = find(&mut next, x + 1);
            }
        }
    }
    pixels
}

/// The pixels a bar covers on a line `width` pixels wide: at least one.
fn pixel_span(bar: Bar, width: usize) -> (usize, usize) {
    let scale = width as f64 / 100.0;
    let from = ((bar.left_percent * scale).floor().max(0.0) as usize).min(width - 1);
    let to =
        (((bar.left_percent + bar.width_percent) * scale).ceil() as usize).clamp(from + 1, width);
    (from, to)
}

fn find(next: &mut [u32], mut x: usize) -> usize {
    while next[x] as usize != x {
        let parent = next[x] as usize;
        next[x] = next[parent];
        x = parent;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bar(left_percent: f64, width_percent: f64) -> Bar {
        Bar {
            left_percent,
            width_percent,
        }
    }

    #[test]
    fn rows_stack_and_later_rows_win_where_they_share_a_line() {
        // Two rows on two lines: each its own line.
        let pixels = rasterize(&[(bar(0.0, 100.0), 0), (bar(50.0, 50.0), 1)], 4, 2);
        assert_eq!(pixels, [1, 1, 1, 1, 0, 0, 2, 2]);
        // Four rows on one line: the later bars are on top.
        let pixels = rasterize(
            &[
                (bar(0.0, 100.0), 0),
                (bar(25.0, 25.0), 1),
                (bar(50.0, 0.0), 2),
                (bar(0.0, 10.0), 3),
            ],
            4,
            1,
        );
        assert_eq!(pixels, [4, 2, 3, 1]);
    }

    proptest! {
        #[test]
        fn the_raster_equals_painting_every_bar_in_order(
            bars in proptest::collection::vec((0.0f64..100.0, 0.0f64..100.0, 0u8..10), 1..60),
            width in 1usize..40,
            height in 1usize..12,
        ) {
            let bars: Vec<(Bar, u8)> = bars.into_iter().map(|(l, w, c)| (bar(l, w.min(100.0 - l)), c)).collect();
            let mut expected = vec![EMPTY; width * height];
            let n = bars.len();
            for (row, (b, colour)) in bars.iter().enumerate() {
                let top = row * height / n;
                let bottom = ((row + 1) * height / n).max(top + 1).min(height);
                let (from, to) = pixel_span(*b, width);
                for line in top..bottom {
                    for x in from..to {
                        expected[line * width + x] = colour + 1;
                    }
                }
            }
            prop_assert_eq!(rasterize(&bars, width, height), expected);
        }
    }
}
