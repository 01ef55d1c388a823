//! The pipeline's third stage: every record's output, in parallel within cargo's jobserver.
//!
//! A module nvcc builds is prepared (preprocessing, signatures, key, previous output or cache),
//! then compiled one target at a time, the largest translation units first so that the long
//! ones start early; the worker that compiles a module's last part goes on to verify, check
//! and write it, so finishing a module (in a cold build, reading its kernels from megabytes of
//! translation units) overlaps the compiles still running. A prebuilt module is verified and
//! installed, and an unavailable one written as such, by a worker of the same run.

use std::sync::{Mutex, PoisonError};

use sasskit_core::Target;

use crate::compile::{self, Session};
use crate::error::Error;
use crate::job::{Compiled, Job};
use crate::parallel;
use crate::prebuilt::Found;
use crate::prebuilt_folder::Folder;
use crate::settings::Settings;

use super::record::{Record, Source};

/// A module's output and the job it came from.
#[derive(Debug)]
pub(super) struct Produced {
    pub(super) job: Job,
    pub(super) compiled: Compiled,
}

/// What is left to do for one module: nvcc's, once prepared; or installing it.
enum Pending<'j> {
    Nvcc(compile::Prepared<'j>),
    Prebuilt(Box<Found>),
    Unavailable {
        stale: Option<Box<sasskit_core::manifest::Manifest>>,
        reason: String,
    },
}

/// One module on its way: what is left to do, the parts nvcc compiled so far, and how many are
/// still being compiled.
struct InFlight<'j> {
    pending: Option<Pending<'j>>,
    parts: Vec<(Target, compile::Unit)>,
    failed: Option<Error>,
    remaining: usize,
}

/// What a worker does: compile one part of a module, or finish a module that needs no compile.
enum Work {
    Compile(usize, Vec<Target>),
    Finish(usize),
}

/// Every record's output, in record order. `session` is there whenever a record needs nvcc.
/// The error is the first failing module's, in record order.
pub(super) fn produce_all(
    settings: &Settings,
    session: Option<&Session<'_>>,
    records: Vec<Record>,
) -> Result<Vec<Produced>, Error> {
    let (jobs, sources): (Vec<Job>, Vec<Source>) = records
        .into_iter()
        .map(|record| (record.job, record.source))
        .unzip();
    // Each source moves into its module's pending work (a prebuilt one holds the fat binary).
    let sources: Vec<(usize, Mutex<Option<Source>>)> = sources
        .into_iter()
        .map(|source| Mutex::new(Some(source)))
        .enumerate()
        .collect();
    let pending = parallel::run_all(&sources, |(index, source)| {
        let source = lock(source)
            .take()
            .ok_or_else(|| Error::internal("a module was prepared twice"))?;
        pending(session, &jobs[*index], source)
    });
    let pending = pending.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut work: Vec<(usize, Vec<Target>)> = Vec::new();
    if let Some(session) = session {
        for (index, pending) in pending.iter().enumerate() {
            if let Pending::Nvcc(file) = pending
                && file.needs_compile()
            {
                work.extend(
                    session
                        .units_of(file.job)
                        .into_iter()
                        .map(|unit| (index, unit)),
                );
            }
        }
        work.sort_by_key(|(index, unit)| match &pending[*index] {
            Pending::Nvcc(file) => std::cmp::Reverse(file.cost(unit)),
            _ => std::cmp::Reverse(0),
        });
    }
    let in_flight: Vec<Mutex<InFlight<'_>>> = pending
        .into_iter()
        .enumerate()
        .map(|(index, pending)| {
            Mutex::new(InFlight {
                pending: Some(pending),
                parts: Vec::new(),
                failed: None,
                remaining: work.iter().filter(|(i, _)| *i == index).count(),
            })
        })
        .collect();
    let work: Vec<Work> = work
        .into_iter()
        .map(|(index, unit)| Work::Compile(index, unit))
        .chain(
            in_flight
                .iter()
                .enumerate()
                .filter(|(_, module)| lock(module).remaining == 0)
                .map(|(index, _)| Work::Finish(index)),
        )
        .collect();
    let results: Vec<Mutex<Option<Result<Compiled, Error>>>> =
        in_flight.iter().map(|_| Mutex::new(None)).collect();
    parallel::run_all(&work, |item| {
        let index = match item {
            Work::Finish(index) => *index,
            Work::Compile(index, unit) => {
                let Some(index) = compile_part(session, &in_flight[*index], *index, unit) else {
                    return;
                };
                index
            }
        };
        let (pending, parts, failed) = {
            let mut module = lock(&in_flight[index]);
            (
                module.pending.take(),
                std::mem::take(&mut module.parts),
                module.failed.take(),
            )
        };
        let result = match (pending, failed) {
            (_, Some(error)) => Err(error),
            (Some(pending), None) => finish(settings, session, &jobs[index], pending, parts),
            (None, None) => Err(Error::internal("a module was finished twice")),
        };
        *lock(&results[index]) = Some(result);
    });
    let compiled = results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| Err(Error::internal("a module was never finished")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(jobs
        .into_iter()
        .zip(compiled)
        .map(|(job, compiled)| Produced { job, compiled })
        .collect())
}

/// What is left to do for one module: a module nvcc builds is prepared now.
fn pending<'j>(
    session: Option<&Session<'_>>,
    job: &'j Job,
    source: Source,
) -> Result<Pending<'j>, Error> {
    Ok(match source {
        Source::Nvcc { .. } => {
            let session = session
                .ok_or_else(|| Error::internal("a module needs nvcc, and the build has none"))?;
            Pending::Nvcc(session.prepare(job)?)
        }
        Source::Prebuilt(found) => Pending::Prebuilt(found),
        Source::Unavailable { stale, reason } => Pending::Unavailable { stale, reason },
    })
}

