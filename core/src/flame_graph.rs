//! The flame graph (an icicle): every span of a waterfall as a box as wide as its duration,
//! placed on the trace's time axis, children below their parent, the root on top. A box's own
//! part not covered by the level below is its self time (self time is the duration minus the
//! union of the children: `analysis`).
//!
//! Lanes: siblings that run at the same time (parallel fetches) cannot share a level. Boxes are
//! placed in depth-first order, each on the first level below its parent where it starts after
//! the last box drawn there ends, so the subtree of a later, overlapping sibling moves down to
//! the next free band of levels (as Chrome's performance panel and Grafana Tempo draw them),
//! while siblings one after another stay on one level. **Invariant:** no two boxes of a level
//! overlap; an overlap under a pixel (invisible, and what merged boxes' minimum width causes) is
//! trimmed off the later box instead of costing a level.
//!
//! The graph shows the whole trace or one subtree (the focus: the span zoomed into) and is
//! laid out for a width in pixels: a box narrower than a pixel is not followed into its subtree
//! (its children are narrower still), and such a box starting inside the previous merged box on
//! its level joins it. So the boxes are bounded by the pixels (a level's width, plus the boxes a
//! pixel wide or more), not by the spans: a 100,000-span trace lays out in a few thousand boxes.

use crate::waterfall::Waterfall;

/// `level_of` for a row not drawn (yet).
const NO_LEVEL: u32 = u32::MAX;

/// One box to draw, in pixels of the laid-out width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlameBox {
    /// The waterfall row the box is (the first of the spans merged into it).
    pub row_idx: u32,
    /// Level from the top (the focus, or the first top-level span, is 0): at least one below
    /// the parent's box, more where a concurrent sibling's lane pushed it down.
    pub level: u32,
    pub x_px: f64,
    /// At least one pixel (less only against the right edge).
    pub width_px: f64,
    /// Spans this box stands for: 1, or more where sub-pixel boxes merged.
    pub n_spans: u32,
}

/// What the graph shows: the whole trace (`None`: the top-level rows from level 0) or one row's
/// subtree (zoomed into), as the rows it covers and its time span.
#[derive(Debug, Clone, Copy)]
struct Frame {
    rows: (usize, usize),
    offset_nanos: u64,
    duration_nanos: u64,
}

