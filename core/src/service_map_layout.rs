//! Where the service map draws its nodes, edges and labels: a layered layout (callers left,
//! callees right). Layers by longest path from the callers (cycles are cut at the number of
//! nodes), order within a layer by the mean position of each node's neighbours (a few sweeps
//! left to right and back, which removes most crossings), one row per node, and edge labels in
//! the gap between two layers pushed down until none overlaps another.

use crate::layout::{format_duration, format_percent};
use crate::service_metrics::{ServiceMap, Stats};

pub const NODE_WIDTH: f64 = 220.0;
pub const NODE_HEIGHT: f64 = 44.0;
pub const ROW_GAP: f64 = 20.0;
/// Space between layers, for the edges and their labels.
pub const COLUMN_GAP: f64 = 200.0;
pub const LABEL_HEIGHT: f64 = 14.0;
pub const MARGIN: f64 = 16.0;

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedNode {
    pub name: String,
    pub is_peer: bool,
    pub layer: usize,
    /// Top-left corner.
    pub x: f64,
    pub y: f64,
    /// "12 req · 1.5 % err · p95 40 ms"
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedEdge {
    pub caller: String,
    pub callee: String,
    /// From the caller's right side to the callee's left side (or around, for a call back).
    pub from: (f64, f64),
    pub to: (f64, f64),
    /// Where the label's text starts (its baseline).
    pub label_at: (f64, f64),
    pub label: String,
    pub has_errors: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapLayout {
    pub nodes: Vec<PlacedNode>,
    pub edges: Vec<PlacedEdge>,
    pub width: f64,
    pub height: f64,
}

/// "12 req · 1.5 % err · p95 40 ms"
pub fn stats_label(stats: &Stats) -> String {
    let mut label = format!(
        "{} req · {} err",
        stats.requests,
        format_percent(stats.error_rate * 100.0)
    );
    if let Some(p95) = stats.p95_nanos {
        label.push_str(&format!(" · p95 {}", format_duration(p95)));
    }
    label
}

pub fn layout(map: &ServiceMap) -> MapLayout {
    let n = map.nodes.len();
    let index_of = |name: &str| map.nodes.iter().position(|node| node.name == name);
    let links: Vec<(usize, usize)> = map
        .edges
        .iter()
        .filter_map(|edge| Some((index_of(&edge.caller)?, index_of(&edge.callee)?)))
        .filter(|(caller, callee)| caller != callee)
        .collect();

    // Calls back (edges closing a cycle, found by a depth-first walk) do not take part in the
    // layering; then longest path by relaxing until stable (at most n rounds without cycles).
    let links = without_back_edges(n, &links);
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for &(caller, callee) in &links {
            if layer[callee] < layer[caller] + 1 {
                layer[callee] = layer[caller] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let n_layers = layer.iter().max().map_or(0, |max| max + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
    for (node, &node_layer) in layer.iter().enumerate() {
        layers[node_layer].push(node);
    }

    // Order within layers by the barycentre of neighbours in the layer before (then after).
    let mut row = vec![0f64; n];
    let number = |layers: &Vec<Vec<usize>>, row: &mut Vec<f64>| {
        for members in layers {
            for (position, &node) in members.iter().enumerate() {
                row[node] = position as f64;
            }
        }
    };
    number(&layers, &mut row);
    for sweep in 0..4 {
        let forward = sweep % 2 == 0;
        let order: Vec<usize> = if forward {
            (1..n_layers).collect()
        } else {
            (0..n_layers.saturating_sub(1)).rev().collect()
        };
        for layer_idx in order {
            let mut keyed: Vec<(f64, usize)> = layers[layer_idx]
                .iter()
                .map(|&node| {
                    let neighbours: Vec<f64> = links
                        .iter()
                        .filter_map(|&(caller, callee)| {
                            if forward && callee == node {
                                Some(row[caller])
                            } else if !forward && caller == node {
                                Some(row[callee])
                            } else {
                                None
                            }
                        })
                        .collect();
                    let key = if neighbours.is_empty() {
                        row[node]
                    } else {
                        neighbours.iter().sum::<f64>() / neighbours.len() as f64
                    };
                    (key, node)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[layer_idx] = keyed.into_iter().map(|(_, node)| node).collect();
            number(&layers, &mut row);
        }
    }

    let x_of = |layer: usize| MARGIN + layer as f64 * (NODE_WIDTH + COLUMN_GAP);
    let y_of = |row: f64| MARGIN + row * (NODE_HEIGHT + ROW_GAP);
    let nodes: Vec<PlacedNode> = map
        .nodes
        .iter()
        .enumerate()
        .map(|(idx, node)| PlacedNode {
            name: node.name.clone(),
            is_peer: node.is_peer,
            layer: layer[idx],
            x: x_of(layer[idx]),
            y: y_of(row[idx]),
            label: stats_label(&node.stats),
        })
        .collect();

    // Edges, with labels in the gap right of the caller, pushed down past the one above.
    let mut edges: Vec<PlacedEdge> = map
        .edges
        .iter()
        .filter_map(|edge| {
            let caller = &nodes[index_of(&edge.caller)?];
            let callee = &nodes[index_of(&edge.callee)?];
            let from = (caller.x + NODE_WIDTH, caller.y + NODE_HEIGHT / 2.0);
            let to = (callee.x, callee.y + NODE_HEIGHT / 2.0);
            Some(PlacedEdge {
                caller: edge.caller.clone(),
                callee: edge.callee.clone(),
                from,
                to,
                label_at: (from.0 + 8.0, (from.1 + to.1) / 2.0),
                label: stats_label(&edge.stats),
                has_errors: edge.stats.errors > 0,
            })
        })
        .collect();
    edges.sort_by(|a, b| {
        a.from
            .0
            .total_cmp(&b.from.0)
            .then(a.label_at.1.total_cmp(&b.label_at.1))
    });
    let mut last_in_gap: Option<(f64, f64)> = None;
    for edge in &mut edges {
        if let Some((gap_x, last_y)) = last_in_gap
            && gap_x == edge.label_at.0
            && edge.label_at.1 < last_y + LABEL_HEIGHT
        {
            edge.label_at.1 = last_y + LABEL_HEIGHT;
        }
        last_in_gap = Some(edge.label_at);
    }

    let width = x_of(n_layers.saturating_sub(1)) + NODE_WIDTH + MARGIN;
    let lowest_node = nodes
        .iter()
        .map(|node| node.y + NODE_HEIGHT)
        .fold(0.0, f64::max);
    let lowest_label = edges.iter().map(|edge| edge.label_at.1).fold(0.0, f64::max);
    MapLayout {
        nodes,
        edges,
        width,
        height: lowest_node.max(lowest_label) + MARGIN,
    }
}

/// `links` without the edges that close a cycle (to a node on the depth-first walk's path).
fn without_back_edges(n: usize, links: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (idx, &(caller, callee)) in links.iter().enumerate() {
        out_of[caller].push((callee, idx));
    }
    // 0: not seen, 1: on the path, 2: done.
    let mut state = vec![0u8; n];
    let mut is_back = vec![false; links.len()];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(callee, link)) = out_of[node].get(*next) {
                *next += 1;
                match state[callee] {
                    0 => {
                        state[callee] = 1;
                        stack.push((callee, 0));
                    }
                    1 => is_back[link] = true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    links
        .iter()
        .zip(is_back)
        .filter(|(_, back)| !back)
        .map(|(link, _)| *link)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_metrics::{MapEdge, MapNode};

    fn stats(requests: u64) -> Stats {
        Stats {
            requests,
            errors: 0,
            error_rate: 0.0,
            p50_nanos: Some(1_000_000),
            p95_nanos: Some(2_000_000),
            p99_nanos: Some(3_000_000),
        }
    }

    /// A chain of `depth` layers, `width` services per layer, each calling every service of
    /// the next layer, plus a call back from the last to the first (a cycle).
    fn grid(width: usize, depth: usize) -> ServiceMap {
        let name = |layer: usize, i: usize| format!("svc-{layer}-{i}");
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for layer in 0..depth {
            for i in 0..width {
                nodes.push(MapNode {
                    name: name(layer, i),
                    is_peer: false,
                    stats: stats(10),
                });
                if layer + 1 < depth {
                    for j in 0..width {
                        edges.push(MapEdge {
                            caller: name(layer, i),
                            callee: name(layer + 1, j),
                            stats: stats(3),
                        });
                    }
                }
            }
        }
        edges.push(MapEdge {
            caller: name(depth - 1, 0),
            callee: name(0, 0),
            stats: stats(1),
        });
        ServiceMap { nodes, edges }
    }

    /// Issue 23: 50 services laid out with callers left of callees and no two boxes or two
    /// labels overlapping.
    #[test]
    fn fifty_services_are_layered_without_overlaps() {
        let map = grid(5, 10);
        let placed = layout(&map);
        assert_eq!(placed.nodes.len(), 50);
        let node = |name: &str| placed.nodes.iter().find(|n| n.name == name).unwrap();
        for edge in &map.edges[..map.edges.len() - 1] {
            assert!(node(&edge.caller).x < node(&edge.callee).x, "{edge:?}");
        }
        for (i, a) in placed.nodes.iter().enumerate() {
            for b in &placed.nodes[i + 1..] {
                let apart = (a.x - b.x).abs() >= NODE_WIDTH || (a.y - b.y).abs() >= NODE_HEIGHT;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        for (i, a) in placed.edges.iter().enumerate() {
            for b in &placed.edges[i + 1..] {
                if a.label_at.0 == b.label_at.0 {
                    assert!(
                        (a.label_at.1 - b.label_at.1).abs() >= LABEL_HEIGHT,
                        "{a:?} {b:?}"
                    );
                }
            }
        }
        assert!(
            placed.height
                >= placed
                    .edges
                    .iter()
                    .map(|e| e.label_at.1)
                    .fold(0.0, f64::max)
        );
    }

    #[test]
    fn a_chain_orders_its_layers_and_labels_say_what_they_count() {
        let map = ServiceMap {
            nodes: vec![
                MapNode {
                    name: "db".into(),
                    is_peer: true,
                    stats: stats(4),
                },
                MapNode {
                    name: "api".into(),
                    is_peer: false,
                    stats: stats(2),
                },
                MapNode {
                    name: "web".into(),
                    is_peer: false,
                    stats: stats(1),
                },
            ],
            edges: vec![
                MapEdge {
                    caller: "web".into(),
                    callee: "api".into(),
                    stats: stats(2),
                },
                MapEdge {
                    caller: "api".into(),
                    callee: "db".into(),
                    stats: stats(4),
                },
            ],
        };
        let placed = layout(&map);
        let layers: Vec<(&str, usize)> = placed
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.layer))
            .collect();
        assert_eq!(layers, vec![("db", 2), ("api", 1), ("web", 0)]);
        assert_eq!(placed.nodes[0].label, "4 req · 0.0 % err · p95 2 ms");
    }
}
