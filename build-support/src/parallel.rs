//! Running jobs in parallel within cargo's jobserver, so a build never runs more nvcc processes
//! than cargo's `-j` allows, whatever else cargo is building at the time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};
use std::time::Duration;

/// Runs `work` on every job and returns the results in job order.
///
/// Workers take jobs from one shared queue. The calling thread works on the token cargo gave
/// this build script and keeps taking jobs until the queue is empty. Extra tokens are asked of
/// the jobserver through its helper thread (as the `cc` crate does); each token that arrives
/// while jobs remain starts one more worker, which returns its token when the queue is empty.
/// No thread ever blocks on the jobserver, so a build script never waits for a token it no
/// longer needs (two build scripts under `-j2` that each waited for the other's token would
/// wait for ever).
pub(crate) fn run_all<'a, J: Sync, R: Send>(
    jobs: &'a [J],
    work: impl Fn(&'a J) -> R + Sync,
) -> Vec<R> {
    if jobs.len() <= 1 {
        return jobs.iter().map(&work).collect();
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let extra = jobs.len().min(cores.max(1)) - 1;
    // The build's environment overrides hold on every worker, as on this thread.
    let overrides = crate::env::Overrides::current();
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let remaining = || next.load(Ordering::Relaxed) < jobs.len();
    let drain = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(index) else { return };
            let result = work(job);
            *results[index]
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let (tokens, arrived) = mpsc::channel();
        let helper = client().filter(|_| extra > 0).and_then(|client| {
            client
                .clone()
                .into_helper_thread(move |token| {
                    // After the queue emptied the receiver is gone and the token is
                    // dropped here, which returns it.
                    let _ = tokens.send(token);
                })
                .ok()
        });
        if let Some(helper) = &helper {
            for _ in 0..extra {
                helper.request_token();
            }
            let (remaining, drain, overrides) = (&remaining, &drain, &overrides);
            scope.spawn(move || {
                let mut started = 0;
                while started < extra && remaining() {
                    match arrived.recv_timeout(Duration::from_millis(20)) {
                        Ok(Ok(token)) => {
                            started += 1;
                            scope.spawn(move || {
                                let _token = token;
                                overrides.scope(drain);
                            });
                        }
                        Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                    }
                }
            });
        }
        drain();
        // Dropping the helper stops it: a token it acquires from now on is returned at once.
        drop(helper);
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .expect("every job ran: the queue is drained before the scope ends")
        })
        .collect()
}

/// Cargo's jobserver, or, outside cargo, a private one sized by the available parallelism.
fn client() -> Option<&'static jobserver::Client> {
    static CLIENT: OnceLock<Option<jobserver::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // SAFETY: taken once per process (this `OnceLock`). The descriptors that
            // MAKEFLAGS/CARGO_MAKEFLAGS name were inherited open from cargo, and sasskit never
            // closes a descriptor it did not open; files it opened before this point got other
            // numbers, since open descriptors are never handed out twice. So unless the build
            // script closed them itself, they are still the jobserver's pipe.
            let inherited = unsafe { jobserver::Client::from_env() };
            inherited.or_else(|| {
                let n = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
                jobserver::Client::new(n.saturating_sub(1).max(1)).ok()
            })
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    #[test]
    fn results_keep_job_order_and_jobs_overlap() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let jobs: Vec<usize> = (0..8).collect();
        let results = run_all(&jobs, |&job| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
            job * 10
        });
        assert_eq!(results, (0..8).map(|job| job * 10).collect::<Vec<_>>());
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if cores > 1 {
            assert!(
                most.load(Ordering::SeqCst) > 1,
                "jobs ran one at a time on {cores} cores"
            );
        }
    }

    /// With every token held elsewhere, the jobs still all run (on the calling thread) and
    /// `run_all` returns: no worker waits for a token once the queue is empty (two build
    /// scripts under `-j2` used to deadlock this way).
    #[test]
    fn returns_when_no_token_ever_comes() {
        let Some(client) = client() else { return };
        let mut held = Vec::new();
        while client.available().unwrap_or(0) > 0 {
            held.push(client.acquire().unwrap());
        }
        let jobs: Vec<usize> = (0..4).collect();
        let started = std::time::Instant::now();
        let results = run_all(&jobs, |&job| job + 1);
        assert_eq!(results, [1, 2, 3, 4]);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held);
    }
}