impl Frame {
    fn of(waterfall: &Waterfall, focus: Option<u32>) -> Option<Self> {
        match focus {
            None => Some(Self {
                rows: (0, waterfall.rows.len()),
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
/// wide, at most `max_levels` deep, in depth-first order (parents before children); concurrent
/// siblings in lanes of their own (see the module's doc).
pub fn layout(
    waterfall: &Waterfall,
    focus: Option<u32>,
    width_px: f64,
    max_levels: u32,
) -> Vec<FlameBox> {
    let mut boxes: Vec<FlameBox> = Vec::new();
    let Some(frame) = Frame::of(waterfall, focus) else {
        return boxes;
    };
    let width_px = width_px.max(1.0);
    let (first_row, end_row) = frame.rows;
    let mut levels = Levels::default();
    // The level each row of the frame was drawn on, so that its children go below it.
    let mut level_of: Vec<u32> = vec![NO_LEVEL; end_row - first_row];
    let mut row_idx = first_row;
    while row_idx < end_row {
        let row = &waterfall.rows[row_idx];
        let subtree_end = row_idx + row.n_descendants as usize + 1;
        // A row comes after its parent, and a row not drawn takes its subtree with it: a
        // parent inside the frame has its level.
        let first_level = match row.parent_row {
            Some(parent) if row_idx != first_row => level_of[parent as usize - first_row] + 1,
            _ => 0,
        };
        let (x_px, exact_width_px) = frame.extent(row, width_px);
        let sub_pixel = exact_width_px < 1.0;
        let Some(level) = levels.first_taking(first_level, max_levels, x_px, sub_pixel) else {
            row_idx = subtree_end;
            continue;
        };
        let last = levels.last(level);
        let free_from_px = last.map_or(0.0, |last| last.end_px);
        // Trimmed to start where the level is free (by under a pixel, see `LastBox::takes`).
        let drawn_x_px = x_px.max(free_from_px);
        let drawn_width_px = x_px + exact_width_px - drawn_x_px;
        if !sub_pixel && drawn_width_px >= 1.0 {
            level_of[row_idx - first_row] = level;
            levels.set(
                level,
                LastBox {
                    box_idx: boxes.len() as u32,
                    merged: false,
                    end_px: drawn_x_px + drawn_width_px,
                },
            );
            boxes.push(FlameBox {
                row_idx: row_idx as u32,
                level,
                x_px: drawn_x_px,
                width_px: drawn_width_px,
                n_spans: 1,
            });
            row_idx += 1;
            continue;
        }
        // Narrower than a pixel: none of its subtree (narrower still) is drawn, and it joins
        // the merged box it starts in, or starts one a pixel wide (inside the frame; against
        // the right edge with no room left it joins the box there).
        let n_spans = row.n_descendants + 1;
        let box_x_px = drawn_x_px.min(width_px - 1.0);
        let joined =
            last.filter(|last| (last.merged && x_px < last.end_px) || box_x_px < last.end_px);
        if let Some(last) = joined {
            boxes[last.box_idx as usize].n_spans += n_spans;
        } else {
            levels.set(
                level,
                LastBox {
                    box_idx: boxes.len() as u32,
                    merged: true,
                    end_px: box_x_px + 1.0,
                },
            );
            boxes.push(FlameBox {
                row_idx: row_idx as u32,
                level,
                x_px: box_x_px,
                width_px: 1.0,
                n_spans,
            });
        }
        row_idx = subtree_end;
    }
    boxes
}

/// Levels in a block of [`Levels`].
const BLOCK: usize = 32;

/// Per level in use, the box drawn last on it: the level is free from its right end on
/// (depth-first order reaches a level's boxes left to right, so a level's end only grows). The
/// lowest end of each block of levels lets the search for a free level skip full blocks: a fan-out
/// of thousands of concurrent spans fills every level allowed, and each later span would
/// otherwise look at all of them.
#[derive(Default)]
struct Levels {
    last: Vec<LastBox>,
    block_min_end_px: Vec<f64>,
}

impl Levels {
    fn last(&self, level: u32) -> Option<LastBox> {
        self.last.get(level as usize).copied()
    }

    /// The first level from `first` below `max` that takes a box at `x_px` (see
    /// [`LastBox::takes`]); a level not in use yet takes any.
    fn first_taking(&self, first: u32, max: u32, x_px: f64, sub_pixel: bool) -> Option<u32> {
        let mut level = first as usize;
        while level < max as usize {
            let Some(last) = self.last.get(level) else {
                return Some(level as u32);
            };
            // A whole block in use whose every box ends two pixels or more after `x_px`.
            let block_full = level.is_multiple_of(BLOCK) && level + BLOCK <= self.last.len();
            if block_full && self.block_min_end_px[level / BLOCK] - x_px >= 2.0 {
                level += BLOCK;
                continue;
            }
            if last.takes(x_px, sub_pixel) {
                return Some(level as u32);
            }
            level += 1;
        }
        None
    }

    fn set(&mut self, level: u32, last: LastBox) {
        let level = level as usize;
        if level == self.last.len() {
            self.last.push(last);
        } else {
            self.last[level] = last;
        }
        let block = level / BLOCK;
        let members = &self.last[block * BLOCK..self.last.len().min((block + 1) * BLOCK)];
        let min_end_px = members
            .iter()
            .map(|member| member.end_px)
            .fold(f64::INFINITY, f64::min);
        if block == self.block_min_end_px.len() {
            self.block_min_end_px.push(min_end_px);
        } else {
            self.block_min_end_px[block] = min_end_px;
        }
    }
}

/// The box drawn last on a level.
#[derive(Debug, Clone, Copy)]
struct LastBox {
    box_idx: u32,
    /// Drawn for spans under a pixel wide: later ones starting inside it join it.
    merged: bool,
    end_px: f64,
}

impl LastBox {
    /// Whether a box starting at `x_px` can go on this level: it starts less than a pixel
    /// before the level's last box ends (a smaller overlap is invisible, and is what the pixel
    /// of a merged box or rounding makes of spans one after the other), or, under a pixel
    /// wide, in the merged box it would join (or just before it: a merged box may have been
    /// moved right by a pixel's fraction to start where the level was free).
    fn takes(self, x_px: f64, sub_pixel: bool) -> bool {
        let joins_merged = sub_pixel && self.merged && x_px < self.end_px;
        self.end_px - x_px < 1.0 || (joins_merged && self.end_px - x_px < 2.0)
    }
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
    use crate::scenario::{
        FIXED_ORDER_TRACE_ID, SLOW_ORDER_TRACE_ID, SpanSpec, fixed_order, slow_order,
        spans_from_specs,
    };
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
        let waterfall = waterfall_of(&specs);
        let boxes = layout(&waterfall, None, 100.0, u32::MAX);
        assert_eq!(boxes.len(), 1 + 100, "{}", describe(&waterfall, &boxes));
        assert!(boxes[1..].iter().all(|b| b.level == 1 && b.n_spans == 20));
        assert_eq!(boxes.iter().map(|b| b.n_spans).sum::<u32>(), 2001);
        // Wide enough, every span is its own box.
        assert_eq!(layout(&waterfall, None, 10_000.0, u32::MAX).len(), 2001);
    }

    fn waterfall_of(specs: &[SpanSpec]) -> Waterfall {
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: Batch {
                resources: vec![Default::default()],
                scopes: vec![Default::default()],
                spans: spans_from_specs(specs),
            },
        };
        Waterfall::build(&trace).unwrap()
    }

    #[test]
    fn sub_pixel_children_of_parallel_calls_merge_in_their_own_lanes() {
        // Two parallel calls, each with 1000 sequential 1 ms children: at 100 px, the right
        // call's lane is below the left call's children, and each call's children merge into
        // 100 boxes of their own (they used to share one row and its boxes).
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
        let waterfall = waterfall_of(&specs);
        let boxes = layout(&waterfall, None, 100.0, u32::MAX);
        let right = boxes.iter().find(|b| b.row_idx == 1002).unwrap();
        assert_eq!(&*waterfall.rows[right.row_idx as usize].name, "right");
        assert_eq!(right.level, 3);
        for level in [2, 4] {
            let on_level: Vec<&FlameBox> = boxes.iter().filter(|b| b.level == level).collect();
            assert_eq!(on_level.len(), 100, "level {level}");
            assert!(
                on_level
                    .iter()
                    .all(|b| b.n_spans == 10 && b.width_px == 1.0)
            );
        }
        assert_no_overlaps(&boxes, 100.0);
    }

    /// The fixed order calls the user and product services at once: GET /products/batch gets
    /// a lane of its own under GET /users/6789, and the spans after them are back on level 1.
    #[test]
    fn concurrent_siblings_get_lanes_and_sequential_ones_share_a_level() {
        let waterfall = Waterfall::build(&fixed_order(
            FIXED_ORDER_TRACE_ID,
            1_700_000_000_000_000_000,
        ))
        .unwrap();
        let boxes = layout(&waterfall, None, 350.0, u32::MAX);
        let expected = concat!(
            "0 GET /orders/12345 x=0.0 w=350.0 n=1\n",
            "1 SELECT orders x=5.0 w=50.0 n=1\n",
            "1 GET /users/6789 x=60.0 w=80.0 n=1\n",
            "2 GET /products/batch x=60.0 w=120.0 n=1\n",
            "1 GET /stock x=185.0 w=60.0 n=1\n",
            "2 GET cache:inventory:* x=186.0 w=50.0 n=1\n",
            "2 SELECT FROM inventory x=236.0 w=8.0 n=1\n",
            "1 GET /discounts x=250.0 w=60.0 n=1\n",
        );
        assert_eq!(describe(&waterfall, &boxes), expected);
        // The pointer finds the product call in its lane.
        let hit = box_at(&boxes, 150.0, 2.5 * 20.0, 20.0).unwrap();
        assert_eq!(
            &*waterfall.rows[hit.row_idx as usize].name,
            "GET /products/batch"
        );
    }

    #[test]
    fn a_later_overlapping_siblings_subtree_moves_below_the_earlier_band() {
        let waterfall = waterfall_of(&[
            SpanSpec::new(1, None, "root", 0, 100),
            SpanSpec::new(2, Some(1), "a", 0, 60),
            SpanSpec::new(3, Some(2), "a1", 0, 50),
            SpanSpec::new(4, Some(3), "a2", 10, 40),
            SpanSpec::new(5, Some(1), "b", 20, 80),
            SpanSpec::new(6, Some(5), "b1", 30, 70),
            SpanSpec::new(7, Some(1), "c", 85, 95),
            SpanSpec::new(8, Some(7), "c1", 86, 90),
        ]);
        let boxes = layout(&waterfall, None, 100.0, u32::MAX);
        let expected = concat!(
            "0 root x=0.0 w=100.0 n=1\n",
            "1 a x=0.0 w=60.0 n=1\n",
            "2 a1 x=0.0 w=50.0 n=1\n",
            "3 a2 x=10.0 w=30.0 n=1\n",
            "4 b x=20.0 w=60.0 n=1\n",
            "5 b1 x=30.0 w=40.0 n=1\n",
            "1 c x=85.0 w=10.0 n=1\n",
            "2 c1 x=86.0 w=4.0 n=1\n",
        );
        assert_eq!(describe(&waterfall, &boxes), expected);
        // Zoomed into b, its lane starts on top.
        let b = row_named(&waterfall, "b");
        let zoomed = layout(&waterfall, Some(b), 100.0, u32::MAX);
        assert_eq!(
            describe(&waterfall, &zoomed),
            "0 b x=0.0 w=100.0 n=1\n1 b1 x=16.7 w=66.7 n=1\n"
        );
        // Levels run out: b's subtree is left out, not drawn over a's.
        let cut = layout(&waterfall, None, 100.0, 4);
        assert!(cut.iter().all(|flame_box| flame_box.level < 4));
        assert!(!describe(&waterfall, &cut).contains(" b "));
    }

    /// No two boxes of a level overlap, each lies inside the width and is at least a pixel
    /// wide (but against the right edge).
    fn assert_no_overlaps(boxes: &[FlameBox], width_px: f64) {
        let mut by_level: Vec<FlameBox> = boxes.to_vec();
        by_level.sort_by(|a, b| a.level.cmp(&b.level).then(a.x_px.total_cmp(&b.x_px)));
        for pair in by_level.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.level == b.level {
                assert!(b.x_px >= a.x_px + a.width_px - 1e-9, "{a:?} overlaps {b:?}");
            }
        }
        for flame_box in boxes {
            assert!(flame_box.x_px >= 0.0, "{flame_box:?}");
            assert!(
                flame_box.x_px + flame_box.width_px <= width_px + 1e-9,
                "{flame_box:?}"
            );
            assert!(flame_box.width_px >= 1.0 - 1e-9, "{flame_box:?}");
        }
    }

    /// Spans from (parent choice, start, duration) triples: span i's parent is an earlier span.
    fn random_specs(spans: &[(usize, u64, u64)]) -> Vec<SpanSpec> {
        let mut specs = vec![SpanSpec::new(0, None, "root", 0, 1_000_000)];
        for (i, &(parent, start, duration)) in spans.iter().enumerate() {
            let id = i as u64 + 1;
            let parent = (parent % (i + 1)) as u64;
            specs.push(SpanSpec::new(
                id,
                Some(parent),
                "s",
                start,
                start + duration,
            ));
        }
        specs
    }

    /// Spans where every parent's children run one after another inside it: span i's parent
    /// is an earlier span, and each parent's time is cut into equal slots for its children.
    fn sequential_specs(parents: &[usize], gap_per_mille: u64) -> Vec<SpanSpec> {
        let n = parents.len() + 1;
        let parent_of: Vec<Option<usize>> = std::iter::once(None)
            .chain(parents.iter().enumerate().map(|(i, &p)| Some(p % (i + 1))))
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (child, parent) in parent_of.iter().enumerate() {
            if let Some(parent) = parent {
                children[*parent].push(child);
            }
        }
        let mut times = vec![(0u64, 1_000_000_000u64); n];
        for node in 0..n {
            let (start, end) = times[node];
            let n_children = children[node].len() as u64;
            if n_children == 0 {
                continue;
            }
            let slot = (end - start) / n_children;
            for (k, &child) in children[node].iter().enumerate() {
                let slot_start = start + k as u64 * slot;
                times[child] = (slot_start + slot * gap_per_mille / 1000, slot_start + slot);
            }
        }
        (0..n)
            .map(|node| {
                SpanSpec::new(
                    node as u64,
                    parent_of[node].map(|p| p as u64),
                    "s",
                    times[node].0,
                    times[node].1,
                )
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn boxes_never_overlap_and_children_are_below_their_parents(
            spans in proptest::collection::vec((0usize..1000, 0u64..1_000_000, 0u64..400_000), 1..80),
            width_px in 20.0f64..2000.0,
        ) {
            let waterfall = waterfall_of(&random_specs(&spans));
            let boxes = layout(&waterfall, None, width_px, u32::MAX);
            assert_no_overlaps(&boxes, width_px);
            let level_of_row: std::collections::HashMap<u32, u32> =
                boxes.iter().map(|b| (b.row_idx, b.level)).collect();
            for flame_box in &boxes {
                let row = &waterfall.rows[flame_box.row_idx as usize];
                if let Some(parent) = row.parent_row {
                    proptest::prop_assert!(level_of_row[&parent] < flame_box.level);
                }
            }
        }

        /// Many concurrent spans (beyond a block of levels): each box is on the highest level
        /// it fits, below its parent, every level above it being taken where it starts.
        #[test]
        fn each_box_takes_the_first_level_free_where_it_starts(
            spans in proptest::collection::vec((0usize..3, 0u64..1_000_000, 100_000u64..900_000), 1..200),
            width_px in 100.0f64..2000.0,
        ) {
            let waterfall = waterfall_of(&random_specs(&spans));
            let boxes = layout(&waterfall, None, width_px, u32::MAX);
            assert_no_overlaps(&boxes, width_px);
            let level_of_row: std::collections::HashMap<u32, u32> =
                boxes.iter().map(|b| (b.row_idx, b.level)).collect();
            for (idx, flame_box) in boxes.iter().enumerate() {
                let row = &waterfall.rows[flame_box.row_idx as usize];
                let (x_px, _) = extent(&waterfall, None, flame_box.row_idx, width_px);
                let first = row.parent_row.map_or(0, |parent| level_of_row[&parent] + 1);
                for level in first..flame_box.level {
                    let last_before = boxes[..idx].iter().rev().find(|b| b.level == level);
                    let taken = last_before.is_some_and(|b| b.x_px + b.width_px - x_px >= 1.0);
                    proptest::prop_assert!(taken, "{:?}: level {} was free", flame_box, level);
                }
            }
        }

        #[test]
        fn siblings_one_after_another_stay_on_their_depth(
            parents in proptest::collection::vec(0usize..1000, 1..60),
            gap_per_mille in 0u64..500,
            width_px in 20.0f64..2000.0,
        ) {
            let waterfall = waterfall_of(&sequential_specs(&parents, gap_per_mille));
            let boxes = layout(&waterfall, None, width_px, u32::MAX);
            assert_no_overlaps(&boxes, width_px);
            for flame_box in boxes.iter().filter(|b| b.n_spans == 1 && b.width_px > 1.0) {
                let row = &waterfall.rows[flame_box.row_idx as usize];
                proptest::prop_assert_eq!(flame_box.level, row.depth, "{:?}", flame_box);
            }
        }
    }

    /// A 100,000-span trace with parallel fan-outs (ten concurrent calls at a time, each with
    /// nine sequential children) and one with 100,000 concurrent children: both lay out in a
    /// bounded number of boxes, quickly (a placement that compared every pair of boxes would
    /// take minutes here).
    #[test]
    fn a_hundred_thousand_concurrent_spans_lay_out_quickly() {
        const MS: u64 = 1_000_000;
        let mut fan_outs = vec![SpanSpec::new(0, None, "root", 0, 10_000 * MS)];
        let mut id = 1;
        for group in 0..1000 {
            let group_start = group * 10 * MS;
            for call in 0..10 {
                let call_id = id;
                let call_end = group_start + 8 * MS + call * MS / 10;
                fan_outs.push(SpanSpec::new(
                    call_id,
                    Some(0),
                    "call",
                    group_start,
                    call_end,
                ));
                id += 1;
                for child in 0..9 {
                    let child_start = group_start + child * 8 * MS / 9;
                    fan_outs.push(SpanSpec::new(
                        id,
                        Some(call_id),
                        "step",
                        child_start,
                        child_start + 8 * MS / 9,
                    ));
                    id += 1;
                }
            }
        }
        let mut all_at_once = vec![SpanSpec::new(0, None, "root", 0, 1000 * MS)];
        for i in 1..100_000 {
            all_at_once.push(SpanSpec::new(i, Some(0), "call", i, 1000 * MS - i));
        }
        for (shape, specs) in [("fan-outs", fan_outs), ("all at once", all_at_once)] {
            assert!(specs.len() >= 100_000);
            let waterfall = waterfall_of(&specs);
            let started = std::time::Instant::now();
            let boxes = layout(&waterfall, None, 1400.0, 400);
            let elapsed = started.elapsed();
            eprintln!("{shape}: {} boxes in {elapsed:?}", boxes.len());
            assert_no_overlaps(&boxes, 1400.0);
            assert!(boxes.len() < 30_000, "{shape}: {} boxes", boxes.len());
            if shape == "all at once" {
                // The root and 399 lanes of one call each; the other calls are left out.
                assert_eq!(boxes.len(), 400);
            }
            // Debug builds take about 40 and 120 ms here; comparing every box with every
            // level, or with every other box, took 1.1 s and minutes.
            assert!(elapsed.as_secs_f64() < 1.0, "{shape}: {elapsed:?}");
        }
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
