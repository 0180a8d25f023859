//! Every long-running task of the live service starts here, so none can die
//! unseen. A task whose end would leave the service wrong (the core, the broker
//! connection, the HTTP server) takes the process down with a clear log line and a
//! non-zero exit, for systemd to restart it from the journal; a task that can
//! simply start again (the clock's ticks, hook delivery, the live feed) is
//! restarted after a pause and counted in `labflight_task_restarts`.

use crate::metrics::Metrics;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The exit code of a process that stopped because one of its tasks did.
pub const TASK_STOPPED_EXIT: i32 = 70;
/// The pause before a restartable task starts again (doubling to `MAX_PAUSE`).
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// Called with the task's name and why it stopped when the process must exit.
pub type FatalHook = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Starts and watches the service's long-running tasks.
#[derive(Clone)]
pub struct Supervisor {
    metrics: Arc<Metrics>,
    fatal: FatalHook,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A supervisor that exits the process when a vital task stops.
    pub fn new(metrics: Arc<Metrics>) -> Supervisor {
        Supervisor::with_fatal_hook(
            metrics,
            Arc::new(|task, why| {
                tracing::error!("task `{task}` stopped ({why}); exiting so the service restarts");
                eprintln!("error: task `{task}` stopped ({why}); exiting");
                std::process::exit(TASK_STOPPED_EXIT);
            }),
        )
    }

    /// A supervisor that calls `fatal` instead of exiting (tests).
    pub fn with_fatal_hook(metrics: Arc<Metrics>, fatal: FatalHook) -> Supervisor {
        Supervisor { metrics, fatal }
    }

    /// Runs `task` once; when it ends, for any reason, the process stops.
    pub fn spawn_vital<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let fatal = Arc::clone(&self.fatal);
        let metrics = Arc::clone(&self.metrics);
        metrics.task_up(name, true);
        let handle = tokio::spawn(task);
        tokio::spawn(async move {
            let why = stop_reason(handle.await);
            metrics.task_up(name, false);
            fatal(name, &why);
        });
    }

    /// Runs the task `make` builds, and again after every end, with a growing pause.
    pub fn spawn_restarting<M, F>(&self, name: &'static str, mut make: M)
    where
        M: FnMut() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let metrics = Arc::clone(&self.metrics);
        tokio::spawn(async move {
            let mut pause = FIRST_PAUSE;
            loop {
                metrics.task_up(name, true);
                let started = std::time::Instant::now();
                let why = stop_reason(tokio::spawn(make()).await);
                metrics.task_up(name, false);
                metrics.task_restarted(name);
                tracing::error!("task `{name}` stopped ({why}); restarting in {pause:?}");
                // A task that ran a good while before stopping starts over promptly.
                if started.elapsed() > MAX_PAUSE * 6 {
                    pause = FIRST_PAUSE;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        });
    }
}

/// The message a panic carried (`panic!("…")` with a literal or a formatted
/// string), if it carried text.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

fn stop_reason(joined: Result<(), tokio::task::JoinError>) -> String {
    match joined {
        Ok(()) => "it returned".to_owned(),
        Err(e) if e.is_panic() => {
            let text = panic_text(e.into_panic().as_ref()).unwrap_or_else(|| "a panic".to_owned());
            format!("panicked: {text}")
        }
        Err(e) => format!("cancelled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn recording() -> (Supervisor, Arc<Mutex<Vec<String>>>, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let stopped = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&stopped);
        let sup = Supervisor::with_fatal_hook(
            Arc::clone(&metrics),
            Arc::new(move |task, why| seen.lock().unwrap().push(format!("{task}: {why}"))),
        );
        (sup, stopped, metrics)
    }

    async fn settle(cond: impl Fn() -> bool) {
        for _ in 0..200 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_vital_task_that_panics_or_returns_stops_the_process_with_its_reason() {
        let (sup, stopped, metrics) = recording();
        sup.spawn_vital("core", async { panic!("chrono overflow") });
        sup.spawn_vital("mqtt", async {});
        let s = Arc::clone(&stopped);
        settle(move || s.lock().unwrap().len() == 2).await;
        let mut got = stopped.lock().unwrap().clone();
        got.sort();
        assert_eq!(
            got,
            vec![
                "core: panicked: chrono overflow".to_owned(),
                "mqtt: it returned".to_owned()
            ]
        );
        assert!(
            metrics
                .render()
                .contains("labflight_task_up{task=\"core\"} 0")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_restartable_task_is_started_again_and_counted() {
        let (sup, stopped, metrics) = recording();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&runs);
        sup.spawn_restarting("delivery", move || {
            let n = r.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    panic!("receiver sent garbage");
                }
                std::future::pending::<()>().await;
            }
        });
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if runs.load(Ordering::SeqCst) >= 4 {
                break;
            }
        }
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        assert!(stopped.lock().unwrap().is_empty());
        let text = metrics.render();
        assert!(
            text.contains("labflight_task_restarts_total{task=\"delivery\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("labflight_task_up{task=\"delivery\"} 1"),
            "{text}"
        );
    }
}
