//! The service's MQTT connection at work: the poll loop that forwards what devices
//! send to the core and follows each publish to its PUBACK, the task that hands
//! the core's output to the client in order, the recorder of acknowledged
//! commands, and the dispatcher's timer (which runs while the broker is reachable).

use crate::clock::Clock;
use crate::messages::{Inbound, Outbound};
use crate::puback::PubackTracker;
use chrono::Duration;
use labflight_mqtt::{NodeRotation, TopicLayout};
use labflight_server::Metrics;
use labflight_store::Store;
use rumqttc::{AsyncClient, Event as MqttEvent, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The service's connection to the broker: rumqttc's event loop, the broker
/// nodes it turns to after an error, and the deployment's topic layout.
pub(crate) struct BrokerLink {
    pub(crate) eventloop: rumqttc::EventLoop,
    pub(crate) rotation: NodeRotation,
    pub(crate) layout: TopicLayout,
}

/// Polls the broker connection forever: forwards publishes (stamped with the
/// service time they arrived, their topic in its district form whatever the
/// layout), follows PUBACKs (`pubacks`, then `acked`), re-subscribes after
/// every (re)connect (the layout's filters), follows each publish to its PUBACK,
/// and backs off while the broker is away. Never awaits a publish itself (that
/// would stall the loop that drains rumqttc's queue).
pub(crate) async fn poll_mqtt(
    link: BrokerLink,
    client: AsyncClient,
    in_tx: mpsc::Sender<Inbound>,
    metrics: Arc<Metrics>,
    connected: Arc<AtomicBool>,
    (pubacks, acked): (Arc<Mutex<PubackTracker>>, mpsc::UnboundedSender<String>),
    clock: Clock,
) {
    let BrokerLink {
        mut eventloop,
        mut rotation,
        layout,
    } = link;
    let filters = layout.service_filters();
    let mut backoff = std::time::Duration::from_millis(100);
    let mut connected_once = false;
    loop {
        match eventloop.poll().await {
            Ok(MqttEvent::Outgoing(Outgoing::Publish(pkid))) => {
                lock(&pubacks).sent(pkid);
            }
            Ok(MqttEvent::Outgoing(Outgoing::AwaitAck(pkid))) => {
                lock(&pubacks).held_back(pkid);
            }
            Ok(MqttEvent::Incoming(Packet::PubAck(ack))) => {
                let command = lock(&pubacks).acknowledged(ack.pkid);
                if let Some(id) = command {
                    let _ = acked.send(id);
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(mut p))) => {
                let arrived = clock.now();
                // Another partition's subtree stays as it is: the core refuses it
                // as a topic outside the table (counted, published on `rejected`).
                match layout.incoming(&p.topic) {
                    Some(canonical) if canonical != p.topic.as_str() => {
                        p.topic = canonical.into_owned();
                    }
                    Some(_) if matches!(layout, TopicLayout::Both(_)) => {
                        metrics.mqtt_district_layout_received.inc();
                    }
                    _ => {}
                }
                let msg = Inbound::Mqtt {
                    publish: p,
                    arrived,
                };
                if forward(&in_tx, msg, &metrics).await.is_err() {
                    return;
                }
            }
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                backoff = std::time::Duration::from_millis(100);
                connected.store(true, Ordering::SeqCst);
                metrics.mqtt_connected.set(1);
                let reconnect = std::mem::replace(&mut connected_once, true);
                if reconnect {
                    metrics.mqtt_reconnects.inc();
                }
                tokio::spawn(subscribe_all(client.clone(), filters.clone(), None));
                let _ = in_tx.send(Inbound::Connected { reconnect }).await;
            }
            Ok(MqttEvent::Incoming(Packet::SubAck(ack)))
                if labflight_mqtt::subscription_refused(&ack) =>
            {
                // Subscribing again is harmless (MQTT replaces a subscription to
                // the same filter), so all of them are made again.
                metrics.mqtt_subscriptions_refused.inc();
                tracing::error!(
                    "the broker refused a subscription (SUBACK {:?}); subscribing again in 500 ms",
                    ack.return_codes
                );
                let again = std::time::Duration::from_millis(500);
                tokio::spawn(subscribe_all(client.clone(), filters.clone(), Some(again)));
            }
            Ok(_) => {}
            Err(e) => {
                connected.store(false, Ordering::SeqCst);
                metrics.mqtt_connected.set(0);
                // A packet over MAX_PACKET_BYTES cannot be read, so it cannot be
                // acknowledged: the broker hands it over again after every
                // reconnect. Brokers are configured never to deliver one (the
                // embedded broker refuses it, Mosquitto's max_packet_size); if one
                // does anyway, say so, count it, and keep backing off.
                if let rumqttc::ConnectionError::MqttState(rumqttc::StateError::Deserialization(
                    rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size),
                )) = &e
                {
                    metrics.reject("packet_too_large");
                    tracing::error!(
                        "the broker delivered a {size}-byte packet, over the {} bytes the service reads; set the broker's max_packet_size to at most that",
                        labflight_mqtt::MAX_PACKET_BYTES
                    );
                }
                match rotation.after_error(&mut eventloop) {
                    Some(node) => tracing::warn!(
                        "MQTT connection: {e}; trying broker node {node} in {backoff:?}"
                    ),
                    None => tracing::warn!("MQTT connection: {e}; retrying in {backoff:?}"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Subscribes to every filter of the layout (after `delay`, if any).
async fn subscribe_all(
    client: AsyncClient,
    filters: Vec<String>,
    delay: Option<std::time::Duration>,
) {
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    for filter in filters {
        let qos = match labflight_mqtt::subscription_qos(&filter) {
            0 => QoS::AtMostOnce,
            _ => QoS::AtLeastOnce,
        };
        if let Err(e) = client.subscribe(&filter, qos).await {
            tracing::error!("subscribe {filter}: {e}");
        }
    }
}

/// Hands a message from the broker to the core's bounded queue. When the queue
/// is full the poll loop waits (counted in `inbound_queue_full`): it reads
/// nothing more meanwhile, so rumqttc's buffers, then TCP, then the broker hold
/// what comes next. Nothing is dropped here; QoS 1 messages stay unacknowledged
/// until the core has journaled them, and the broker sheds only QoS 0 telemetry
/// (see `labflight_mqtt::router_config` for the embedded one).
async fn forward(
    in_tx: &mpsc::Sender<Inbound>,
    msg: Inbound,
    metrics: &Metrics,
) -> Result<(), mpsc::error::SendError<Inbound>> {
    let sent = match in_tx.try_send(msg) {
        Ok(()) => Ok(()),
        Err(mpsc::error::TrySendError::Closed(m)) => Err(mpsc::error::SendError(m)),
        Err(mpsc::error::TrySendError::Full(m)) => {
            metrics.inbound_queue_full.inc();
            in_tx.send(m).await
        }
    };
    metrics
        .inbound_queued
        .set((in_tx.max_capacity() - in_tx.capacity()) as i64);
    sent
}

/// Hands what the core sends out to the MQTT client, in order, noting each
/// publish (and the command it carries) for its PUBACK.
pub(crate) async fn publish_out(
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    pubacks: Arc<Mutex<PubackTracker>>,
    layout: TopicLayout,
) {
    while let Some(o) = rx.recv().await {
        let result = match o {
            Outbound::Publish {
                topic,
                payload,
                retain,
                command_id,
            } => {
                // On the layout's topics (two while migrating: the command counts
                // as published when the first is acknowledged).
                let mut result = Ok(());
                let mut command_id = command_id;
                for topic in layout.outgoing(&topic) {
                    // Noted before the client can send it: rumqttc reports it sent
                    // (with its packet id) in the order publishes were handed over.
                    lock(&pubacks).handed(command_id.take());
                    result = client
                        .publish(topic, QoS::AtLeastOnce, retain, payload.clone())
                        .await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            Outbound::Ack(p) => client.ack(&p).await,
        };
        if let Err(e) = result {
            tracing::error!("MQTT client queue closed: {e}");
            return;
        }
    }
}

/// Marks commands published as their PUBACKs arrive (in small batches), and
/// keeps the gauges of commands awaiting one up to date.
pub(crate) async fn record_pubacks(
    store: Store,
    clock: Clock,
    mut acked: mpsc::UnboundedReceiver<String>,
    pubacks: Arc<Mutex<PubackTracker>>,
    metrics: Arc<Metrics>,
) {
    let mut ids = Vec::new();
    loop {
        ids.clear();
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            acked.recv_many(&mut ids, 1_000),
        )
        .await;
        if matches!(got, Ok(0)) {
            return;
        }
        // Retried: a PUBACK not recorded leaves the command to be re-sent after
        // a restart, which devices tolerate, but is worth a few tries.
        for attempt in 1..=3u64 {
            match store.mark_published(&ids, clock.now()).await {
                Ok(()) => break,
                Err(e) => {
                    crate::ownership::exit_if_fenced(&e);
                    tracing::warn!("store: marking {} commands published: {e}", ids.len());
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        let (waiting, oldest) = lock(&pubacks).awaiting();
        metrics.commands_awaiting_puback.set(waiting as i64);
        metrics
            .oldest_unacknowledged_command_seconds
            .set(oldest.map_or(0, |d| d.as_secs() as i64));
    }
}

fn lock(pubacks: &Mutex<PubackTracker>) -> std::sync::MutexGuard<'_, PubackTracker> {
    pubacks.lock().unwrap_or_else(|e| e.into_inner())
}

/// The dispatcher's timer: one tick per `tick_minutes` of service time, while the
/// broker is reachable (silence while it is not says nothing about the drones).
pub(crate) async fn tick(
    clock: Clock,
    tick_minutes: f64,
    in_tx: mpsc::Sender<Inbound>,
    connected: Arc<AtomicBool>,
) {
    let every = clock.wall(Duration::milliseconds((tick_minutes * 60_000.0) as i64));
    let mut interval = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        if !connected.load(Ordering::SeqCst) {
            continue;
        }
        if in_tx.send(Inbound::Tick).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labflight_mqtt::{BrokerLogins, MqttUrl, SERVICE_USER, start_embedded};
    use rumqttc::EventLoop;
    use std::collections::BTreeSet;
    use std::time::{Duration as StdDuration, Instant as StdInstant};

    /// The core's queue bound, end to end on the embedded broker: while the core
    /// reads nothing, the poll loop puts no more than the bound in its queue, counts
    /// that it waited, and once the core reads again every QoS 1 event arrives
    /// (backpressure, not loss).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_holds_the_broker_back_and_loses_no_qos1_event() {
        const BOUND: usize = 4;
        const EVENTS: usize = 40;
        let logins = BrokerLogins::generate();
        let addr = start_embedded("127.0.0.1:0".parse().unwrap(), &logins).unwrap();
        let url = MqttUrl::parse(&format!("mqtt://{addr}")).unwrap();
        let mut options = url
            .with_credentials(SERVICE_USER, &logins.service_password)
            .options("labflight-service-queue-test", false);
        options.set_manual_acks(true);
        let (client, eventloop) = AsyncClient::new(options, 100);
        let (in_tx, mut in_rx) = mpsc::channel::<Inbound>(BOUND);
        let metrics = Arc::new(Metrics::new());
        let (acked_tx, _acked_rx) = mpsc::unbounded_channel();
        let clock = Clock {
            wall_epoch_ms: 0,
            start: chrono::DateTime::UNIX_EPOCH,
            speed: 1.0,
        };
        let poll = tokio::spawn(poll_mqtt(
            BrokerLink {
                eventloop,
                rotation: NodeRotation::new(&url),
                layout: TopicLayout::District,
            },
            client.clone(),
            in_tx,
            Arc::clone(&metrics),
            Arc::new(AtomicBool::new(false)),
            (Arc::new(Mutex::new(PubackTracker::default())), acked_tx),
            clock,
        ));
        let device = url
            .with_credentials("D-01", &logins.device_password("D-01"))
            .options("D-01", false);
        let (device, device_loop) = AsyncClient::new(device, 100);
        let device_task = tokio::spawn(drive(device_loop));

        // Connected, then probe telemetry until the service's subscriptions are in
        // place (bounded).
        let deadline = StdInstant::now() + StdDuration::from_secs(15);
        let mut probed = false;
        while !probed {
            assert!(StdInstant::now() < deadline, "no probe reached the queue");
            device
                .publish(
                    "labflight/v1/drones/D-01/telemetry",
                    QoS::AtMostOnce,
                    false,
                    "probe",
                )
                .await
                .unwrap();
            if let Ok(Some(Inbound::Mqtt { publish, .. })) =
                tokio::time::timeout(StdDuration::from_millis(200), in_rx.recv()).await
            {
                // Telemetry arrives at QoS 0, as published (the embedded broker
                // delivers at the subscription's QoS: `subscription_qos`).
                assert_eq!(publish.qos, QoS::AtMostOnce, "{publish:?}");
                probed = true;
            }
        }
        while in_rx.try_recv().is_ok() {}

        // The core stops reading; the device sends its events.
        for i in 0..EVENTS {
            device
                .publish(
                    "labflight/v1/drones/D-01/events",
                    QoS::AtLeastOnce,
                    false,
                    format!("event {i}"),
                )
                .await
                .unwrap();
        }
        while metrics.inbound_queue_full.get() == 0 {
            assert!(StdInstant::now() < deadline, "the queue never filled");
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        assert_eq!(
            metrics.inbound_queued.get(),
            BOUND as i64,
            "queue at its bound"
        );
        assert_eq!(in_rx.len(), BOUND, "no more than the bound waits");
        let text = metrics.render();
        assert!(
            text.contains("labflight_inbound_queue_full_total"),
            "{text}"
        );

        // The core reads again: every event arrives, each acknowledged as the core
        // does once it is durable.
        let mut seen = BTreeSet::new();
        while seen.len() < EVENTS {
            assert!(
                StdInstant::now() < deadline + StdDuration::from_secs(15),
                "{} of {EVENTS} events arrived",
                seen.len()
            );
            let Ok(Some(msg)) = tokio::time::timeout(StdDuration::from_secs(1), in_rx.recv()).await
            else {
                continue;
            };
            if let Inbound::Mqtt { publish: p, .. } = msg
                && p.topic.ends_with("/events")
            {
                seen.insert(String::from_utf8_lossy(&p.payload).into_owned());
                client.ack(&p).await.unwrap();
            }
        }
        assert_eq!(seen.len(), EVENTS);
        poll.abort();
        device_task.abort();
    }

    async fn drive(mut eventloop: EventLoop) {
        loop {
            if eventloop.poll().await.is_err() {
                tokio::time::sleep(StdDuration::from_millis(50)).await;
            }
        }
    }
}
