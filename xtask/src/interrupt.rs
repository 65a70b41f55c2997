//! Ctrl-C and SIGTERM (what Slurm and most schedulers send before killing a job): the first
//! asks the runs in flight to save a checkpoint and stop at their next group of steps, so
//! that the same command continues them; a second one ends the process at once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Exit status of a process ended by a second signal (128 + SIGINT, as shells report it).
#[cfg(unix)]
const FORCED_EXIT: i32 = 130;

/// The flag the first SIGINT or SIGTERM sets. Installed once per process.
pub fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so it sees the flag before the second registration sets it:
        // a signal arriving with the flag already set ends the process.
        let installed = signal_hook::flag::register_conditional_shutdown(
            signal,
            FORCED_EXIT,
            Arc::clone(&flag),
        )
        .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)));
        if let Err(e) = installed {
            eprintln!(
                "note: cannot catch signal {signal} ({e}); an interrupted run will start over"
            );
        }
    }
    flag
}
