//! Everything a waterfall shows, computed once per trace: rows in tree order with their bars,
//! durations, share of the total and self time. The UI only places these values.

use crate::analysis::self_times;
use crate::layout::{Bar, TimeWindow, bar, percent_of};
use crate::model::{SpanKind, StatusCode, Trace};
use crate::tree::{RootKind, SpanTree};

#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallRow {
    pub span_idx: u32,
    pub depth: u32,
    pub n_descendants: u32,
    pub root_kind: Option<RootKind>,
    pub service: String,
    /// Index into [`Waterfall::services`], for the colour and the legend.
    pub service_idx: u32,
    pub name: String,
    pub kind: SpanKind,
    pub is_error: bool,
    pub bar: Bar,
    pub offset_nanos: u64,
    pub duration_nanos: u64,
    /// Share of the whole trace's duration; the root is 100 %.
    pub percent_of_total: f64,
    pub self_nanos: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    pub window: TimeWindow,
    pub rows: Vec<WaterfallRow>,
    /// Services in order of first appearance in the rows.
    pub services: Vec<String>,
    pub n_errors: usize,
}

impl Waterfall {
    pub fn build(trace: &Trace) -> Option<Self> {
        let spans = &trace.batch.spans;
        let window = TimeWindow::of_spans(spans)?;
        let tree = SpanTree::build(spans);
        let self_nanos = self_times(spans, &tree);
        let total_nanos = window.duration_nanos();
        let mut services: Vec<String> = Vec::new();
        let mut rows = Vec::with_capacity(tree.rows.len());
        for tree_row in &tree.rows {
            let span = &spans[tree_row.span_idx as usize];
            let service = trace.batch.service_of(span);
            let service_idx = match services.iter().position(|known| known == service) {
                Some(idx) => idx,
                None => {
                    services.push(service.to_owned());
                    services.len() - 1
                }
            };
            rows.push(WaterfallRow {
                span_idx: tree_row.span_idx,
                depth: tree_row.depth,
                n_descendants: tree_row.n_descendants,
                root_kind: tree_row.root_kind,
                service: service.to_owned(),
                service_idx: service_idx as u32,
                name: span.name.clone(),
                kind: span.kind,
                is_error: span.status.code == StatusCode::Error,
                bar: bar(span, window),
                offset_nanos: span.start_nanos.saturating_sub(window.start_nanos),
                duration_nanos: span.duration_nanos(),
                percent_of_total: percent_of(span.duration_nanos(), total_nanos),
                self_nanos: self_nanos[tree_row.span_idx as usize],
            });
        }
        let n_errors = rows.iter().filter(|row| row.is_error).count();
        Some(Self {
            window,
            rows,
            services,
            n_errors,
        })
    }

    pub fn duration_nanos(&self) -> u64 {
        self.window.duration_nanos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::format_percent;
    use crate::scenario;

    #[test]
    fn the_slow_order_waterfall() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 1_700_000_000_000_000_000);
        let waterfall = Waterfall::build(&trace).unwrap();
        assert_eq!(waterfall.duration_nanos(), 3_200_000_000);
        let stock = waterfall
            .rows
            .iter()
            .find(|row| row.name == "GET /stock")
            .unwrap();
        assert_eq!(
            (stock.service.as_str(), stock.depth),
            ("inventory-service", 1)
        );
        assert_eq!(format_percent(stock.percent_of_total), "87.5 %");
        assert_eq!(format_percent(stock.bar.width_percent), "87.5 %");
        assert!((stock.bar.left_percent - 270.0 / 32.0).abs() < 1e-9);
        assert_eq!(waterfall.rows[0].percent_of_total, 100.0);
        assert_eq!(waterfall.services[0], "order-service");
    }

    #[test]
    fn an_empty_trace_has_no_waterfall() {
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: Default::default(),
        };
        assert!(Waterfall::build(&trace).is_none());
    }
}
