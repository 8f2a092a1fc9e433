//! The comparison as reports: a plain-text table for terminals and Markdown for pull requests.

use super::comparison::{Change, Comparison, ComparisonRow, CriticalPathChange};
use crate::layout::format_duration;

/// A signed duration, e.g. `-2850 ms` or `+12 ms`.
pub fn format_delta(nanos: i64) -> String {
    if nanos == 0 {
        return String::from("0");
    }
    let sign = if nanos < 0 { "-" } else { "+" };
    format!("{sign}{}", format_duration(nanos.unsigned_abs()))
}

/// A signed percentage with one decimal, e.g. `-89.1 %`; `new` when there was nothing before.
pub fn format_delta_percent(percent: Option<f64>) -> String {
    match percent {
        Some(0.0) => String::from("0 %"),
        Some(percent) => format!("{percent:+.1} %"),
        None => String::from("new"),
    }
}

/// A plain-text report for terminals: the header, then rows by impact.
pub fn render_table(comparison: &Comparison) -> String {
    let mut lines = header_lines(comparison);
    lines.extend(resource_change_lines(comparison, |text| text.to_owned()));
    let mut out = lines.join("\n");
    out.push_str("\n\n");
    let mut lines = vec![[
        "span".to_owned(),
        "before".to_owned(),
        "after".to_owned(),
        "change".to_owned(),
        "change %".to_owned(),
        "count".to_owned(),
        "what".to_owned(),
    ]];
    for row in comparison.rows_by_impact() {
        lines.push(row_cells(row, |text| text.to_owned()));
    }
    let widths: Vec<usize> = (0..7)
        .map(|column| {
            lines
                .iter()
                .map(|line| line[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                if column == 0 || column == 6 {
                    format!("{cell:<width$}", width = widths[column])
                } else {
                    format!("{cell:>width$}", width = widths[column])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown report for pull requests, naming both traces.
pub fn render_markdown(comparison: &Comparison) -> String {
    render_markdown_linked(comparison, None)
}

/// [`render_markdown`] whose trace ids link back to spanview at `base_url` (e.g.
/// `http://localhost:4318`), with a link to the comparison itself.
pub fn render_markdown_linked(comparison: &Comparison, base_url: Option<&str>) -> String {
    let (before, after) = (comparison.trace_id_before, comparison.trace_id_after);
    let mut out = String::from("### Trace comparison\n\n");
    match base_url.map(|base| base.trim_end_matches('/')) {
        Some(base) => out.push_str(&format!(
            "- traces: [`{before}`]({base}/trace/{before}) -> [`{after}`]({base}/trace/{after}) ([side by side]({base}/compare/{before}/{after}))\n"
        )),
        None => out.push_str(&format!("- traces: `{before}` -> `{after}`\n")),
    }
    for line in header_lines(comparison) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in resource_change_lines(comparison, escape_markdown) {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str("\n| span | before | after | change | change % | count | what |\n|---|---:|---:|---:|---:|---:|---|\n");
    for row in comparison.rows_by_impact() {
        let cells = row_cells(row, escape_markdown);
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Text from spans (names, attribute keys and values) made inert in a Markdown table cell and
/// in the HTML a Markdown renderer makes of it: on one line (a line break would end the row),
/// `<`, `>` and `&` as HTML entities (no tags, no autolinks), and Markdown's punctuation
/// backslash-escaped (no cell breaks, emphasis, code spans, links or math).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '$' | '!' | '#' => {
                out.push('\\');
                out.push(character);
            }
            // Line breaks of every kind, and other control characters, become spaces.
            character if character.is_control() || matches!(character, '\u{2028}' | '\u{2029}') => {
                out.push(' ');
            }
            character => out.push(character),
        }
    }
    out
}

/// Longest attribute value shown in a report cell.
const MAX_VALUE_CHARS: usize = 48;

/// A value on one line (SQL keeps its words, not its line breaks), shortened for a table cell.
fn one_line(value: &str) -> String {
    let single: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if single.chars().count() <= MAX_VALUE_CHARS {
        return single;
    }
    let mut short: String = single.chars().take(MAX_VALUE_CHARS - 1).collect();
    short.push('…');
    short
}

fn header_lines(comparison: &Comparison) -> Vec<String> {
    vec![
        format!(
            "total: {} -> {} ({}, {})",
            format_duration(comparison.total_before_nanos),
            format_duration(comparison.total_after_nanos),
            format_delta(comparison.delta_nanos),
            format_delta_percent(comparison.delta_percent)
        ),
        format!(
            "spans: {} -> {}",
            comparison.spans_before, comparison.spans_after
        ),
        format!(
            "queries: {} -> {}",
            comparison.queries_before, comparison.queries_after
        ),
    ]
}

/// One line per changed resource attribute; `escape` is applied to the text from the traces.
fn resource_change_lines(comparison: &Comparison, escape: fn(&str) -> String) -> Vec<String> {
    comparison
        .resource_changes
        .iter()
        .map(|change| {
            format!(
                "resource of {}: {}: {} -> {}",
                escape(&change.service),
                escape(&change.key),
                escape(&one_line(change.before.as_deref().unwrap_or("(none)"))),
                escape(&one_line(change.after.as_deref().unwrap_or("(none)")))
            )
        })
        .collect()
}

/// The cells of a report row; `escape` is applied to the text that comes from the spans.
pub(super) fn row_cells(row: &ComparisonRow, escape: fn(&str) -> String) -> [String; 7] {
    let mut what = match row.change {
        Change::Added => String::from("added"),
        Change::Removed => String::from("removed"),
        Change::Moved => String::from("moved"),
        Change::Renamed => format!(
            "now {}",
            escape(&one_line(row.renamed_to.as_deref().unwrap_or_default()))
        ),
        Change::Matched => row
            .attribute_changes
            .iter()
            .map(|change| {
                format!(
                    "{}: {} -> {}",
                    escape(&change.key),
                    escape(&one_line(change.before.as_deref().unwrap_or("(none)"))),
                    escape(&one_line(change.after.as_deref().unwrap_or("(none)")))
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    let path_note = match row.critical_path {
        CriticalPathChange::Entered => Some("entered the critical path"),
        CriticalPathChange::Left => Some("left the critical path"),
        CriticalPathChange::Stayed | CriticalPathChange::Off => None,
    };
    if let Some(note) = path_note {
        if !what.is_empty() {
            what.push_str("; ");
        }
        what.push_str(note);
    }
    [
        format!("{}: {}", escape(&row.service), escape(&row.name)),
        if row.count_before == 0 {
            String::from("-")
        } else {
            format_duration(row.total_before_nanos)
        },
        if row.count_after == 0 {
            String::from("-")
        } else {
            format_duration(row.total_after_nanos)
        },
        format_delta(row.delta_nanos),
        format_delta_percent(row.delta_percent),
        format!("{} -> {}", row.count_before, row.count_after),
        what,
    ]
}
