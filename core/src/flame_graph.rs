//! The flame graph (an icicle): every span of a waterfall as a box as wide as its duration,
//! placed on the trace's time axis, one level per depth, the root on top. A box's own part not
//! covered by the level below is its self time (self time is the duration minus the union of
//! the children: `analysis`).
//!
//! The graph shows the whole trace or one subtree (the focus: the span zoomed into) and is
//! laid out for a width in pixels: a box narrower than a pixel is not followed into its subtree
//! (its children are narrower still), and such boxes that fall in a pixel column already drawn
//! on their level merge into that column's box. So the boxes are bounded by the pixels (a level's
//! width, plus the boxes a pixel wide or more), not by the spans: a 100,000-span trace lays out in
//! a few thousand boxes.

use crate::waterfall::Waterfall;

const NO_BOX: u32 = u32::MAX;

/// One box to draw, in pixels of the laid-out width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlameBox {
    /// The waterfall row the box is (the first of the spans merged into it).
    pub row_idx: u32,
    /// Level below the focus (the focus is 0).
    pub level: u32,
    pub x_px: f64,
    /// At least one pixel.
    pub width_px: f64,
    /// Spans this box stands for: 1, or more where sub-pixel boxes merged.
    pub n_spans: u32,
}

/// What the graph shows: the whole trace (`None`: every top-level row on level 0) or one row's
/// subtree (zoomed into), as the rows it covers, the depth drawn on level 0 and its time span.
#[derive(Debug, Clone, Copy)]
struct Frame {
    rows: (usize, usize),
    depth: u32,
    offset_nanos: u64,
    duration_nanos: u64,
}

impl Frame {
    fn of(waterfall: &Waterfall, focus: Option<u32>) -> Option<Self> {
        match focus {
            None => Some(Self {
                rows: (0, waterfall.rows.len()),
                depth: 0,
                offset_nanos: 0,
                duration_nanos: waterfall.window.duration_nanos(),
            }),
            Some(row_idx) => {
                let row = waterfall.rows.get(row_idx as usize)?;
                Some(Self {
                    rows: (
                        row_idx as usize,
                        row_idx as usize + row.n_descendants as usize + 1,
                    ),
                    depth: row.depth,
                    offset_nanos: row.offset_nanos,
                    duration_nanos: row.duration_nanos,
                })
            }
        }
    }

    /// A row's box in pixels when the frame is `width_px` wide: where it starts and how wide it
    /// is, clipped to the frame (a child recorded outside its parent's time stays inside its
    /// box). Nanoseconds are multiplied before they are divided, so that boxes on whole pixels
    /// stay there.
    fn extent(&self, row: &crate::waterfall::WaterfallRow, width_px: f64) -> (f64, f64) {
        let frame_nanos = self.duration_nanos.max(1) as f64;
        let start = row.offset_nanos as f64 - self.offset_nanos as f64;
        let end = start + row.duration_nanos as f64;
        let to_px = |nanos: f64| (nanos * width_px / frame_nanos).clamp(0.0, width_px);
        let (start_px, end_px) = (to_px(start), to_px(end));
        (start_px, end_px - start_px)
    }
}

/// A row's box in pixels when the focus (see [`layout`]) is `width_px` wide: its start and width.
pub fn extent(
    waterfall: &Waterfall,
    focus: Option<u32>,
    row_idx: u32,
    width_px: f64,
) -> (f64, f64) {
    match (
        Frame::of(waterfall, focus),
        waterfall.rows.get(row_idx as usize),
    ) {
        (Some(frame), Some(row)) => frame.extent(row, width_px),
        _ => (0.0, 0.0),
    }
}

/// The boxes of the focus (a row's subtree, or the whole trace for `None`) laid out `width_px`
/// wide, at most `max_levels` deep, in depth-first order (parents before children).
pub fn layout(
    waterfall: &Waterfall,
    focus: Option<u32>,
    width_px: f64,
    max_levels: u32,
) -> Vec<FlameBox> {
    let mut boxes = Vec::new();
    let Some(frame) = Frame::of(waterfall, focus) else {
        return boxes;
    };
    let width_px = width_px.max(1.0);
    let (first_row, end_row) = frame.rows;
    // Per level (allocated when the level first has one), the box drawn for the sub-pixel
    // boxes in each pixel column: the next one in that column joins it instead of being drawn.
    let n_columns = width_px.ceil() as usize;
    let mut column_boxes: Vec<Vec<u32>> = Vec::new();
    let mut row_idx = first_row;
    while row_idx < end_row {
        let row = &waterfall.rows[row_idx];
        let level = row.depth - frame.depth;
        let subtree_end = row_idx + row.n_descendants as usize + 1;
        if level >= max_levels {
            row_idx = subtree_end;
            continue;
        }
        let (x_px, exact_width_px) = frame.extent(row, width_px);
        if exact_width_px >= 1.0 {
            boxes.push(FlameBox {
                row_idx: row_idx as u32,
                level,
                x_px,
                width_px: exact_width_px,
                n_spans: 1,
            });
            row_idx += 1;
            continue;
        }
        // Narrower than a pixel: one box per pixel column on this level, and none of its
        // subtree (narrower still).
        let n_spans = row.n_descendants + 1;
        let column = (x_px.floor() as usize).min(n_columns - 1);
        let level_idx = level as usize;
        if column_boxes.len() <= level_idx {
            column_boxes.resize_with(level_idx + 1, Vec::new);
        }
        let columns = &mut column_boxes[level_idx];
        if columns.is_empty() {
            columns.resize(n_columns, NO_BOX);
        }
        match columns[column] {
            NO_BOX => {
                columns[column] = boxes.len() as u32;
                boxes.push(FlameBox {
                    row_idx: row_idx as u32,
                    level,
                    x_px: column as f64,
                    width_px: 1.0,
                    n_spans,
                });
            }
            box_idx => boxes[box_idx as usize].n_spans += n_spans,
        }
        row_idx = subtree_end;
    }
    boxes
}

