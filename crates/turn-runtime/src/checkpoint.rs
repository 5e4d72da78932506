//! Checkpoints of a whole actor system: every process (its VM snapshot, see
//! `turn_vm::snapshot`) with what it waits for, the run queue and the
//! round. Effects under way are part of it (the request itself): on restore
//! they are answered from the log if the log has their answer, else started
//! again with the same idempotency key, as are receive timers.

use crate::answer;
use crate::scheduler::{Proc, Request, System, Wait};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use turn_bytecode::{Program, Ty};
use turn_vm::context::Tier;
use turn_vm::snapshot::Portable;
use turn_vm::{Effect, Limits, RtError, Snapshot, Vm};

/// Bumped when the encoding changes; older versions stay readable.
pub const SYSTEM_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
enum SWait {
    Ready,
    Receive {
        timer: Option<(u64, f64)>,
    },
    Gather(Vec<u64>),
    External {
        n: u64,
        tool: String,
        digest: String,
    },
    Effect {
        n: u64,
        effect: SEffect,
    },
    Suspended {
        n: u64,
    },
}

/// An effect request under way.
#[derive(Serialize, Deserialize)]
enum SEffect {
    Tool {
        name: String,
        arg: Portable,
    },
    Now,
    Sleep(f64),
    Random,
    Infer {
        ty: Ty,
        prompt: String,
        context: Vec<(u8, String)>,
    },
    Embed(Vec<String>),
    Grant {
        kind: String,
        name: String,
    },
    Io {
        op: String,
        identity: u64,
        args: Vec<Portable>,
    },
}

fn tier_code(t: Tier) -> u8 {
    match t {
        Tier::System => 0,
        Tier::Episodic => 2,
        Tier::Working => 1,
    }
}

fn s_effect(e: &Effect) -> Option<SEffect> {
    Some(match e {
        Effect::Tool { name, arg } => SEffect::Tool {
            name: name.clone(),
            arg: Portable::of(arg),
        },
        Effect::Now => SEffect::Now,
        Effect::Sleep { seconds } => SEffect::Sleep(*seconds),
        Effect::Random => SEffect::Random,
        Effect::Infer {
            ty,
            prompt,
            context,
        } => SEffect::Infer {
            ty: ty.clone(),
            prompt: prompt.clone(),
            context: context
                .iter()
                .map(|(t, x)| (tier_code(*t), x.clone()))
                .collect(),
        },
        Effect::Embed { texts } => SEffect::Embed(texts.clone()),
        Effect::Io { op, identity, args } => SEffect::Io {
            op: op.to_string(),
            identity: *identity,
            args: args.iter().map(Portable::of).collect(),
        },
        Effect::Grant { kind, name } => SEffect::Grant {
            kind: kind.clone(),
            name: name.clone(),
        },
        _ => return None,
    })
}

fn effect_of(e: SEffect, program: &Program) -> Result<Effect, RtError> {
    Ok(match e {
        SEffect::Tool { name, arg } => Effect::Tool {
            name,
            arg: arg.to_value(program)?,
        },
        SEffect::Now => Effect::Now,
        SEffect::Sleep(seconds) => Effect::Sleep { seconds },
        SEffect::Random => Effect::Random,
        SEffect::Infer {
            ty,
            prompt,
            context,
        } => Effect::Infer {
            ty,
            prompt,
            context: context
                .into_iter()
                .map(|(t, x)| {
                    let tier = match t {
                        0 => Tier::System,
                        2 => Tier::Episodic,
                        _ => Tier::Working,
                    };
                    (tier, x)
                })
                .collect(),
        },
        SEffect::Embed(texts) => Effect::Embed { texts },
        SEffect::Grant { kind, name } => Effect::Grant { kind, name },
        SEffect::Io { op, identity, args } => Effect::Io {
            op: turn_vm::effect::io_op(&op)
                .ok_or_else(|| RtError::new("checkpoint", format!("unknown operation `{op}`")))?,
            identity,
            args: args
                .iter()
                .map(|a| a.to_value(program))
                .collect::<Result<_, _>>()?,
        },
    })
}

#[derive(Serialize, Deserialize)]
struct SProc {
    /// The VM snapshot in its own versioned encoding.
    vm: Vec<u8>,
    wait: SWait,
}

#[derive(Serialize, Deserialize)]
struct SSystem {
    /// Log entries consumed when the checkpoint was taken.
    seq: u64,
    round: u64,
    /// Number of pids handed out (slots, live or not).
    slots: u64,
    queue: Vec<u64>,
    procs: Vec<SProc>,
}

