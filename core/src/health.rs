//! Trace health: what a broken or partial trace tells the person debugging instrumentation.
//! Parents referenced but absent (and between which services the context was lost), spans that
//! end after their parents, clock skew, attributes/events/links the SDK dropped, more than one
//! root. Nothing when the trace is healthy.
//!
//! Each finding lists the rows it is about (in row order), so the page can jump to them.

use rustc_hash::FxHashMap;

use crate::clock_skew::SkewAdjustment;
use crate::layout::format_duration;
use crate::model::{SpanKind, Trace};
use crate::tree::RootKind;
use crate::waterfall::Waterfall;

/// Orphans checked for where their context was lost: each check reads every row.
const MAX_ORPHANS_TRACED: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    MissingParents,
    OutlivesParent,
    ClockSkew,
    Dropped,
    SeveralRoots,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthFinding {
    pub problem: Problem,
    /// One line for the reader.
    pub message: String,
    /// The rows it is about, in row order.
    pub rows: Vec<u32>,
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// What is wrong with the trace drawn as `waterfall` (adjusted by `skew` when it was).
pub fn check(trace: &Trace, waterfall: &Waterfall, skew: &[SkewAdjustment]) -> Vec<HealthFinding> {
    let rows = &waterfall.rows;
    let spans = &trace.batch.spans;
    let mut findings = Vec::new();

    let orphans: Vec<u32> = (0..rows.len() as u32)
        .filter(|row| rows[*row as usize].root_kind == Some(RootKind::Orphan))
        .collect();
    if !orphans.is_empty() {
        let mut lost: Vec<(String, String)> = Vec::new();
        for orphan in orphans.iter().take(MAX_ORPHANS_TRACED) {
            if let Some(pair) = context_lost(waterfall, *orphan)
                && !lost.contains(&pair)
            {
                lost.push(pair);
            }
        }
        let missing: rustc_hash::FxHashSet<_> = orphans
            .iter()
            .filter_map(|row| spans[rows[*row as usize].span_idx as usize].parent_span_id)
            .collect();
        let mut message = format!(
            "{} a parent that is not in the trace ({})",
            plural(orphans.len(), "span names", "spans name"),
            plural(missing.len(), "missing span", "missing spans"),
        );
        if lost.is_empty() {
            message.push_str(": the parent was not exported, or is still to come");
        } else {
            let pairs: Vec<String> = lost
                .iter()
                .map(|(caller, called)| format!("{caller} → {called}"))
                .collect();
            message.push_str(&format!("; context lost between {}", pairs.join(", ")));
        }
        findings.push(HealthFinding {
            problem: Problem::MissingParents,
            message,
            rows: orphans,
        });
    }

    let mut outliving = Vec::new();
    let mut longest_overrun = 0u64;
    for (row_idx, row) in rows.iter().enumerate() {
        let Some(parent_row) = row.parent_row else {
            continue;
        };
        let parent = &rows[parent_row as usize];
        // A message's consumer may run long after its producer, and anything after a one-way
        // send (a parent without duration, as Zipkin records them): that is how messaging works.
        if row.kind == SpanKind::Consumer
            || parent.kind == SpanKind::Producer
            || parent.duration_nanos == 0
        {
            continue;
        }
        let end = row.offset_nanos + row.duration_nanos;
        let parent_end = parent.offset_nanos + parent.duration_nanos;
        if end > parent_end {
            outliving.push(row_idx as u32);
            longest_overrun = longest_overrun.max(end - parent_end);
        }
    }
    if !outliving.is_empty() {
        findings.push(HealthFinding {
            problem: Problem::OutlivesParent,
            message: format!(
                "{} after {} (by up to {}): async work, or a parent ended too early",
                plural(outliving.len(), "span ends", "spans end"),
                if outliving.len() == 1 {
                    "its parent"
                } else {
                    "their parents"
                },
                format_duration(longest_overrun)
            ),
            rows: outliving,
        });
    }

    if !skew.is_empty() {
        let mut row_of_span: FxHashMap<u32, u32> = FxHashMap::default();
        for (row_idx, row) in rows.iter().enumerate() {
            row_of_span.insert(row.span_idx, row_idx as u32);
        }
        let mut moved: Vec<u32> = skew
            .iter()
            .filter_map(|adjustment| row_of_span.get(&adjustment.span_idx).copied())
            .collect();
        moved.sort_unstable();
        let largest = skew
            .iter()
            .map(|adjustment| adjustment.delta_nanos)
            .max_by_key(|delta| delta.unsigned_abs())
            .unwrap_or(0);
        let sign = if largest < 0 { "-" } else { "+" };
        findings.push(HealthFinding {
            problem: Problem::ClockSkew,
            message: format!(
                "Clock skew: {} recorded on another clock (by up to {sign}{}), adjusted to fit inside the calling spans",
                plural(skew.len(), "span", "spans"),
                format_duration(largest.unsigned_abs())
            ),
            rows: moved,
        });
    }

    let (mut attributes, mut events, mut links) = (0u64, 0u64, 0u64);
    let mut dropping = Vec::new();
    for (row_idx, row) in rows.iter().enumerate() {
        let dropped = &spans[row.span_idx as usize].dropped;
        if !dropped.is_empty() {
            attributes += u64::from(dropped.attributes);
            events += u64::from(dropped.events);
            links += u64::from(dropped.links);
            dropping.push(row_idx as u32);
        }
    }
    if !dropping.is_empty() {
        findings.push(HealthFinding {
            problem: Problem::Dropped,
            message: format!(
                "The SDK dropped {}, {} and {} on {} (limits reached)",
                plural(attributes as usize, "attribute", "attributes"),
                plural(events as usize, "event", "events"),
                plural(links as usize, "link", "links"),
                plural(dropping.len(), "span", "spans")
            ),
            rows: dropping,
        });
    }

    let roots: Vec<u32> = (0..rows.len() as u32)
        .filter(|row| rows[*row as usize].root_kind == Some(RootKind::Root))
        .collect();
    if roots.len() > 1 {
        findings.push(HealthFinding {
            problem: Problem::SeveralRoots,
            message: format!(
                "{} root spans: more than one request started this trace, or parents were lost",
                roots.len()
            ),
            rows: roots,
        });
    }
    findings
}

/// Where the orphan's context was lost: a client or producer span of another service, with no
/// children, running when the orphan started (the call whose context did not reach it), as
/// (caller's service, orphan's service).
fn context_lost(waterfall: &Waterfall, orphan_row: u32) -> Option<(String, String)> {
    let rows = &waterfall.rows;
    let orphan = &rows[orphan_row as usize];
    rows.iter()
        .filter(|row| {
            matches!(row.kind, SpanKind::Client | SpanKind::Producer)
                && row.n_descendants == 0
                && row.service != orphan.service
                && row.offset_nanos <= orphan.offset_nanos
                && (row.kind == SpanKind::Producer
                    || orphan.offset_nanos <= row.offset_nanos + row.duration_nanos)
        })
        .max_by_key(|row| row.offset_nanos)
        .map(|caller| (caller.service.to_string(), orphan.service.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dropped, KeyValue, Resource};
    use crate::scenario::{self, SpanSpec, spans_from_specs};

    #[test]
    fn the_scenario_is_healthy() {
        for trace in [
            scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0),
            scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0),
            scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, 0),
        ] {
            let waterfall = Waterfall::build(&trace).unwrap();
            assert_eq!(check(&trace, &waterfall, &[]), []);
        }
    }

    #[test]
    fn a_lost_context_names_the_services_it_was_lost_between() {
        // frontend calls customer, but the call's context did not reach it: customer's server
        // span names a parent nobody exported. A second root, a late child, dropped data.
        let mut spans = spans_from_specs(&[
            SpanSpec::new(1, None, "GET /dispatch", 0, 1_000),
            SpanSpec::new(2, Some(1), "HTTP GET", 100, 500),
            SpanSpec::new(3, Some(99), "GET /customer", 120, 480),
            SpanSpec::new(4, Some(1), "flush", 900, 1_200),
            SpanSpec::new(5, None, "GET /health", 2_000, 2_100),
        ]);
        spans[1].kind = SpanKind::Client;
        spans[2].kind = SpanKind::Server;
        spans[2].resource_idx = 1;
        spans[3].dropped = Dropped {
            attributes: 3,
            events: 1,
            links: 0,
        };
        let service = |name: &str| Resource {
            attributes: vec![KeyValue::new("service.name", name)],
            ..Default::default()
        };
        let trace = Trace {
            trace_id: crate::TraceId([1; 16]),
            batch: crate::Batch {
                resources: vec![service("frontend"), service("customer")],
                scopes: vec![Default::default()],
                spans,
            },
        };
        let waterfall = Waterfall::build(&trace).unwrap();
        let findings = check(&trace, &waterfall, &[]);
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "1 span names a parent that is not in the trace (1 missing span); context lost between frontend → customer",
                "1 span ends after its parent (by up to 200 ns): async work, or a parent ended too early",
                "The SDK dropped 3 attributes, 1 event and 0 links on 1 span (limits reached)",
                "2 root spans: more than one request started this trace, or parents were lost",
            ]
        );
        let row_named = |name: &str| {
            waterfall
                .rows
                .iter()
                .position(|row| &*row.name == name)
                .unwrap() as u32
        };
        assert_eq!(findings[0].rows, [row_named("GET /customer")]);
        assert_eq!(findings[1].rows, [row_named("flush")]);
    }
}
