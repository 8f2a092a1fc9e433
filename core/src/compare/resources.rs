//! Resource attribute changes between two traces, per service: a deploy shows as
//! `service.version 1.4.0 -> 1.5.0`.

use std::collections::{BTreeMap, BTreeSet};

use super::comparison::ResourceChange;
use crate::model::Trace;

/// Resource attributes that differ between any two processes and explain nothing.
const IGNORED_RESOURCE_KEYS: [&str; 3] = ["service.name", "service.instance.id", "process.pid"];

/// Each service's resource attributes: key to its distinct values in display form.
fn resource_attributes(trace: &Trace) -> BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> {
    let mut used = vec![false; trace.batch.resources.len()];
    for span in &trace.batch.spans {
        if let Some(used) = used.get_mut(span.resource_idx as usize) {
            *used = true;
        }
    }
    let mut services: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for (resource, _) in trace
        .batch
        .resources
        .iter()
        .zip(&used)
        .filter(|(_, used)| **used)
    {
        let attributes = services.entry(resource.service_name()).or_default();
        for attribute in &resource.attributes {
            if !IGNORED_RESOURCE_KEYS.contains(&attribute.key.as_str()) {
                attributes
                    .entry(attribute.key.as_str())
                    .or_default()
                    .insert(attribute.value.to_display_string());
            }
        }
    }
    services
}

/// The resource attributes that differ for each service present in both traces.
pub fn resource_changes(before: &Trace, after: &Trace) -> Vec<ResourceChange> {
    let (before, after) = (resource_attributes(before), resource_attributes(after));
    let joined = |values: Option<&BTreeSet<String>>| {
        values.map(|values| values.iter().cloned().collect::<Vec<_>>().join(", "))
    };
    let mut changes = Vec::new();
    for (service, before_attributes) in &before {
        let Some(after_attributes) = after.get(service) else {
            continue;
        };
        let keys: BTreeSet<&str> = before_attributes
            .keys()
            .chain(after_attributes.keys())
            .copied()
            .collect();
        for key in keys {
            let (was, now) = (before_attributes.get(key), after_attributes.get(key));
            if was != now {
                changes.push(ResourceChange {
                    service: (*service).to_owned(),
                    key: key.to_owned(),
                    before: joined(was),
                    after: joined(now),
                });
            }
        }
    }
    changes
}
