//! Where the service map draws its nodes, edges and labels: a layered layout (callers left,
//! callees right). Layers by longest path from the callers (cycles are cut at the number of
//! nodes), order within a layer by the mean position of each node's neighbours (a few sweeps
//! left to right and back, which removes most crossings), one row per node. Each edge is a
//! cubic curve from the caller's right side to the callee's left side, and its label sits on
//! the curve: at its midpoint, or slid along it to the nearest place where the label covers no
//! other label and no node. Where the labels of a busy gap find no such place, the rows move
//! apart and the labels are placed again; a call across several layers, whose curve may run
//! through the nodes between, takes the nearest free place above or below its curve.
//!
//! **Invariant:** no two labels overlap, and no label covers a node.

use crate::layout::{format_duration, format_percent};
use crate::service_metrics::{ServiceMap, Stats};

pub const NODE_WIDTH: f64 = 220.0;
pub const NODE_HEIGHT: f64 = 44.0;
pub const ROW_GAP: f64 = 20.0;
/// Space between layers, for the edges and their labels.
pub const COLUMN_GAP: f64 = 200.0;
pub const LABEL_HEIGHT: f64 = 14.0;
pub const MARGIN: f64 = 16.0;
/// A generous width of a label's character (11 px sans-serif, as the page draws it): labels
/// are measured without a browser.
pub const LABEL_CHAR_WIDTH: f64 = 6.2;
/// Free space kept around a label, so that neighbours do not touch.
const LABEL_PADDING: f64 = 2.0;
/// Where along its curve (0 at the caller, 1 at the callee) a label may sit, best first: the
/// midpoint, then steps of 1/40 to either side, as far as 0.1 and 0.9.
fn label_positions() -> impl Iterator<Item = f64> {
    (0..33).map(|k: i32| {
        let side = if k % 2 == 1 { -1.0 } else { 1.0 };
        0.5 + side * f64::from((k + 1) / 2) / 40.0
    })
}
/// How many steps of a label's height above or below its curve a label is looked for, before
/// it takes the first free place above or below the midpoint.
const NEAR_STEPS: usize = 6;
/// Row spacings tried, as multiples of the smallest, until every label finds a place.
const SPACINGS: [f64; 8] = [1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0];

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
    /// A cubic curve from the caller's right side to the callee's left side (or around, for a
    /// call back): `from`, the two control points, `to`.
    pub from: (f64, f64),
    pub controls: [(f64, f64); 2],
    pub to: (f64, f64),
    /// The label's centre, a point of the curve.
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

/// A label's box (left, top, width, height) around its centre.
pub fn label_box(label: &str, centre: (f64, f64)) -> (f64, f64, f64, f64) {
    let width = label.chars().count() as f64 * LABEL_CHAR_WIDTH;
    (
        centre.0 - width / 2.0,
        centre.1 - LABEL_HEIGHT / 2.0,
        width,
        LABEL_HEIGHT,
    )
}

/// The point at `t` (0 to 1) of the cubic curve `from`, `controls`, `to`.
pub fn point_on_curve(
    from: (f64, f64),
    controls: [(f64, f64); 2],
    to: (f64, f64),
    t: f64,
) -> (f64, f64) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (
        a * from.0 + b * controls[0].0 + c * controls[1].0 + d * to.0,
        a * from.1 + b * controls[0].1 + c * controls[1].1 + d * to.1,
    )
}

fn overlaps(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
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

    // The gap between layers holds the widest label beside the curves' ends.
    let widest_label = map
        .edges
        .iter()
        .map(|edge| stats_label(&edge.stats).chars().count() as f64 * LABEL_CHAR_WIDTH)
        .fold(0.0, f64::max);
    let column_gap = COLUMN_GAP.max(widest_label + 60.0);
    let x_of = |layer: usize| MARGIN + layer as f64 * (NODE_WIDTH + column_gap);
    let mut placed = None;
    for spacing in SPACINGS {
        let row_pitch = (NODE_HEIGHT + ROW_GAP) * spacing;
        let y_of = |row: f64| MARGIN + row * row_pitch;
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
        let (edges, all_on_curves) = place_edges(map, &nodes);
        placed = Some((nodes, edges));
        if all_on_curves {
            break;
        }
    }
    let (nodes, edges) = placed.expect("at least one spacing is tried");

    let right = |edge: &PlacedEdge| {
        let (left, _, width, _) = label_box(&edge.label, edge.label_at);
        left + width
    };
    let width = edges
        .iter()
        .map(right)
        .fold(x_of(n_layers.saturating_sub(1)) + NODE_WIDTH, f64::max)
        + MARGIN;
    let lowest_node = nodes
        .iter()
        .map(|node| node.y + NODE_HEIGHT)
        .fold(0.0, f64::max);
    let lowest_label = edges
        .iter()
        .map(|edge| edge.label_at.1 + LABEL_HEIGHT / 2.0)
        .fold(0.0, f64::max);
    MapLayout {
        nodes,
        edges,
        width,
        height: lowest_node.max(lowest_label) + MARGIN,
    }
}