pub fn encode(sys: &System, seq: u64) -> Vec<u8> {
    let procs = sys
        .procs
        .iter()
        .flatten()
        .map(|p| {
            let pid = p.vm.pid();
            SProc {
                vm: p.vm.checkpoint().encode(),
                wait: match &p.wait {
                    Wait::Receive { timer } => SWait::Receive { timer: *timer },
                    Wait::Gather { pids, .. } => SWait::Gather(pids.clone()),
                    Wait::External { n, tool } => SWait::External {
                        n: *n,
                        tool: tool.clone(),
                        digest: sys
                            .requests
                            .get(&(pid, *n))
                            .map(|r| r.digest.clone())
                            .unwrap_or_default(),
                    },
                    Wait::Effect { n } => match sys
                        .requests
                        .get(&(pid, *n))
                        .and_then(|r| r.effect.as_ref())
                        .and_then(s_effect)
                    {
                        Some(effect) => SWait::Effect { n: *n, effect },
                        None => SWait::Ready,
                    },
                    Wait::Suspended { n } => SWait::Suspended { n: *n },
                    Wait::Ready => SWait::Ready,
                },
            }
        })
        .collect();
    let s = SSystem {
        seq,
        round: sys.round,
        slots: sys.procs.len() as u64,
        queue: sys.queue.iter().copied().collect(),
        procs,
    };
    let mut out = SYSTEM_VERSION.to_le_bytes().to_vec();
    out.extend(postcard::to_stdvec(&s).unwrap_or_default());
    out
}

/// A system restored from a checkpoint of the same program, with the log
/// position it was taken at.
pub fn decode(
    bytes: &[u8],
    program: Rc<Program>,
    limits: Limits,
) -> Result<(System, u64), RtError> {
    let damaged =
        |why: String| RtError::new("checkpoint", format!("the checkpoint is damaged: {why}"));
    let (head, body) = bytes
        .split_at_checked(4)
        .ok_or_else(|| damaged("truncated".into()))?;
    let version = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    if version != SYSTEM_VERSION {
        return Err(RtError::new(
            "checkpoint",
            format!("system checkpoint format {version} is not one this turn reads (1 to {SYSTEM_VERSION})"),
        ));
    }
    let s: SSystem = postcard::from_bytes(body).map_err(|e| damaged(e.to_string()))?;
    if s.slots > 1 << 40 || s.procs.len() as u64 > s.slots {
        return Err(damaged("impossible process count".into()));
    }
    let mut procs: Vec<Option<Box<Proc>>> = Vec::new();
    procs.resize_with(s.slots as usize, || None);
    let mut requests = BTreeMap::new();
    let natives = crate::natives_for(&program)?;
    for sp in s.procs {
        let snap = Snapshot::decode(&sp.vm)?;
        let vm = Vm::restore(program.clone(), natives, limits.clone(), &snap)?;
        let pid = vm.pid();
        let slot = pid
            .checked_sub(1)
            .and_then(|i| procs.get_mut(i as usize))
            .ok_or_else(|| damaged(format!("pid {pid} out of range")))?;
        let wait = match sp.wait {
            SWait::Ready => Wait::Ready,
            SWait::Gather(pids) => {
                let exits = &vm.links().exits;
                let missing = pids
                    .iter()
                    .filter(|p| !exits.contains_key(p))
                    .copied()
                    .collect();
                Wait::Gather { pids, missing }
            }
            SWait::Receive { timer } => {
                if let Some((n, t)) = timer {
                    let effect = Effect::Sleep { seconds: t };
                    requests.insert(
                        (pid, n),
                        Request {
                            kind: "receive.timeout".into(),
                            digest: answer::digest(&effect),
                            effect: Some(effect),
                            launched: false,
                            abort: None,
                        },
                    );
                }
                Wait::Receive { timer }
            }
            SWait::Effect { n, effect } => {
                let effect = effect_of(effect, &program)?;
                requests.insert(
                    (pid, n),
                    Request {
                        kind: answer::kind(&effect),
                        digest: answer::digest(&effect),
                        effect: Some(effect),
                        launched: false,
                        abort: None,
                    },
                );
                Wait::Effect { n }
            }
            SWait::Suspended { n } => {
                requests.insert(
                    (pid, n),
                    Request {
                        kind: "suspend".into(),
                        digest: answer::digest(&Effect::Suspend),
                        effect: None,
                        launched: false,
                        abort: None,
                    },
                );
                Wait::Suspended { n }
            }
            SWait::External { n, tool, digest } => {
                requests.insert(
                    (pid, n),
                    Request {
                        kind: format!("tool:{tool}"),
                        digest,
                        effect: None,
                        launched: false,
                        abort: None,
                    },
                );
                Wait::External { n, tool }
            }
        };
        *slot = Some(Box::new(Proc { vm, wait }));
    }
    if procs.first().is_none_or(|p| p.is_none()) {
        return Err(damaged("the main process is missing".into()));
    }
    let queue: VecDeque<u64> = s.queue.into_iter().collect();
    if queue
        .iter()
        .any(|p| !matches!(procs.get((*p as usize).wrapping_sub(1)), Some(Some(_))))
    {
        return Err(damaged(
            "the run queue names a process that does not exist".into(),
        ));
    }
    let program_rc = program;
    let live = procs.iter().flatten().count();
    Ok((
        System {
            program: program_rc,
            procs,
            queue,
            round: s.round,
            requests,
            suspend_requested: false,
            main_end: None,
            live,
        },
        s.seq,
    ))
}