/// Compiles one part of the module at `index`; returns `index` when that was its last part.
fn compile_part(
    session: Option<&Session<'_>>,
    module: &Mutex<InFlight<'_>>,
    index: usize,
    unit: &[Target],
) -> Option<usize> {
    let session = session?;
    let job = match &lock(module).pending {
        Some(Pending::Nvcc(file)) => Some((file.job, file.keeps_translation_units())),
        _ => None,
    };
    let (job, keep) = job?;
    let output = session.compile_unit(job, unit, keep);
    let mut module = lock(module);
    match output {
        Ok(output) => module.parts.push((unit[0], output)),
        Err(error) => {
            module.failed.get_or_insert(error);
        }
    }
    module.remaining -= 1;
    (module.remaining == 0).then_some(index)
}

/// A module's output, once nothing is left to compile.
fn finish(
    settings: &Settings,
    session: Option<&Session<'_>>,
    job: &Job,
    pending: Pending<'_>,
    parts: Vec<(Target, compile::Unit)>,
) -> Result<Compiled, Error> {
    match pending {
        Pending::Nvcc(file) => {
            let session = session
                .ok_or_else(|| Error::internal("a module needs nvcc, and the build has none"))?;
            session.finish(file, in_target_order(job, parts))
        }
        Pending::Prebuilt(found) => {
            let folder = settings
                .folder
                .as_ref()
                .ok_or_else(|| Error::internal("a prebuilt module without a prebuilt folder"))?;
            folder.install(
                job,
                *found,
                &settings.shared,
                settings.reading,
                &settings.out_dir,
            )
        }
        Pending::Unavailable { stale, reason } => Folder::unavailable(
            settings.folder.as_ref(),
            job,
            stale.map(|manifest| *manifest),
            reason,
            &settings.out_dir,
        ),
    }
}

/// The parts nvcc compiled for `job`, in target order, as one nvcc run would have laid the
/// images out; `None` when nothing was compiled.
fn in_target_order(
    job: &Job,
    mut parts: Vec<(Target, compile::Unit)>,
) -> Option<Vec<compile::Unit>> {
    if parts.is_empty() {
        return None;
    }
    parts.sort_by_key(|(target, _)| {
        job.targets
            .iter()
            .position(|t| t == *target)
            .unwrap_or(usize::MAX)
    });
    Some(parts.into_iter().map(|(_, unit)| unit).collect())
}

/// The value behind a mutex, also after a worker panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
