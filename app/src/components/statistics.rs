//! The trace's statistics per service or per operation: count, total, max, self time and its
//! share of the trace, largest self time first.

use leptos::prelude::*;
use spanview_core::layout::{format_duration, format_percent};
use spanview_core::statistics::{GroupBy, statistics};

use crate::components::waterfall::state::WaterfallState;

#[component]
pub fn TraceStatistics() -> impl IntoView {
    let state = expect_context::<WaterfallState>();
    let group_by = RwSignal::new(GroupBy::Service);
    let rows = move || {
        let by_operation = group_by.get() == GroupBy::Operation;
        statistics(&state.waterfall, group_by.get())
            .into_iter()
            .map(|row| {
                let share_style = format!("width: {:.2}%", row.self_percent_of_trace.min(100.0));
                view! {
                    <tr>
                        <td class="service">{row.service}</td>
                        {by_operation.then(|| view! { <td>{row.operation}</td> })}
                        <td class="num">{row.count}</td>
                        <td class="num">{format_duration(row.total_nanos)}</td>
                        <td class="num">{format_duration(row.max_nanos)}</td>
                        <td class="num">{format_duration(row.self_total_nanos)}</td>
                        <td class="share">
                            <span class="share-bar"><span style=share_style></span></span>
                            {format_percent(row.self_percent_of_trace)}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <div class="statistics">
            <label>
                "Group by "
                <select on:change=move |event| {
                    group_by.set(if event_target_value(&event) == "operation" { GroupBy::Operation } else { GroupBy::Service });
                }>
                    <option value="service" selected>"service"</option>
                    <option value="operation">"service and operation"</option>
                </select>
            </label>
            <table class="trace-table stats-table">
                <thead>
                    <tr>
                        <th>"Service"</th>
                        {move || (group_by.get() == GroupBy::Operation).then(|| view! { <th>"Operation"</th> })}
                        <th class="num">"Spans"</th>
                        <th class="num">"Total"</th>
                        <th class="num">"Max"</th>
                        <th class="num">"Self time"</th>
                        <th>"Self time, % of trace"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
