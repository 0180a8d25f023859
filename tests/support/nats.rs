//! A three-node NATS cluster serving MQTT, with the JetStream its MQTT sessions
//! live in, on free loopback ports: the clustered broker of the high-availability
//! tests. Started by the test, each node killed when dropped; `kill` takes one
//! node down mid-test.

use super::{Scratch, free_port, wait_port};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NATS: &str = "nats-server";

/// One node: its MQTT port and process.
struct Node {
    mqtt_port: u16,
    child: Option<Child>,
}

/// The cluster; its nodes in the order the URL names them.
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: Scratch,
}

impl NatsCluster {
    /// Starts three nodes and waits (bounded) until each takes a persistent MQTT
    /// session (JetStream has its leader). Panics naming what is missing.
    pub fn start() -> NatsCluster {
        let found = Command::new(NATS).arg("--version").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "nats-server is not installed (`apt-get install nats-server`; scripts/test.sh does): {found:?}"
        );
        let dir = Scratch::new("nats");
        let ports: Vec<(u16, u16, u16)> = (0..3)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, route, _)| format!("nats-route://127.0.0.1:{route}"))
            .collect();
        let mut nodes = Vec::new();
        for (i, (client, route, mqtt)) in ports.iter().enumerate() {
            let store = dir.path(&format!("n{i}"));
            let conf = dir.path(&format!("n{i}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "server_name: n{i}\nlisten: 127.0.0.1:{client}\njetstream {{ store_dir: \"{}\" }}\ncluster {{\n  name: labflight-test\n  listen: 127.0.0.1:{route}\n  routes: [{}]\n}}\nmqtt {{\n  listen: 127.0.0.1:{mqtt}\n  stream_replicas: 3\n  ack_wait: \"3s\"\n}}\n",
                    store.display(),
                    routes.join(", ")
                ),
            )
            .unwrap();
            let log = std::fs::File::create(dir.path(&format!("n{i}.log"))).unwrap();
            let child = Command::new(NATS)
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("nats-server starts");
            nodes.push(Node {
                mqtt_port: *mqtt,
                child: Some(child),
            });
        }
        let cluster = NatsCluster { nodes, dir };
        for (i, n) in cluster.nodes.iter().enumerate() {
            wait_port(n.mqtt_port, Duration::from_secs(30));
            cluster.wait_for_sessions(i);
        }
        cluster
    }

    /// Until node `i` grants a persistent session and a QoS 1 subscription
    /// (JetStream up, its meta leader elected), bounded at 60 s.
    fn wait_for_sessions(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let mut o =
                MqttOptions::new(format!("probe-{i}"), "127.0.0.1", self.nodes[i].mqtt_port);
            o.set_clean_session(false);
            let (client, mut conn) = Client::new(o, 10);
            let _ = client.subscribe("labflight-test/probe", QoS::AtLeastOnce);
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                match conn.recv_timeout(Duration::from_millis(200)) {
                    Ok(Ok(Event::Incoming(Packet::SubAck(ack))))
                        if ack
                            .return_codes
                            .iter()
                            .all(|c| matches!(c, rumqttc::SubscribeReasonCode::Success(_))) =>
                    {
                        let _ = client.disconnect();
                        return;
                    }
                    Ok(Err(_)) => break,
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!(
            "NATS node {i} took no persistent MQTT session within 60 s; its log: {}",
            self.log(i)
        );
    }

    /// `mqtt://` URL naming every node.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.mqtt_port))
            .collect();
        format!("mqtt://{}", nodes.join(","))
    }

    /// The MQTT port of node `i`.
    pub fn mqtt_port(&self, i: usize) -> u16 {
        self.nodes[i].mqtt_port
    }

    /// Kills node `i` (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Node `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path(&format!("n{i}.log"))).unwrap_or_default()
    }

    /// Where the nodes keep their files.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