/// The box under a point (pixels from the top-left, levels `level_height_px` tall): the last
/// drawn, which is on top.
pub fn box_at(boxes: &[FlameBox], x_px: f64, y_px: f64, level_height_px: f64) -> Option<FlameBox> {
    if y_px < 0.0 {
        return None;
    }
    let level = (y_px / level_height_px) as u32;
    boxes
        .iter()
        .rev()
        .find(|flame_box| {
            flame_box.level == level
                && x_px >= flame_box.x_px
                && x_px < flame_box.x_px + flame_box.width_px
        })
        .copied()
}

/// The rows from the top-level row down to `row_idx`, for the breadcrumb.
pub fn path_to(waterfall: &Waterfall, row_idx: u32) -> Vec<u32> {
    let mut path = waterfall.ancestors(row_idx);
    path.push(row_idx);
    path
}

/// Keyboard moves between boxes: the previous and next sibling (left, right), the parent (up)
/// and the first child (down).
pub fn sibling(waterfall: &Waterfall, row_idx: u32, step: i32) -> Option<u32> {
    let row = waterfall.rows.get(row_idx as usize)?;
    if step > 0 {
        let next = row_idx + row.n_descendants + 1;
        let next_row = waterfall.rows.get(next as usize)?;
        return (next_row.parent_row == row.parent_row).then_some(next);
    }
    // The previous sibling is the nearest row above with the same parent and depth.
    let first = row.parent_row.map_or(0, |parent| parent + 1);
    (first..row_idx).rev().find(|candidate| {
        let candidate_row = &waterfall.rows[*candidate as usize];
        candidate_row.parent_row == row.parent_row && candidate_row.depth == row.depth
    })
}

