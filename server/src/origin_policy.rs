//! Which names and origins this server answers (`--allowed-hosts`, `--cors-origins`): the
//! policy the state holds. `api/origin.rs` applies it to each request (its module doc says why
//! a Host check and which rules).

use std::net::{IpAddr, SocketAddr};

/// The names and origins this server answers, built once from the command line.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// The bound address; `None` in tests that drive the router without a socket.
    listen: Option<SocketAddr>,
    /// Lower-case host names (no port) allowed besides the built-in ones.
    allowed_hosts: Vec<String>,
    any_host: bool,
    /// The machine's host name, allowed when listening on every interface.
    machine_name: Option<String>,
    /// Origins (`scheme://host[:port]`, lower case) allowed to export cross-origin.
    cors_origins: Vec<String>,
    any_cors_origin: bool,
}

impl OriginPolicy {
    pub fn new(
        listen: Option<SocketAddr>,
        allowed_hosts: &[String],
        cors_origins: &[String],
    ) -> Self {
        let allowed_hosts: Vec<String> = allowed_hosts
            .iter()
            .map(|host| normalise_host(host.trim()))
            .filter(|host| !host.is_empty())
            .collect();
        let cors_origins: Vec<String> = cors_origins
            .iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|origin| !origin.is_empty())
            .collect();
        let machine_name = listen
            .filter(|address| address.ip().is_unspecified())
            .and_then(|_| machine_host_name());
        Self {
            listen,
            any_host: allowed_hosts.iter().any(|host| host == "*"),
            allowed_hosts,
            machine_name,
            any_cors_origin: cors_origins.iter().any(|origin| origin == "*"),
            cors_origins,
        }
    }

    /// Whether a request with this `Host` (name or IP, with or without port) is answered.
    pub fn host_is_allowed(&self, host_header: &str) -> bool {
        if self.any_host {
            return true;
        }
        let host = normalise_host(host_header);
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return ip.is_loopback()
                || self
                    .listen
                    .is_some_and(|listen| listen.ip().is_unspecified() || listen.ip() == ip);
        }
        self.machine_name.as_deref() == Some(host.as_str()) || self.allowed_hosts.contains(&host)
    }

    /// Whether a page of `origin` may export to the cross-origin endpoints.
    pub fn cors_origin_is_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        origin != "null" && (self.any_cors_origin || self.cors_origins.contains(&origin))
    }
}

/// Lower case, without the port and a trailing dot: `LocalHost.:4318` → `localhost`,
/// `[::1]:4318` → `[::1]`.
pub(crate) fn normalise_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let without_port = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => host[..=end].to_owned(),
            None => host,
        }
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or_default().to_owned()
    } else {
        host
    };
    without_port.trim_end_matches('.').to_owned()
}

fn machine_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let name = normalise_host(&name);
    (!name.is_empty()).then_some(name)
}
