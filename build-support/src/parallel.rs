//! Running jobs in parallel within cargo's jobserver, so a build never runs more nvcc processes
//! than cargo's `-j` allows, whatever else cargo is building at the time.

use std::sync::OnceLock;

/// Runs `work` on every job and returns the results in job order. The first job runs on the
/// token cargo gave this build script; every other job waits for a jobserver token.
pub(crate) fn run_all<J: Sync, R: Send>(jobs: &[J], work: impl Fn(&J) -> R + Sync) -> Vec<R> {
    if jobs.len() <= 1 {
        return jobs.iter().map(&work).collect();
    }
    let client = client();
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .enumerate()
            .map(|(index, job)| {
                let work = &work;
                scope.spawn(move || {
                    // The implicit token covers the first job; a failure to get a token only
                    // costs parallelism.
                    let _token = if index == 0 {
                        None
                    } else {
                        client.and_then(|client| client.acquire().ok())
                    };
                    work(job)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Cargo's jobserver, or, outside cargo, a private one sized by the available parallelism.
fn client() -> Option<&'static jobserver::Client> {
    static CLIENT: OnceLock<Option<jobserver::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // SAFETY: called once per process, before this crate opens any file descriptor, so
            // the descriptors named in MAKEFLAGS/CARGO_MAKEFLAGS are still the jobserver's.
            let inherited = unsafe { jobserver::Client::from_env() };
            inherited.or_else(|| {
                let n = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
                jobserver::Client::new(n.saturating_sub(1).max(1)).ok()
            })
        })
        .as_ref()
}
