//! Which commands the broker has acknowledged. A command counts as published only
//! when its PUBACK arrives, so this follows each QoS 1 publish through rumqttc:
//! handed to the client (in order, no packet id yet), given a packet id when the
//! event loop sends it (`Outgoing::Publish(pkid)`, in queue order), acknowledged
//! (`Incoming::PubAck(pkid)`). rumqttc re-sends unacknowledged publishes under
//! their old packet id after a reconnect, and holds back a publish whose new id
//! is still in flight (`Outgoing::AwaitAck(pkid)`) until that id is acknowledged
//! (it then reports the held-back publish as sent *before* the PUBACK that freed
//! the id); both are followed here.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// One publish on its way: the command it carries (`None`: status, rejections)
/// and when it was handed to the client.
#[derive(Debug)]
struct Sent {
    command_id: Option<String>,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct PubackTracker {
    /// Handed to the client, no packet id yet, in the order handed.
    queued: VecDeque<Sent>,
    /// Sent, awaiting PUBACK, by packet id.
    inflight: HashMap<u16, Sent>,
    /// Held back by rumqttc until its packet id is free again; `true` once sent
    /// (it takes the id over when the PUBACK of the id's holder arrives).
    collided: Option<(u16, Sent, bool)>,
}

impl PubackTracker {
    /// A QoS 1 publish handed to the client (call before `AsyncClient::publish`).
    pub fn handed(&mut self, command_id: Option<String>) {
        self.queued.push_back(Sent {
            command_id,
            since: Instant::now(),
        });
    }

    /// rumqttc wrote a publish with this packet id.
    pub fn sent(&mut self, pkid: u16) {
        if let Some((id, _, was_sent)) = &mut self.collided
            && *id == pkid
        {
            if self.inflight.contains_key(&pkid) {
                *was_sent = true;
            } else {
                let (_, sent, _) = self.collided.take().expect("checked above");
                self.inflight.insert(pkid, sent);
            }
            return;
        }
        if self.inflight.contains_key(&pkid) {
            // The same publish again, after a reconnect.
            return;
        }
        if let Some(sent) = self.queued.pop_front() {
            self.inflight.insert(pkid, sent);
        }
    }

    /// rumqttc holds the next publish back: its packet id is still in flight.
    pub fn held_back(&mut self, pkid: u16) {
        if let Some(sent) = self.queued.pop_front() {
            self.collided = Some((pkid, sent, false));
        }
    }

    /// The broker acknowledged this packet id: the command it carried, if any.
    pub fn acknowledged(&mut self, pkid: u16) -> Option<String> {
        let acked = self.inflight.remove(&pkid)?.command_id;
        if matches!(&self.collided, Some((id, _, true)) if *id == pkid) {
            let (_, sent, _) = self.collided.take().expect("checked above");
            self.inflight.insert(pkid, sent);
        }
        acked
    }

    /// Commands handed to the client and not yet acknowledged, and how long the
    /// oldest of them has waited.
    pub fn awaiting(&self) -> (usize, Option<Duration>) {
        let commands = self
            .queued
            .iter()
            .chain(self.inflight.values())
            .chain(self.collided.as_ref().map(|(_, s, _)| s))
            .filter(|s| s.command_id.is_some());
        let mut n = 0;
        let mut oldest: Option<Instant> = None;
        for s in commands {
            n += 1;
            oldest = Some(oldest.map_or(s.since, |o| o.min(s.since)));
        }
        (n, oldest.map(|o| o.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(id: &str) -> Option<String> {
        Some(id.to_owned())
    }

    #[test]
    fn a_command_is_acknowledged_only_by_its_own_puback() {
        let mut t = PubackTracker::default();
        t.handed(None); // the retained status
        t.handed(cmd("R1-1-0"));
        t.handed(cmd("R1-1-1"));
        assert_eq!(t.awaiting().0, 2);
        t.sent(1);
        t.sent(2);
        // Not sent yet: no packet id, nothing to acknowledge.
        assert_eq!(t.acknowledged(3), None);
        assert_eq!(t.acknowledged(1), None, "the status carries no command");
        t.sent(3);
        assert_eq!(t.acknowledged(3).as_deref(), Some("R1-1-1"));
        assert_eq!(t.awaiting().0, 1);
        // A duplicate PUBACK acknowledges nothing more.
        assert_eq!(t.acknowledged(3), None);
        assert_eq!(t.acknowledged(2).as_deref(), Some("R1-1-0"));
        assert_eq!(t.awaiting(), (0, None));
    }

    #[test]
    fn a_reconnect_resends_under_the_same_packet_id() {
        let mut t = PubackTracker::default();
        t.handed(cmd("a"));
        t.handed(cmd("b"));
        t.sent(1);
        // Connection lost; rumqttc re-sends packet 1, then sends b as packet 2.
        t.sent(1);
        t.sent(2);
        assert_eq!(t.acknowledged(1).as_deref(), Some("a"));
        assert_eq!(t.acknowledged(2).as_deref(), Some("b"));
    }

    #[test]
    fn a_held_back_publish_keeps_its_command() {
        let mut t = PubackTracker::default();
        t.handed(cmd("a"));
        t.handed(cmd("b"));
        t.sent(1);
        // b was given packet id 1 while a still holds it.
        t.held_back(1);
        assert_eq!(t.awaiting().0, 2);
        // rumqttc reports b sent, then the PUBACK of a that freed the id.
        t.sent(1);
        assert_eq!(t.acknowledged(1).as_deref(), Some("a"));
        assert_eq!(t.awaiting().0, 1);
        assert_eq!(t.acknowledged(1).as_deref(), Some("b"));
        assert_eq!(t.awaiting(), (0, None));
    }
}
