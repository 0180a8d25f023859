//! Result sharing as the core sees it: what each event owes the centres'
//! subscriptions (results, and status notices: received, rejected, redraw) goes
//! into the outbox in the same transaction as the event (`owe`); a delivered
//! result becomes `result_reported` (`delivered`); and at
//! start-up a delivery recorded without its `result_reported` gets it
//! (`reconcile_deliveries`).

use super::Core;
use crate::delivery::{self, Delivered, is_mllp};
use crate::messages::Outbound;
use labflight_core::command::StationNotice;
use labflight_core::{Command, CustodyStep, CustodyStepKind, Event, Instant, TubeBarcode};
use labflight_dispatch::state::TubeStatus;
use labflight_hooks::fhir::{StatusKind, status_bundle};
use labflight_store::{Batch, OutboxItem, Subscription};

impl Core {
    /// A delivered result is the centre having it: `result_reported`.
    pub(super) fn delivered(&mut self, d: Delivered, batch: &mut Batch, out: &mut Vec<Outbound>) {
        if d.kind != "result" {
            return;
        }
        let barcode = TubeBarcode::new(d.barcode);
        let resulted = self
            .dispatcher
            .state()
            .tubes
            .get(&barcode)
            .is_some_and(|t| t.status == TubeStatus::Resulted);
        if resulted {
            self.apply(
                Event::ResultReported { barcode },
                "hooks".into(),
                None,
                batch,
                out,
            );
        }
    }

    /// Start-up reconciliation, after recovery: the worker records a delivery, then
    /// tells the core, which journals `result_reported`; a crash between the two
    /// leaves a delivered result whose tube is still only `Resulted`. Each such
    /// tube gets its `result_reported` now, once (a reported tube is skipped).
    /// Returns how many were applied.
    pub(crate) async fn reconcile_deliveries(&mut self) -> anyhow::Result<usize> {
        let mut batch = Batch::default();
        let mut out = Vec::new();
        for barcode in self.store.delivered_result_barcodes().await? {
            self.delivered(
                Delivered {
                    barcode,
                    kind: "result".into(),
                },
                &mut batch,
                &mut out,
            );
        }
        if batch.is_empty() {
            return Ok(0);
        }
        self.store.commit(&batch).await?;
        self.metrics.batches.inc();
        self.metrics.journal_seq.set(self.seq);
        for o in out {
            let _ = self.out.send(o);
        }
        let ids: Vec<String> = batch
            .commands
            .iter()
            .map(|c| c.command_id.clone())
            .collect();
        self.store.mark_published(&ids, self.last_at).await?;
        Ok(batch.events.len())
    }

    /// Queues a delivery to every active subscription covering `station`, in this
    /// batch (the same transaction as the event that owes it); `render` gives the
    /// body for a subscription and delivery id (none: nothing for that one).
    pub(super) fn owe(
        &mut self,
        station: &labflight_core::StationId,
        barcode: &TubeBarcode,
        kind: &str,
        batch: &mut Batch,
        render: impl Fn(&Subscription, &str) -> Option<String>,
    ) {
        let group = self
            .world
            .stations
            .get(station)
            .map(|s| s.group.0.clone())
            .unwrap_or_default();
        for sub in self.subscriptions.iter().filter(|s| s.active) {
            let covers = sub.scope == "all"
                || sub.scope.strip_prefix("station:") == Some(station.as_str())
                || sub.scope.strip_prefix("group:") == Some(group.as_str());
            if !covers {
                continue;
            }
            // Several deliveries can come of one event: number them within it. This
            // event's are the batch's last items (seqs only grow within a batch).
            let idx = batch
                .outbox
                .iter()
                .rev()
                .take_while(|o| o.seq == self.seq)
                .count() as i64;
            let webhook_id = delivery::webhook_id(&self.run_id, self.seq, idx, &sub.id);
            let Some(body) = render(sub, &webhook_id) else {
                continue;
            };
            batch.outbox.push(OutboxItem {
                webhook_id,
                seq: self.seq,
                idx,
                subscription: sub.id.clone(),
                barcode: barcode.to_string(),
                kind: kind.to_owned(),
                body,
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: self.last_at,
                created_at: self.last_at,
                delivered_at: None,
                last_status: None,
                last_error: None,
            });
        }
    }

    /// The status notices an event owes the centres, in order: tubes received at
    /// a lab or rejected there (from its custody steps), then redraws requested
    /// (from its commands).
    pub(super) fn status_notices(
        steps: &[CustodyStep],
        commands: &[Command],
        at: Instant,
    ) -> Vec<(TubeBarcode, StatusKind)> {
        let mut notices = Vec::new();
        for s in steps {
            let kind = match s.step {
                CustodyStepKind::ReceivedAtLab => StatusKind::Received {
                    lab: s.place.clone().unwrap_or_default(),
                    at,
                },
                CustodyStepKind::RejectedAtLab => StatusKind::Rejected {
                    lab: s.place.clone().unwrap_or_default(),
                    at,
                    reason: s.by.clone().unwrap_or_default(),
                },
                _ => continue,
            };
            notices.push((s.barcode.clone(), kind));
        }
        // Redraw requests follow the notices of the event that caused them.
        for c in commands {
            if let Command::NotifyStation {
                notice: StationNotice::RedrawNeeded { barcode, reason },
                ..
            } = c
            {
                let kind = StatusKind::RedrawRequested {
                    reason: reason.clone(),
                    at,
                };
                notices.push((barcode.clone(), kind));
            }
        }
        notices
    }

    /// Owes each notice to the subscriptions of the tube's centre (as FHIR only:
    /// HL7 v2 subscribers get results).
    pub(super) fn owe_notices(
        &mut self,
        notices: Vec<(TubeBarcode, StatusKind)>,
        batch: &mut Batch,
    ) {
        for (barcode, kind) in notices {
            let station = self
                .dispatcher
                .state()
                .tubes
                .get(&barcode)
                .and_then(|t| self.dispatcher.state().boxes.get(&t.box_id))
                .map(|b| b.station.clone());
            if let Some(station) = station {
                let label = match kind {
                    StatusKind::Received { .. } => "received",
                    StatusKind::Rejected { .. } => "rejected",
                    StatusKind::RedrawRequested { .. } => "redraw",
                };
                let body = status_bundle(&kind, barcode.as_str(), station.as_str()).to_string();
                self.owe(&station, &barcode, label, batch, |sub, _| {
                    (!is_mllp(&sub.url)).then(|| body.clone())
                });
            }
        }
    }
}
