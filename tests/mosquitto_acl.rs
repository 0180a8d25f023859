//! Proves `deploy/mosquitto/acl` on a real Mosquitto: a device cannot publish under
//! another device's id, cannot read another drone's commands or telemetry, each
//! role (drone, box, centre, courier van, lab integration, weather station)
//! publishes only its own topics, and a wrong password is refused, while the
//! service (`labflight`) sees and sends everything. Needs the `mosquitto` package;
//! fails (never skips) without it.

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, Publish, QoS,
    SubscribeReasonCode,
};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::timeout;

const PASSWORD: &str = "acl-test-password";
/// How long a message that must not arrive is waited for.
const SILENCE: Duration = Duration::from_millis(1500);
/// Upper bound for anything that must arrive (connack, suback, delivery).
const ARRIVAL: Duration = Duration::from_secs(5);
/// Upper bound for one client's event loop; the tests are far shorter.
const CLIENT_LIFETIME: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The broker
// ---------------------------------------------------------------------------

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/mosquitto")
}

/// `name` from the usual install paths, else from `PATH`.
fn find_binary(name: &str, usual: &[&str]) -> PathBuf {
    for p in usual {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    if let Ok(out) = Command::new("which").arg(name).output() {
        let found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !found.is_empty() {
            return PathBuf::from(found);
        }
    }
    panic!("{name} not found: mosquitto not installed: apt-get install mosquitto");
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The active `key value` lines of a Mosquitto config.
fn config_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((k, v)) => (k.to_owned(), v.trim().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

fn setting<'a>(lines: &'a [(String, String)], key: &str) -> Option<&'a str> {
    lines
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(unix)]
fn readable_by_all(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn readable_by_all(_path: &Path, _mode: u32) {}

/// A Mosquitto child process on a free loopback port, with the deploy ACL; killed
/// (and its folder removed) on drop. On a panic its log is printed instead.
#[derive(Debug)]
struct Broker {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Broker {
    fn start() -> Broker {
        let mosquitto = find_binary(
            "mosquitto",
            &[
                "/usr/sbin/mosquitto",
                "/usr/bin/mosquitto",
                "/usr/local/sbin/mosquitto",
            ],
        );
        let passwd_tool = find_binary(
            "mosquitto_passwd",
            &[
                "/usr/bin/mosquitto_passwd",
                "/usr/local/bin/mosquitto_passwd",
            ],
        );

        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("labflight-acl-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Mosquitto started as root drops to the `mosquitto` user before it
        // reads the password file and ACL, so they must be readable by others.
        readable_by_all(&dir, 0o755);

        let acl = dir.join("acl");
        std::fs::copy(deploy_dir().join("acl"), &acl).expect("deploy/mosquitto/acl");
        readable_by_all(&acl, 0o644);

        let passwd = dir.join("passwd");
        for (i, user) in [
            "labflight",
            "D01",
            "D02",
            "BX-LH-C001-01",
            "LH-C001",
            "V-1",
            "LAB-PH",
            "weather-station",
        ]
        .into_iter()
        .enumerate()
        {
            let mut cmd = Command::new(&passwd_tool);
            if i == 0 {
                cmd.arg("-c");
            }
            let out = cmd
                .arg("-b")
                .arg(&passwd)
                .arg(user)
                .arg(PASSWORD)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "mosquitto_passwd {user}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        readable_by_all(&passwd, 0o644);

        // The deploy config's auth settings, with this test's port and paths.
        let deploy = std::fs::read_to_string(deploy_dir().join("mosquitto.conf"))
            .expect("deploy/mosquitto/mosquitto.conf");
        let deploy = config_lines(&deploy);
        assert_eq!(
            setting(&deploy, "allow_anonymous"),
            Some("false"),
            "deploy config must refuse anonymous clients"
        );
        assert_eq!(
            setting(&deploy, "listener"),
            Some("1883 127.0.0.1"),
            "deploy config listens on loopback by default"
        );
        for key in ["password_file", "acl_file", "persistence_location"] {
            let v = setting(&deploy, key).unwrap_or_else(|| panic!("deploy config sets {key}"));
            assert!(
                v.starts_with('/'),
                "deploy config: {key} {v} must be absolute"
            );
        }
        let port = free_port();
        let mut conf = String::new();
        if let Some(v) = setting(&deploy, "per_listener_settings") {
            conf.push_str(&format!("per_listener_settings {v}\n"));
        }
        // The deploy packet limit too (its value is checked against the service's
        // in crates/mqtt, connect::tests).
        let max_packet =
            setting(&deploy, "max_packet_size").expect("deploy config sets max_packet_size");
        conf.push_str(&format!("max_packet_size {max_packet}\n"));
        conf.push_str(&format!(
            "listener {port} 127.0.0.1\n\
             allow_anonymous false\n\
             password_file {}\n\
             acl_file {}\n\
             persistence false\n\
             log_dest stderr\n\
             log_type all\n",
            passwd.display(),
            acl.display()
        ));
        let conf_path = dir.join("mosquitto.conf");
        std::fs::write(&conf_path, conf).unwrap();
        readable_by_all(&conf_path, 0o644);

        let log = std::fs::File::create(dir.join("broker.log")).unwrap();
        let child = Command::new(&mosquitto)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", mosquitto.display()));
        let mut broker = Broker { child, dir, port };
        broker.wait_ready();
        broker
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default()
    }

    /// Polls a TCP connect every 50 ms for up to 5 s.
    fn wait_ready(&mut self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("mosquitto exited with {status}:\n{}", self.log());
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not accept on {addr} within 5 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- mosquitto log ({}) ---\n{}",
                self.dir.display(),
                self.log()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

/// What a client's event loop reports to the test.
#[derive(Debug)]
enum Seen {
    ConnAck,
    SubAck(Vec<SubscribeReasonCode>),
    PubAck,
    Publish(Publish),
    Error(ConnectionError),
}

/// One MQTT 3.1.1 client whose event loop runs in its own task (bounded by
/// `CLIENT_LIFETIME`, stopping at the first error) and forwards what it sees.
#[derive(Debug)]
struct Client {
    name: String,
    mqtt: AsyncClient,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Client {
    fn start(port: u16, user: &str, password: &str) -> Client {
        let mut o = MqttOptions::new(format!("acl-test-{user}"), "127.0.0.1", port);
        o.set_credentials(user, password);
        o.set_keep_alive(Duration::from_secs(10));
        o.set_clean_session(true);
        let (mqtt, mut events) = AsyncClient::new(o, 50);
        let (tx, seen) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let _ = timeout(CLIENT_LIFETIME, async move {
                loop {
                    let seen = match events.poll().await {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => Seen::ConnAck,
                        Ok(Event::Incoming(Packet::SubAck(s))) => Seen::SubAck(s.return_codes),
                        Ok(Event::Incoming(Packet::PubAck(_))) => Seen::PubAck,
                        Ok(Event::Incoming(Packet::Publish(p))) => Seen::Publish(p),
                        Ok(_) => continue,
                        Err(e) => {
                            let _ = tx.send(Seen::Error(e));
                            return;
                        }
                    };
                    if tx.send(seen).is_err() {
                        return;
                    }
                }
            })
            .await;
        });
        Client {
            name: user.to_owned(),
            mqtt,
            seen,
        }
    }

    /// Connects and waits for the broker's CONNACK.
    async fn connect(port: u16, user: &str) -> Client {
        let mut c = Client::start(port, user, PASSWORD);
        match c.next(ARRIVAL).await {
            Some(Seen::ConnAck) => c,
            other => panic!("{user}: expected CONNACK, got {other:?}"),
        }
    }

    async fn next(&mut self, within: Duration) -> Option<Seen> {
        timeout(within, self.seen.recv()).await.ok().flatten()
    }

    async fn subscribe(&mut self, filter: &str, qos: QoS) -> SubscribeReasonCode {
        self.mqtt.subscribe(filter, qos).await.unwrap();
        let deadline = Instant::now() + ARRIVAL;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Seen::SubAck(codes)) => {
                    assert_eq!(codes.len(), 1, "{}: {codes:?}", self.name);
                    return codes[0];
                }
                Some(Seen::Error(e)) => panic!("{}: subscribe {filter}: {e}", self.name),
                Some(_) => {}
                None => panic!("{}: no SUBACK for {filter} within {ARRIVAL:?}", self.name),
            }
        }
    }

    async fn publish(&self, topic: &str, qos: QoS, payload: &str) {
        self.mqtt
            .publish(topic, qos, false, payload.as_bytes().to_vec())
            .await
            .unwrap();
    }

    /// Waits for the PUBACK of a QoS 1 publish: the broker has processed it.
    async fn expect_puback(&mut self) {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Seen::PubAck) => return,
                Some(Seen::Error(e)) => panic!("{}: {e}", self.name),
                Some(_) => {}
                None => panic!("{}: no PUBACK within {ARRIVAL:?}", self.name),
            }
        }
    }

    /// Every message received within `within` (waits the whole time).
    async fn collect_all(&mut self, within: Duration) -> Vec<Publish> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return got;
            }
            match self.next(left).await {
                Some(Seen::Publish(p)) => got.push(p),
                Some(Seen::Error(e)) => panic!("{}: {e}", self.name),
                Some(_) => {}
                None => return got,
            }
        }
    }

    /// The first message on `topic` within `within`, or a panic.
    async fn expect_on(&mut self, topic: &str, within: Duration) -> Publish {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Seen::Publish(p)) if p.topic == topic => return p,
                Some(Seen::Error(e)) => panic!("{}: {e}", self.name),
                Some(_) => {}
                None => panic!("{}: nothing on {topic} within {within:?}", self.name),
            }
        }
    }

    /// Asserts that no message at all arrives within `within`.
    async fn expect_silence(&mut self, within: Duration, why: &str) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match self.next(left).await {
                Some(Seen::Publish(p)) => panic!(
                    "{}: {why}, yet received {} {:?}",
                    self.name, p.topic, p.payload
                ),
                Some(Seen::Error(e)) => panic!("{}: {e}", self.name),
                Some(_) => {}
                None => return,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_publish_under_another_devices_id() {
    let broker = Broker::start();
    let mut service = Client::connect(broker.port, "labflight").await;
    let granted = service.subscribe("labflight/v1/#", QoS::AtLeastOnce).await;
    assert_eq!(granted, SubscribeReasonCode::Success(QoS::AtLeastOnce));
    let mut d01 = Client::connect(broker.port, "D01").await;

    // Forged: D01 speaks for drone D02 and for box BX-C001. QoS 1, so the
    // PUBACKs prove the broker has processed (and dropped) them.
    let forged = [
        "labflight/v1/drones/D02/telemetry",
        "labflight/v1/boxes/BX-C001/events",
    ];
    for topic in forged {
        d01.publish(topic, QoS::AtLeastOnce, "forged by D01").await;
        d01.expect_puback().await;
    }
    // Genuine: D01 under its own id (telemetry at QoS 0, as in the contract;
    // boxes/%u/# is granted to every device id).
    let own = [
        "labflight/v1/drones/D01/telemetry",
        "labflight/v1/boxes/D01/events",
    ];
    for topic in own {
        d01.publish(topic, QoS::AtMostOnce, "genuine D01").await;
    }

    let got = service.collect_all(SILENCE).await;
    let topics: Vec<&str> = got.iter().map(|p| p.topic.as_str()).collect();
    for topic in forged {
        assert!(
            !topics.contains(&topic),
            "the service received D01's forged publish on {topic}: {topics:?}"
        );
    }
    for topic in own {
        assert!(
            topics.contains(&topic),
            "the service missed D01's own publish on {topic}: {topics:?}"
        );
    }
    assert!(got.iter().all(|p| p.payload.as_ref() == b"genuine D01"));
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_telemetry_reach_only_their_own_drone_and_the_service() {
    let broker = Broker::start();
    let mut service = Client::connect(broker.port, "labflight").await;
    service.subscribe("labflight/v1/#", QoS::AtLeastOnce).await;
    let mut d02 = Client::connect(broker.port, "D02").await;
    let granted = d02
        .subscribe("labflight/v1/drones/D02/cmd", QoS::AtLeastOnce)
        .await;
    assert_eq!(granted, SubscribeReasonCode::Success(QoS::AtLeastOnce));

    // D01 tries to listen to D02's commands and to every drone's telemetry.
    // Mosquitto may acknowledge these subscriptions (2.0.11 does) or refuse
    // them with 0x80; either way nothing may be delivered.
    let mut d01 = Client::connect(broker.port, "D01").await;
    for filter in [
        "labflight/v1/drones/D02/cmd",
        "labflight/v1/drones/+/telemetry",
        "labflight/v1/#",
    ] {
        let code = d01.subscribe(filter, QoS::AtLeastOnce).await;
        eprintln!("D01 subscribe {filter}: {code:?}");
    }

    let cmd = "labflight/v1/drones/D02/cmd";
    service
        .publish(cmd, QoS::AtLeastOnce, r#"{"cmd":"return_to_pad"}"#)
        .await;
    let got = d02.expect_on(cmd, ARRIVAL).await;
    assert_eq!(got.payload.as_ref(), br#"{"cmd":"return_to_pad"}"#);
    assert_eq!(got.qos, QoS::AtLeastOnce);

    let telemetry = "labflight/v1/drones/D02/telemetry";
    d02.publish(telemetry, QoS::AtMostOnce, "D02 position")
        .await;
    let got = service.expect_on(telemetry, ARRIVAL).await;
    assert_eq!(got.payload.as_ref(), b"D02 position");

    // Both messages have reached their rightful readers; D01 gets nothing.
    d01.expect_silence(SILENCE, "D01 may read only its own cmd topic")
        .await;
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused() {
    let broker = Broker::start();
    let mut intruder = Client::start(broker.port, "D01", "not-the-password");
    match intruder.next(ARRIVAL).await {
        Some(Seen::Error(ConnectionError::ConnectionRefused(
            ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword,
        ))) => {}
        other => panic!("expected the broker to refuse D01's wrong password, got {other:?}"),
    }
    let mut stranger = Client::start(broker.port, "D99", PASSWORD);
    match stranger.next(ARRIVAL).await {
        Some(Seen::Error(ConnectionError::ConnectionRefused(
            ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword,
        ))) => {}
        other => panic!("expected the broker to refuse unknown user D99, got {other:?}"),
    }
    // The right password still works, so the refusals above are about the
    // credentials, not a broken broker.
    Client::connect(broker.port, "D01").await;
    drop(broker);
}

/// Each role publishes its own topics and none of another role's or device's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_publishes_only_its_own_topics() {
    let broker = Broker::start();
    let mut service = Client::connect(broker.port, "labflight").await;
    service.subscribe("labflight/v1/#", QoS::AtLeastOnce).await;
    let p = "labflight/v1";
    // (login, topics it may publish, topics it may not).
    let roles: [(&str, Vec<String>, Vec<String>); 6] = [
        (
            "D01",
            vec![
                format!("{p}/drones/D01/telemetry"),
                format!("{p}/drones/D01/events"),
            ],
            vec![
                format!("{p}/drones/D01/cmd"),
                format!("{p}/weather"),
                format!("{p}/forecast"),
                format!("{p}/labs/LAB-PH/events"),
            ],
        ),
        (
            "BX-LH-C001-01",
            vec![
                format!("{p}/boxes/BX-LH-C001-01/events"),
                format!("{p}/boxes/BX-LH-C001-01/telemetry"),
            ],
            vec![
                format!("{p}/boxes/BX-LH-C001-02/events"),
                format!("{p}/stations/LH-C001/events"),
                format!("{p}/labs/LAB-PH/events"),
            ],
        ),
        (
            "LH-C001",
            vec![format!("{p}/stations/LH-C001/events")],
            vec![
                format!("{p}/stations/LH-C002/events"),
                format!("{p}/stations/LH-C001/cmd"),
                format!("{p}/boxes/BX-LH-C001-01/events"),
            ],
        ),
        (
            "V-1",
            vec![format!("{p}/couriers/V-1/events")],
            vec![
                format!("{p}/couriers/V-2/events"),
                format!("{p}/couriers/V-1/cmd"),
                format!("{p}/labs/LAB-PH/events"),
                format!("{p}/alerts"),
            ],
        ),
        (
            "LAB-PH",
            vec![format!("{p}/labs/LAB-PH/events")],
            vec![
                format!("{p}/labs/LAB-CH/events"),
                format!("{p}/boxes/BX-LH-C001-01/events"),
                format!("{p}/rejected"),
            ],
        ),
        (
            "weather-station",
            vec![format!("{p}/weather"), format!("{p}/forecast")],
            vec![
                format!("{p}/labs/LAB-PH/events"),
                format!("{p}/service/status"),
                format!("{p}/drones/D01/telemetry"),
            ],
        ),
    ];
    for (user, own, foreign) in &roles {
        let mut c = Client::connect(broker.port, user).await;
        // QoS 1: each PUBACK proves the broker processed (or dropped) the publish.
        for topic in own.iter().chain(foreign) {
            c.publish(topic, QoS::AtLeastOnce, &format!("{user} on {topic}"))
                .await;
            c.expect_puback().await;
        }
        let got = service.collect_all(SILENCE).await;
        let topics: Vec<&str> = got.iter().map(|p| p.topic.as_str()).collect();
        for topic in own {
            assert!(
                topics.contains(&topic.as_str()),
                "{user} could not publish its own {topic}: {topics:?}"
            );
        }
        for topic in foreign {
            assert!(
                !topics.contains(&topic.as_str()),
                "{user} published on {topic}, not its own"
            );
        }
        assert_eq!(got.len(), own.len(), "{user}: {topics:?}");
    }
    drop(broker);
}

/// A courier van reads its own pickup requests only; a lab integration reads nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_van_reads_only_its_own_requests() {
    let broker = Broker::start();
    let service = Client::connect(broker.port, "labflight").await;
    let mut van = Client::connect(broker.port, "V-1").await;
    for filter in [
        "labflight/v1/couriers/V-1/cmd",
        "labflight/v1/couriers/+/cmd",
    ] {
        van.subscribe(filter, QoS::AtLeastOnce).await;
    }
    let mut lab = Client::connect(broker.port, "LAB-PH").await;
    lab.subscribe("labflight/v1/#", QoS::AtLeastOnce).await;
    service
        .publish("labflight/v1/couriers/V-2/cmd", QoS::AtLeastOnce, "for V-2")
        .await;
    service
        .publish("labflight/v1/couriers/V-1/cmd", QoS::AtLeastOnce, "for V-1")
        .await;
    let got = van
        .expect_on("labflight/v1/couriers/V-1/cmd", ARRIVAL)
        .await;
    assert_eq!(got.payload.as_ref(), b"for V-1");
    van.expect_silence(SILENCE, "V-1 may read only its own requests")
        .await;
    lab.expect_silence(SILENCE, "a lab integration reads nothing")
        .await;
    drop(broker);
}