/// The edges between placed nodes, each label on its curve where it covers no node and no
/// label placed before it (the least free to move first). A label that finds no such place
/// moves up or down from its curve to the nearest free place (off the curve, but over
/// nothing); `false` when that happened to a call to the next layer, which more space
/// between the rows would give a place on its curve. (A call across several layers may run
/// through the nodes between, at their height: more space does not free its curve.)
fn place_edges(map: &ServiceMap, nodes: &[PlacedNode]) -> (Vec<PlacedEdge>, bool) {
    let node_of = |name: &str| nodes.iter().find(|node| node.name == name);
    let mut edges: Vec<PlacedEdge> = map
        .edges
        .iter()
        .filter_map(|edge| {
            let (caller, callee) = (node_of(&edge.caller)?, node_of(&edge.callee)?);
            let from = (caller.x + NODE_WIDTH, caller.y + NODE_HEIGHT / 2.0);
            let to = (callee.x, callee.y + NODE_HEIGHT / 2.0);
            // Bulging outwards for a call back to an earlier layer.
            let bend = ((to.0 - from.0).abs() / 2.0).max(60.0);
            let controls = [(from.0 + bend, from.1), (to.0 - bend, to.1)];
            Some(PlacedEdge {
                caller: edge.caller.clone(),
                callee: edge.callee.clone(),
                from,
                controls,
                to,
                label_at: point_on_curve(from, controls, to, 0.5),
                label: stats_label(&edge.stats),
                has_errors: edge.stats.errors > 0,
            })
        })
        .collect();
    // Calls to the next layer, flattest first, then the longer calls and calls back (their
    // long curves have the most places to choose from).
    let mut order: Vec<usize> = (0..edges.len()).collect();
    let next_layer = |edge: &PlacedEdge| {
        let layer_of = |name: &str| node_of(name).map_or(0, |node| node.layer);
        layer_of(&edge.callee) == layer_of(&edge.caller) + 1
    };
    order.sort_by(|&a, &b| {
        let rise = |edge: &PlacedEdge| (edge.to.1 - edge.from.1).abs();
        let (edge_a, edge_b) = (&edges[a], &edges[b]);
        next_layer(edge_b)
            .cmp(&next_layer(edge_a))
            .then(rise(edge_a).total_cmp(&rise(edge_b)))
            .then(a.cmp(&b))
    });
    let node_boxes: Vec<(f64, f64, f64, f64)> = nodes
        .iter()
        .map(|node| (node.x, node.y, NODE_WIDTH, NODE_HEIGHT))
        .collect();
    let mut taken: Vec<(f64, f64, f64, f64)> = Vec::with_capacity(edges.len());
    let mut all_on_curves = true;
    for idx in order {
        let is_to_next_layer = next_layer(&edges[idx]);
        let edge = &mut edges[idx];
        let free_at = |centre: (f64, f64)| {
            let (left, top, width, height) = label_box(&edge.label, centre);
            let padded = (
                left - LABEL_PADDING,
                top - LABEL_PADDING,
                width + 2.0 * LABEL_PADDING,
                height + 2.0 * LABEL_PADDING,
            );
            let blocked = node_boxes
                .iter()
                .chain(&taken)
                .any(|other| overlaps(padded, *other));
            (!blocked).then_some((centre, padded))
        };
        let on_curve = label_positions()
            .find_map(|t| free_at(point_on_curve(edge.from, edge.controls, edge.to, t)));
        let free = on_curve.or_else(|| {
            all_on_curves &= !is_to_next_layer;
            // Steps of a label's height below and above the curve's points, nearest first;
            // then from the midpoint on: a free place comes before those steps have passed
            // every box taken.
            let step = LABEL_HEIGHT + 2.0 * LABEL_PADDING;
            let beside = |(x, y): (f64, f64), k: usize| {
                let offset = k.div_ceil(2) as f64 * step;
                let y = if k % 2 == 1 { y + offset } else { y - offset };
                free_at((x, y)).filter(|(centre, _)| centre.1 >= LABEL_HEIGHT)
            };
            let near = (1..=NEAR_STEPS).find_map(|k| {
                label_positions()
                    .find_map(|t| beside(point_on_curve(edge.from, edge.controls, edge.to, t), k))
            });
            near.or_else(|| {
                (1..=2 * (taken.len() + node_boxes.len()) + 2)
                    .find_map(|k| beside(edge.label_at, k))
            })
        });
        if let Some((centre, padded)) = free {
            edge.label_at = centre;
            taken.push(padded);
        }
    }
    (edges, all_on_curves)
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

    /// How far `point` is from the edge's curve (sampled every 1/1000).
    fn distance_to_curve(edge: &PlacedEdge, point: (f64, f64)) -> f64 {
        (0..=1000)
            .map(|i| {
                let on = point_on_curve(edge.from, edge.controls, edge.to, f64::from(i) / 1000.0);
                ((on.0 - point.0).powi(2) + (on.1 - point.1).powi(2)).sqrt()
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Every label of a call to the next layer on its curve; no label covering a node or
    /// another label, or outside the map.
    fn check_labels(placed: &MapLayout) {
        let boxes: Vec<(f64, f64, f64, f64)> = placed
            .edges
            .iter()
            .map(|edge| label_box(&edge.label, edge.label_at))
            .collect();
        let layer_of = |name: &str| placed.nodes.iter().find(|n| n.name == name).unwrap().layer;
        for (i, (edge, a)) in placed.edges.iter().zip(&boxes).enumerate() {
            let distance = distance_to_curve(edge, edge.label_at);
            if layer_of(&edge.callee) == layer_of(&edge.caller) + 1 {
                assert!(distance < 1.0, "{edge:?} is off its curve");
            }
            // Off the curve, at most the steps looked at near it.
            let near = NEAR_STEPS.div_ceil(2) as f64 * (LABEL_HEIGHT + 2.0 * LABEL_PADDING);
            assert!(
                distance < near + 1.0,
                "{edge:?} is {distance} px off its curve"
            );
            for b in &boxes[i + 1..] {
                assert!(!overlaps(*a, *b), "labels {a:?} and {b:?} overlap");
            }
            for node in &placed.nodes {
                let node_box = (node.x, node.y, NODE_WIDTH, NODE_HEIGHT);
                assert!(!overlaps(*a, node_box), "{edge:?} covers {node:?}");
            }
            assert!(a.0 >= 0.0 && a.1 >= 0.0, "{a:?}");
            assert!(
                a.0 + a.2 <= placed.width && a.1 + a.3 <= placed.height,
                "{a:?}"
            );
        }
    }

    /// Issue 23: 50 services laid out with callers left of callees, no two boxes overlapping,
    /// and every edge's label on its curve, over no node and no other label. Each service
    /// calls all five of the next layer: 226 edges, 25 crossing every gap.
    #[test]
    fn fifty_services_are_layered_without_overlaps() {
        let map = grid(5, 10);
        let placed = layout(&map);
        assert_eq!(placed.nodes.len(), 50);
        assert_eq!(placed.edges.len(), map.edges.len());
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
        check_labels(&placed);
    }

    /// A sparser map of 60 services (each calling two of the next layer, a few calling back):
    /// labels on their curves' midpoints where nothing is in the way, at the first spacing.
    #[test]
    fn sparse_maps_keep_their_spacing_and_labels_sit_mid_curve() {
        let name = |i: usize| format!("svc-{i}");
        let nodes: Vec<MapNode> = (0..60)
            .map(|i| MapNode {
                name: name(i),
                is_peer: i >= 55,
                stats: stats(5),
            })
            .collect();
        let mut edges = Vec::new();
        for i in 0..60 {
            for callee in [2 * i + 1, 2 * i + 2] {
                if callee < 60 {
                    edges.push(MapEdge {
                        caller: name(i),
                        callee: name(callee),
                        stats: stats(2),
                    });
                }
            }
        }
        edges.push(MapEdge {
            caller: name(40),
            callee: name(3),
            stats: stats(1),
        });
        let map = ServiceMap { nodes, edges };
        let placed = layout(&map);
        check_labels(&placed);
        let pitch = {
            let mut ys: Vec<f64> = placed.nodes.iter().map(|n| n.y).collect();
            ys.sort_by(f64::total_cmp);
            ys.dedup();
            ys[1] - ys[0]
        };
        assert_eq!(pitch, NODE_HEIGHT + ROW_GAP);
        let mid_curve = placed
            .edges
            .iter()
            .filter(|edge| {
                let mid = point_on_curve(edge.from, edge.controls, edge.to, 0.5);
                (mid.0 - edge.label_at.0).abs() < 1e-9 && (mid.1 - edge.label_at.1).abs() < 1e-9
            })
            .count();
        assert!(
            mid_curve * 2 > placed.edges.len(),
            "{mid_curve} of {} labels at their midpoints",
            placed.edges.len()
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
