//! The header's call-outs, ranked: where the trace's time went, as a pattern (repeated work, a
//! group of repeated siblings) or a single span, by wall-clock share of the trace. On the N+1
//! trace twenty 180 ms queries (85.7 % together) come before the slowest single span (a 200 ms
//! loop body, 4.8 %).

use crate::repeated_work::RepeatedWork;
use crate::waterfall::Waterfall;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subject {
    /// An index into the findings passed to [`rank`].
    Pattern(usize),
    /// An index into [`Waterfall::groups`].
    Group(u32),
    /// The slowest span (see [`Waterfall::slowest_row`]).
    Span(u32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallOut {
    pub subject: Subject,
    /// Wall-clock share of the trace.
    pub percent_of_trace: f64,
}

/// The costliest repeated-work finding, the costliest sibling group when no finding is known
/// (a group of loop bodies wraps the finding's queries, which say more), and the slowest span,
/// largest share first (a pattern before a span of equal share).
pub fn rank(waterfall: &Waterfall, findings: &[RepeatedWork]) -> Vec<CallOut> {
    let mut call_outs = Vec::new();
    let duration = waterfall.duration_nanos();
    let costliest_finding = findings
        .iter()
        .enumerate()
        .max_by_key(|(index, finding)| (finding.wall_nanos, std::cmp::Reverse(*index)));
    if let Some((index, finding)) = costliest_finding {
        call_outs.push(CallOut {
            subject: Subject::Pattern(index),
            percent_of_trace: finding.percent_of_trace,
        });
    } else {
        let costliest_group = waterfall
            .groups
            .iter()
            .enumerate()
            .max_by_key(|(index, group)| (group.wall_nanos, std::cmp::Reverse(*index)));
        if let Some((index, group)) = costliest_group {
            call_outs.push(CallOut {
                subject: Subject::Group(index as u32),
                percent_of_trace: crate::layout::percent_of(group.wall_nanos, duration),
            });
        }
    }
    if let Some(row) = waterfall.slowest_row() {
        call_outs.push(CallOut {
            subject: Subject::Span(row),
            percent_of_trace: waterfall.rows[row as usize].percent_of_total,
        });
    }
    // Stable: on equal shares the pattern, pushed first, stays first. Shares are not negative,
    // so their bit patterns order like their values.
    crate::sort::by_u64_key_descending(&mut call_outs, |call_out| {
        call_out.percent_of_trace.to_bits()
    });
    call_outs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repeated_work::detect;
    use crate::scenario;

    #[test]
    fn the_n_plus_one_pattern_outranks_the_slowest_span() {
        let trace = scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let findings = detect(&trace, &waterfall);
        let ranked = rank(&waterfall, &findings);
        assert_eq!(ranked[0].subject, Subject::Pattern(0));
        assert_eq!(
            crate::layout::format_percent(ranked[0].percent_of_trace),
            "85.7 %"
        );
        assert!(matches!(ranked[1].subject, Subject::Span(_)));
        // Before detection has run, the loop's group stands for the pattern.
        let before_detection = rank(&waterfall, &[]);
        assert_eq!(before_detection[0].subject, Subject::Group(0));
    }

    #[test]
    fn a_slow_span_outranks_small_patterns() {
        let trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let waterfall = Waterfall::build(&trace).unwrap();
        let ranked = rank(&waterfall, &detect(&trace, &waterfall));
        assert_eq!(ranked.len(), 1, "no pattern in the slow order");
        assert_eq!(
            ranked[0].subject,
            Subject::Span(waterfall.slowest_row().unwrap())
        );
    }
}
