//! Running jobs in parallel within cargo's jobserver, so a build never runs more nvcc processes
//! than cargo's `-j` allows, whatever else cargo is building at the time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

/// Runs `work` on every job and returns the results in job order.
///
/// Workers take jobs from one shared queue. The first works on the token cargo gave this build
/// script and keeps taking jobs until the queue is empty; each other worker first acquires a
/// jobserver token, so the number of jobs running at once follows what cargo can spare, and
/// never drops while jobs remain.
pub(crate) fn run_all<'a, J: Sync, R: Send>(
    jobs: &'a [J],
    work: impl Fn(&'a J) -> R + Sync,
) -> Vec<R> {
    if jobs.len() <= 1 {
        return jobs.iter().map(&work).collect();
    }
    let client = client();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = jobs.len().min(cores.max(1));
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
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
        for _ in 1..workers {
            scope.spawn(|| {
                if next.load(Ordering::Relaxed) >= jobs.len() {
                    return;
                }
                // Without a token this worker only costs parallelism: the first one drains the
                // queue alone.
                let Some(_token) = client.and_then(|client| client.acquire().ok()) else {
                    return;
                };
                drain();
            });
        }
        drain();
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
}
