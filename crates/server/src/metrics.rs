//! The Prometheus metrics of the live service, in one registry served at /metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicI64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub mqtt_received: Counter,
    pub rejected: Family<ReasonLabel, Counter>,
    pub accepted: Family<KindLabel, Counter>,
    pub duplicates: Counter,
    pub superseded: Counter,
    pub commands: Family<KindLabel, Counter>,
    pub mqtt_reconnects: Counter,
    pub journal_seq: Gauge<i64, AtomicI64>,
    pub batches: Counter,
    pub snapshots: Counter,
    /// Commands handed to the broker connection, not yet acknowledged (PUBACK).
    pub commands_awaiting_puback: Gauge<i64, AtomicI64>,
    /// Seconds the oldest of those has waited (0: none waiting).
    pub oldest_unacknowledged_command_seconds: Gauge<i64, AtomicI64>,
    /// 1 while the service is connected to its broker, else 0.
    pub mqtt_connected: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("labflight");
        let m = Metrics {
            registry: Registry::default(),
            mqtt_received: Counter::default(),
            rejected: Family::default(),
            accepted: Family::default(),
            duplicates: Counter::default(),
            superseded: Counter::default(),
            commands: Family::default(),
            mqtt_reconnects: Counter::default(),
            journal_seq: Gauge::default(),
            batches: Counter::default(),
            snapshots: Counter::default(),
            commands_awaiting_puback: Gauge::default(),
            oldest_unacknowledged_command_seconds: Gauge::default(),
            mqtt_connected: Gauge::default(),
        };
        registry.register(
            "mqtt_messages_received",
            "MQTT messages received",
            m.mqtt_received.clone(),
        );
        registry.register(
            "messages_rejected",
            "Inbound messages rejected, by reason",
            m.rejected.clone(),
        );
        registry.register(
            "events_accepted",
            "Events accepted into the journal, by kind",
            m.accepted.clone(),
        );
        registry.register(
            "duplicates_ignored",
            "QoS 1 redeliveries already journaled",
            m.duplicates.clone(),
        );
        registry.register(
            "commands_issued",
            "Commands issued by the dispatcher, by kind",
            m.commands.clone(),
        );
        registry.register(
            "mqtt_reconnects",
            "Times the service lost and re-made its broker connection",
            m.mqtt_reconnects.clone(),
        );
        registry.register(
            "journal_seq",
            "Sequence number of the last journaled event",
            m.journal_seq.clone(),
        );
        registry.register("store_batches", "Transactions committed", m.batches.clone());
        registry.register(
            "store_snapshots",
            "Dispatcher snapshots saved for a fast restart",
            m.snapshots.clone(),
        );
        registry.register(
            "telemetry_superseded",
            "Valid drone telemetry samples superseded by a later one in the same batch (checked, not journaled)",
            m.superseded.clone(),
        );
        registry.register(
            "commands_awaiting_puback",
            "Commands handed to the broker connection and not yet acknowledged by the broker (PUBACK)",
            m.commands_awaiting_puback.clone(),
        );
        registry.register(
            "oldest_unacknowledged_command_seconds",
            "Seconds the oldest command awaiting its PUBACK has waited (0 when none waits)",
            m.oldest_unacknowledged_command_seconds.clone(),
        );
        registry.register(
            "mqtt_connected",
            "1 while the service is connected to its MQTT broker, else 0",
            m.mqtt_connected.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn accept(&self, kind: &str) {
        self.accepted
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn command(&self, kind: &str) {
        self.commands
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
