//! A three-node NATS cluster serving MQTT, with the JetStream its MQTT sessions
//! live in, on free loopback ports: the clustered broker of the high-availability
//! tests. Started by the test, each node killed when dropped; `kill` takes one
//! node down mid-test.

use super::{Scratch, free_port};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::net::TcpStream;
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
    /// session (JetStream has its leader). A node that dies at start (a port
    /// taken meanwhile by a test running beside this one) or a cluster that does
    /// not form in time is started again on fresh ports, three times at most;
    /// then it panics with every node's log.
    pub fn start() -> NatsCluster {
        let found = Command::new(NATS).arg("--version").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "nats-server is not installed (`apt-get install nats-server`; scripts/test.sh does): {found:?}"
        );
        let mut failures = Vec::new();
        for attempt in 1..=3 {
            let mut cluster = NatsCluster::spawn();
            match cluster.wait_until_formed() {
                Ok(()) => return cluster,
                Err(why) => {
                    eprintln!(
                        "NATS cluster, attempt {attempt} of 3: {why}; starting again on fresh ports"
                    );
                    let logs: Vec<String> = (0..3)
                        .map(|i| format!("n{i}: {}", cluster.log(i)))
                        .collect();
                    failures.push(format!("attempt {attempt}: {why}\n{}", logs.join("\n")));
                    for i in 0..cluster.nodes.len() {
                        cluster.kill(i);
                    }
                }
            }
        }
        panic!(
            "the NATS cluster did not form in three attempts:\n{}",
            failures.join("\n")
        );
    }

    /// Three nodes on nine distinct free ports, started.
    fn spawn() -> NatsCluster {
        let dir = Scratch::new("nats");
        let mut picked: Vec<u16> = Vec::new();
        while picked.len() < 9 {
            let p = free_port();
            if !picked.contains(&p) {
                picked.push(p);
            }
        }
        let ports: Vec<(u16, u16, u16)> = picked.chunks(3).map(|c| (c[0], c[1], c[2])).collect();
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
        NatsCluster { nodes, dir }
    }

    /// Until every node listens and takes a persistent session, or why not.
    fn wait_until_formed(&mut self) -> Result<(), String> {
        for i in 0..self.nodes.len() {
            let deadline = Instant::now() + Duration::from_secs(30);
            while TcpStream::connect(("127.0.0.1", self.nodes[i].mqtt_port)).is_err() {
                if let Some(dead) = self.exited() {
                    return Err(format!("node {dead} exited"));
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "nothing listens on node {i}'s MQTT port after 30 s"
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            self.wait_for_sessions(i)?;
        }
        Ok(())
    }

    /// Until node `i` grants a persistent session and a QoS 1 subscription
    /// (JetStream up, its meta leader elected), bounded at 60 s; or why not (a
    /// node exited, or the time ran out).
    fn wait_for_sessions(&mut self, i: usize) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(dead) = self.exited() {
                return Err(format!("node {dead} exited"));
            }
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
                        return Ok(());
                    }
                    Ok(Err(_)) => break,
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        Err(format!(
            "node {i} took no persistent MQTT session within 60 s"
        ))
    }

    /// The first node whose process has exited, if any.
    fn exited(&mut self) -> Option<usize> {
        self.nodes.iter_mut().position(|n| {
            n.child
                .as_mut()
                .is_some_and(|c| c.try_wait().ok().flatten().is_some())
        })
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
