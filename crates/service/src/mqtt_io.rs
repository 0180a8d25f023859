//! The service's MQTT connection at work: the poll loop that forwards what devices
//! send to the core and follows each publish to its PUBACK, the task that hands
//! the core's output to the client in order, the recorder of acknowledged
//! commands, and the dispatcher's timer (which runs while the broker is reachable).

use crate::clock::Clock;
use crate::messages::{Inbound, Outbound};
use crate::puback::PubackTracker;
use chrono::Duration;
use labflight_mqtt::SERVICE_SUBSCRIPTIONS;
use labflight_server::Metrics;
use labflight_store::Store;
use rumqttc::{AsyncClient, Event as MqttEvent, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Polls the broker connection forever: forwards publishes (stamped with the
/// service time they arrived), follows PUBACKs (`pubacks`, then `acked`), re-subscribes after
/// every (re)connect, follows each publish to its PUBACK, and backs off while the
/// broker is away. Never awaits a publish itself (that would stall the loop that
/// drains rumqttc's queue).
pub(crate) async fn poll_mqtt(
    mut eventloop: rumqttc::EventLoop,
    client: AsyncClient,
    in_tx: mpsc::Sender<Inbound>,
    metrics: Arc<Metrics>,
    connected: Arc<AtomicBool>,
    (pubacks, acked): (Arc<Mutex<PubackTracker>>, mpsc::UnboundedSender<String>),
    clock: Clock,
) {
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
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                let arrived = clock.now();
                if in_tx
                    .send(Inbound::Mqtt {
                        publish: p,
                        arrived,
                    })
                    .await
                    .is_err()
                {
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
                let client = client.clone();
                tokio::spawn(async move {
                    for filter in SERVICE_SUBSCRIPTIONS {
                        if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                            tracing::error!("subscribe {filter}: {e}");
                        }
                    }
                });
                let _ = in_tx.send(Inbound::Connected { reconnect }).await;
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
                tracing::warn!("MQTT connection: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Hands what the core sends out to the MQTT client, in order, noting each
/// publish (and the command it carries) for its PUBACK.
pub(crate) async fn publish_out(
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    pubacks: Arc<Mutex<PubackTracker>>,
) {
    while let Some(o) = rx.recv().await {
        let result = match o {
            Outbound::Publish {
                topic,
                payload,
                retain,
                command_id,
            } => {
                // Noted before the client can send it: rumqttc reports it sent
                // (with its packet id) in the order publishes were handed over.
                lock(&pubacks).handed(command_id);
                client
                    .publish(topic, QoS::AtLeastOnce, retain, payload)
                    .await
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
