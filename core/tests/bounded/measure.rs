//! Peak allocation and time of one input, counted on the thread that runs it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The system allocator, counting the bytes live on each thread and their peak.
pub(crate) struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grow(bytes: usize) {
    // `try_with`: allocations made while the thread's locals are torn down are not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add_unsigned(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn shrink(bytes: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub_unsigned(bytes)));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System`'s.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grow(new_size);
            shrink(layout.size());
        }
        new
    }
}

/// What running one input cost.
#[derive(Debug)]
pub(crate) struct Cost<T> {
    /// What the reader returned.
    pub(crate) value: T,
    /// Wall time.
    pub(crate) time: Duration,
    /// The most bytes the reader held allocated at once, beyond what its thread held before.
    pub(crate) peak: usize,
}

/// Runs `read` on a thread of its own, counting its allocations; `None` when it is still
/// running after `limit` (the thread is left behind, and the caller fails).
pub(crate) fn run<T: Send + 'static>(
    limit: Duration,
    read: impl FnOnce() -> T + Send + 'static,
) -> Option<Cost<T>> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let base = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(base));
        let start = Instant::now();
        let value = read();
        let time = start.elapsed();
        let peak = PEAK
            .with(Cell::get)
            .saturating_sub(base)
            .max(0)
            .unsigned_abs();
        let _ = send.send(Cost { value, time, peak });
    });
    receive.recv_timeout(limit).ok()
}

/// Runs `read` under `limit` and asserts that it allocated at most `max_peak` bytes at once;
/// prints the cost so that a run with `--nocapture` shows it.
pub(crate) fn bounded<T: Send + 'static>(
    what: &str,
    input_len: usize,
    limit: Duration,
    max_peak: usize,
    read: impl FnOnce() -> T + Send + 'static,
) -> T {
    let Some(cost) = run(limit, read) else {
        panic!("{what}: a {input_len}-byte input still runs after {limit:?}");
    };
    println!(
        "{what}: {input_len} bytes in, {:.3} s, peak {} bytes allocated",
        cost.time.as_secs_f64(),
        cost.peak
    );
    assert!(
        cost.peak <= max_peak,
        "{what}: a {input_len}-byte input allocated {} bytes at once, more than {max_peak}",
        cost.peak
    );
    cost.value
}
