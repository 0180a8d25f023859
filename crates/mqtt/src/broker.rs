//! The embedded broker (rumqttd) that `serve` and `demo` start when no external
//! broker is configured: one MQTT 3.1.1 listener on 127.0.0.1, running on its own
//! threads for as long as the process lives.

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Starts the broker on `addr` (port 0 picks a free one) and waits until it accepts
/// connections; returns the address it listens on.
pub fn start_embedded(addr: SocketAddr) -> Result<SocketAddr, String> {
    let addr = if addr.port() == 0 {
        let l = std::net::TcpListener::bind(addr).map_err(|e| format!("MQTT {addr}: {e}"))?;
        l.local_addr().map_err(|e| e.to_string())?
    } else {
        addr
    };
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return Err(format!(
            "MQTT port {addr} is already in use; choose another with --mqtt-port"
        ));
    }
    let server = ServerSettings {
        name: "labflight-v4".into(),
        listen: addr,
        tls: None,
        next_connection_delay_ms: 0,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            // Above the service's own limit, so oversized payloads reach the service
            // and are rejected with a reason instead of silently cutting the client.
            max_payload_size: 2 * 1024 * 1024,
            max_inflight_count: 500,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 1_000,
            // The router keeps recent messages in segments: this bounds the
            // embedded broker's memory to about 50 MB.
            max_segment_size: 5 * 1024 * 1024,
            max_segment_count: 10,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    };
    std::thread::Builder::new()
        .name("rumqttd".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("embedded MQTT broker stopped: {e}");
            }
        })
        .map_err(|e| e.to_string())?;
    for _ in 0..100 {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
            return Ok(addr);
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    Err(format!("embedded MQTT broker did not start on {addr}"))
}
