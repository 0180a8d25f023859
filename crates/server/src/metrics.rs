//! The Prometheus metrics of the live service, in one registry served at /metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicI64, AtomicU64};

/// An event's or a command's kind.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// The kind, as journaled.
    pub kind: String,
}

/// Why an inbound message was rejected.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The reason, in a word or two.
    pub reason: String,
}

/// A long-running task of the service (`tasks::Supervisor`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabel {
    /// The task's name.
    pub task: String,
}

/// A part `/healthz` reports on (`health::check`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartLabel {
    /// The part's name.
    pub part: String,
}

/// A hook endpoint (subscription id) and how a delivery to it failed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointFailureLabel {
    /// The subscription id.
    pub endpoint: String,
    /// How the delivery failed.
    pub kind: String,
}

/// Every metric the service counts, registered under the `labflight` prefix.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// MQTT messages received.
    pub mqtt_received: Counter,
    /// MQTT messages that arrived on the district topics while the service
    /// listens on both topic layouts (devices not yet moved to their partition's).
    pub mqtt_district_layout_received: Counter,
    /// Inbound messages rejected, by reason.
    pub rejected: Family<ReasonLabel, Counter>,
    /// Events accepted into the journal, by kind.
    pub accepted: Family<KindLabel, Counter>,
    /// QoS 1 redeliveries already journaled.
    pub duplicates: Counter,
    /// Valid telemetry samples superseded by a later one in the same batch.
    pub superseded: Counter,
    /// Commands issued by the dispatcher, by kind.
    pub commands: Family<KindLabel, Counter>,
    /// Times the service lost and re-made its broker connection.
    pub mqtt_reconnects: Counter,
    /// Subscriptions the broker refused (each is made again).
    pub mqtt_subscriptions_refused: Counter,
    /// Sequence number of the last journaled event.
    pub journal_seq: Gauge<i64, AtomicI64>,
    /// Transactions committed.
    pub batches: Counter,
    /// Dispatcher snapshots saved for a fast restart.
    pub snapshots: Counter,
    /// 1 while a supervised task runs, 0 once it stopped.
    pub task_up: Family<TaskLabel, Gauge>,
    /// Times a supervised task was restarted.
    pub task_restarts: Family<TaskLabel, Counter>,
    /// 1 while a part is healthy, as `/healthz` last judged it.
    pub part_up: Family<PartLabel, Gauge>,
    /// How long the core took to answer the last health probe, in seconds.
    pub core_lag_seconds: Gauge<f64, AtomicU64>,
    /// Failed hook delivery attempts, by endpoint and kind.
    pub delivery_failures: Family<EndpointFailureLabel, Counter>,
    /// Endpoint delivery tasks that panicked (caught; the others went on).
    pub delivery_task_panics: Counter,
    /// Endpoints tried again after their task panicked.
    pub delivery_task_restarts: Counter,
    /// Age of the oldest undelivered (pending) outbox item, in service seconds.
    pub delivery_oldest_pending_seconds: Gauge<i64, AtomicI64>,
    /// Wall-clock Unix seconds of the delivery worker's last completed round.
    pub delivery_worker_heartbeat: Gauge<i64, AtomicI64>,
    /// Commands handed to the broker connection, not yet acknowledged (PUBACK).
    pub commands_awaiting_puback: Gauge<i64, AtomicI64>,
    /// Seconds the oldest of those has waited (0: none waiting).
    pub oldest_unacknowledged_command_seconds: Gauge<i64, AtomicI64>,
    /// 1 while the service is connected to its broker, else 0.
    pub mqtt_connected: Gauge<i64, AtomicI64>,
    /// Times the MQTT poll loop found the core's inbound queue full and waited
    /// (backpressure: it reads nothing more from the broker meanwhile).
    pub inbound_queue_full: Counter,
    /// Messages waiting in the core's inbound queue (at most its bound).
    pub inbound_queued: Gauge<i64, AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("labflight");
        let m = Metrics {
            registry: Registry::default(),
            mqtt_received: Counter::default(),
            mqtt_district_layout_received: Counter::default(),
            rejected: Family::default(),
            accepted: Family::default(),
            duplicates: Counter::default(),
            superseded: Counter::default(),
            commands: Family::default(),
            mqtt_reconnects: Counter::default(),
            mqtt_subscriptions_refused: Counter::default(),
            journal_seq: Gauge::default(),
            batches: Counter::default(),
            snapshots: Counter::default(),
            task_up: Family::default(),
            task_restarts: Family::default(),
            part_up: Family::default(),
            core_lag_seconds: Gauge::default(),
            delivery_failures: Family::default(),
            delivery_task_panics: Counter::default(),
            delivery_task_restarts: Counter::default(),
            delivery_oldest_pending_seconds: Gauge::default(),
            delivery_worker_heartbeat: Gauge::default(),
            commands_awaiting_puback: Gauge::default(),
            oldest_unacknowledged_command_seconds: Gauge::default(),
            mqtt_connected: Gauge::default(),
            inbound_queue_full: Counter::default(),
            inbound_queued: Gauge::default(),
        };
        registry.register(
            "mqtt_messages_received",
            "MQTT messages received",
            m.mqtt_received.clone(),
        );
        registry.register(
            "mqtt_district_layout_messages_received",
            "MQTT messages received on the district topics while listening on both layouts (devices not moved yet)",
            m.mqtt_district_layout_received.clone(),
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
            "mqtt_subscriptions_refused",
            "Subscriptions the broker refused (each is made again)",
            m.mqtt_subscriptions_refused.clone(),
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
            "inbound_queue_full",
            "Times the MQTT poll loop found the core's bounded inbound queue full and waited (backpressure on the broker)",
            m.inbound_queue_full.clone(),
        );
        registry.register(
            "inbound_queued",
            "Messages waiting in the core's bounded inbound queue",
            m.inbound_queued.clone(),
        );
        registry.register(
            "telemetry_superseded",
            "Valid drone telemetry samples superseded by a later one in the same batch (checked, not journaled)",
            m.superseded.clone(),
        );
        registry.register(
            "task_up",
            "1 while a supervised task of the service runs, 0 once it stopped",
            m.task_up.clone(),
        );
        registry.register(
            "task_restarts",
            "Times a supervised task stopped and was started again",
            m.task_restarts.clone(),
        );
        registry.register(
            "part_up",
            "1 while a part of the service (database, broker, core, delivery, outbox) is healthy",
            m.part_up.clone(),
        );
        registry.register(
            "core_lag_seconds",
            "Time the core took to answer the last health probe",
            m.core_lag_seconds.clone(),
        );
        registry.register(
            "delivery_failures",
            "Failed hook delivery attempts, by endpoint (subscription) and kind",
            m.delivery_failures.clone(),
        );
        registry.register(
            "delivery_task_panics",
            "Hook endpoint delivery tasks that panicked (caught; other endpoints unaffected)",
            m.delivery_task_panics.clone(),
        );
        registry.register(
            "delivery_task_restarts",
            "Hook endpoints tried again after their delivery task panicked",
            m.delivery_task_restarts.clone(),
        );
        registry.register(
            "delivery_oldest_pending_seconds",
            "Age in service seconds of the oldest undelivered outbox item (0: none)",
            m.delivery_oldest_pending_seconds.clone(),
        );
        registry.register(
            "delivery_worker_heartbeat",
            "Wall-clock Unix seconds of the delivery worker's last completed round",
            m.delivery_worker_heartbeat.clone(),
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

    /// Marks a supervised task running (or stopped).
    pub fn task_up(&self, task: &str, up: bool) {
        self.task_up
            .get_or_create(&TaskLabel {
                task: task.to_owned(),
            })
            .set(i64::from(up));
    }

    /// Counts one restart of a supervised task.
    pub fn task_restarted(&self, task: &str) {
        self.task_restarts
            .get_or_create(&TaskLabel {
                task: task.to_owned(),
            })
            .inc();
    }

    /// Marks a part healthy (or not), as `/healthz` judged it.
    pub fn part_up(&self, part: &str, up: bool) {
        self.part_up
            .get_or_create(&PartLabel {
                part: part.to_owned(),
            })
            .set(i64::from(up));
    }

    /// Counts one inbound message rejected for `reason`.
    pub fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts one event of `kind` accepted into the journal.
    pub fn accept(&self, kind: &str) {
        self.accepted
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Counts one command of `kind` issued.
    pub fn command(&self, kind: &str) {
        self.commands
            .get_or_create(&KindLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    /// Counts one failed hook delivery attempt to `endpoint`.
    pub fn delivery_failure(&self, endpoint: &str, kind: &str) {
        self.delivery_failures
            .get_or_create(&EndpointFailureLabel {
                endpoint: endpoint.to_owned(),
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
