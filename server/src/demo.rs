//! Demo data for a first look: the scenario's slow order page and its fix, and the N+1 product
//! list and its batched fix.

use std::time::{SystemTime, UNIX_EPOCH};

use spanview_core::scenario;

use crate::store::{StoreError, TraceStore};

/// Stores the scenario traces unless they are already stored. Returns how many were added.
pub fn load_scenario(store: &dyn TraceStore) -> Result<usize, StoreError> {
    let now_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let minute = 60 * 1_000_000_000;
    let traces = [
        scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, now_nanos - 10 * minute),
        scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, now_nanos - 5 * minute),
        scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, now_nanos - 20 * minute),
        scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, now_nanos - 15 * minute),
    ];
    let mut added = 0;
    for trace in traces {
        if store.trace(trace.trace_id)?.is_none() {
            store.write(&trace.batch)?;
            added += 1;
        }
    }
    Ok(added)
}