pub fn first_child(waterfall: &Waterfall, row_idx: u32) -> Option<u32> {
    let row = waterfall.rows.get(row_idx as usize)?;
    (row.n_descendants > 0).then_some(row_idx + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::format_percent;
    use crate::scenario::{SLOW_ORDER_TRACE_ID, SpanSpec, slow_order, spans_from_specs};
    use crate::{Batch, Trace};

    fn slow_order_waterfall() -> Waterfall {
        Waterfall::build(&slow_order(SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_000)).unwrap()
    }

    fn row_named(waterfall: &Waterfall, name: &str) -> u32 {
        waterfall
            .rows
            .iter()
            .position(|row| &*row.name == name)
            .unwrap() as u32
    }

    /// The boxes as `level name x width` lines, for reading.
    fn describe(waterfall: &Waterfall, boxes: &[FlameBox]) -> String {
        boxes
            .iter()
            .map(|flame_box| {
                let row = &waterfall.rows[flame_box.row_idx as usize];
                format!(
                    "{} {} x={:.1} w={:.1} n={}\n",
                    flame_box.level,
                    row.name,
                    flame_box.x_px,
                    flame_box.width_px,
                    flame_box.n_spans
                )
            })
            .collect()
    }

    #[test]
    fn the_slow_orders_stock_box_is_87_5_percent_of_the_root() {
        let waterfall = slow_order_waterfall();
        let stock = row_named(&waterfall, "GET /stock");
        let (start, width) = extent(&waterfall, None, stock, 100.0);
        assert_eq!(format_percent(width), "87.5 %");
        assert_eq!(start, 270.0 / 32.0);
        let boxes = layout(&waterfall, None, 3200.0, u32::MAX);
        let expected = concat!(
            "0 GET /orders/12345 x=0.0 w=3200.0 n=1\n",
            "1 SELECT orders x=5.0 w=50.0 n=1\n",
            "1 GET /users/6789 x=60.0 w=80.0 n=1\n",
            "1 GET /products/batch x=145.0 w=120.0 n=1\n",
            "1 GET /stock x=270.0 w=2800.0 n=1\n",
            "2 GET cache:inventory:* x=275.0 w=10.0 n=1\n",
            "2 SELECT FROM inventory x=290.0 w=2750.0 n=1\n",
            "3 Query Execution x=290.0 w=2700.0 n=1\n",
            "3 Result Fetch x=2990.0 w=50.0 n=1\n",
            "1 GET /discounts x=3075.0 w=60.0 n=1\n",
        );
        assert_eq!(describe(&waterfall, &boxes), expected);
    }

    #[test]
    fn zooming_into_a_span_makes_it_the_full_width() {
        let waterfall = slow_order_waterfall();
        let mysql = row_named(&waterfall, "SELECT FROM inventory");
        let boxes = layout(&waterfall, Some(mysql), 2750.0, u32::MAX);
        let expected = concat!(
            "0 SELECT FROM inventory x=0.0 w=2750.0 n=1\n",
            "1 Query Execution x=0.0 w=2700.0 n=1\n",
            "1 Result Fetch x=2700.0 w=50.0 n=1\n",
        );
        assert_eq!(describe(&waterfall, &boxes), expected);
        let names: Vec<&str> = path_to(&waterfall, mysql)
            .iter()
            .map(|row| &*waterfall.rows[*row as usize].name)
            .collect();
        assert_eq!(
            names,
            ["GET /orders/12345", "GET /stock", "SELECT FROM inventory"]
        );
    }

    #[test]
    fn boxes_narrower_than_a_pixel_merge_and_hide_their_subtrees() {
        // A 1000 ms root with 1000 sequential 1 ms children, each with a child: at 100 px,
        // ten children share each pixel.
        let mut specs = vec![SpanSpec::new(1, None, "root", 0, 1000)];
        for i in 0..1000 {
            specs.push(SpanSpec::new(10 + 2 * i, Some(1), "call", i, i + 1));
            specs.push(SpanSpec::new(
                11 + 2 * i,
                Some(10 + 2 * i),
                "inner",
                i,
                i + 1,
            ));
        }
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(&specs),
            },
        };
        let waterfall = Waterfall::build(&trace).unwrap();
        let boxes = layout(&waterfall, None, 100.0, u32::MAX);
        assert_eq!(boxes.len(), 1 + 100, "{}", describe(&waterfall, &boxes));
        assert!(boxes[1..].iter().all(|b| b.level == 1 && b.n_spans == 20));
        assert_eq!(boxes.iter().map(|b| b.n_spans).sum::<u32>(), 2001);
        // Wide enough, every span is its own box.
        assert_eq!(layout(&waterfall, None, 10_000.0, u32::MAX).len(), 2001);
    }

    #[test]
    fn sub_pixel_boxes_of_different_parents_share_a_column() {
        // Two parallel calls, each with 1000 sequential 1 ms children: at 100 px, the children
        // of both fall into the same 100 columns.
        let mut specs = vec![
            SpanSpec::new(1, None, "root", 0, 1000),
            SpanSpec::new(2, Some(1), "left", 0, 1000),
            SpanSpec::new(3, Some(1), "right", 0, 1000),
        ];
        for i in 0..2000 {
            let parent = if i < 1000 { 2 } else { 3 };
            specs.push(SpanSpec::new(
                10 + i,
                Some(parent),
                "call",
                i % 1000,
                i % 1000 + 1,
            ));
        }
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(&specs),
            },
        };
        let waterfall = Waterfall::build(&trace).unwrap();
        let boxes = layout(&waterfall, None, 100.0, u32::MAX);
        let level_2: Vec<&FlameBox> = boxes.iter().filter(|b| b.level == 2).collect();
        assert_eq!(level_2.len(), 100);
        assert!(level_2.iter().all(|b| b.n_spans == 20 && b.width_px == 1.0));
    }

    #[test]
    fn the_topmost_box_is_hit_and_keys_move_between_relatives() {
        let waterfall = slow_order_waterfall();
        let boxes = layout(&waterfall, None, 3200.0, u32::MAX);
        let hit = box_at(&boxes, 300.0, 2.5 * 20.0, 20.0).unwrap();
        assert_eq!(
            &*waterfall.rows[hit.row_idx as usize].name,
            "SELECT FROM inventory"
        );
        assert_eq!(box_at(&boxes, 300.0, 9.0 * 20.0, 20.0), None);
        let stock = row_named(&waterfall, "GET /stock");
        let products = row_named(&waterfall, "GET /products/batch");
        let discounts = row_named(&waterfall, "GET /discounts");
        assert_eq!(sibling(&waterfall, stock, -1), Some(products));
        assert_eq!(sibling(&waterfall, stock, 1), Some(discounts));
        assert_eq!(sibling(&waterfall, discounts, 1), None);
        assert_eq!(sibling(&waterfall, 1, -1), None);
        assert_eq!(first_child(&waterfall, stock), Some(stock + 1));
        assert_eq!(first_child(&waterfall, discounts), None);
    }
}
