//! The command lifecycle (ROS 2 action states): `accepted` → `executing` → `succeeded` |
//! `failed` | `canceled`, or `rejected`. Every command that can be parsed gets exactly one
//! terminal event. Sans-IO: the I/O edge feeds inputs with the time and carries out the
//! returned [`Effect`]s.

use std::collections::{HashSet, VecDeque};

use trinity_firmware::Plan;

use super::payload::{parse_command, Command, Refusal};

pub use crate::messages::{Event, State};

/// How the edge reports a started command's end.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Planned and executed.
    Succeeded {
        /// The plan, as JSON.
        plan: Plan,
    },
    /// Planning or execution failed.
    Failed {
        /// What went wrong.
        error: String,
        /// The plan, if one was made.
        plan: Option<Plan>,
    },
    /// The job saw the cancel and stopped.
    Canceled,
    /// The skill declined: nothing it can do, or a plan it was not sure enough of (with
    /// the candidate and its confidence). Nothing moved.
    Refused {
        /// Why.
        error: String,
        /// The plan it would have run.
        candidate: Option<Plan>,
        /// How sure the model was of it.
        confidence: Option<f32>,
    },
}

/// What the I/O edge must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Put every output in its safe state now (e-stop). Comes first.
    SafeOutputs,
    /// Publish this event.
    Publish(Box<Event>),
    /// Plan and execute this command; report back with [`Dispatcher::on_finished`].
    Start {
        /// Command id.
        id: String,
        /// The command.
        command: Box<Command>,
    },
    /// Stop the running job (generation between tokens, or execution).
    CancelRunning {
        /// Its id.
        id: String,
    },
    /// Nothing to publish; worth a log line.
    Log(String),
}

#[derive(Debug)]
struct Queued {
    id: String,
    command: Command,
    deadline: Option<u64>,
}

/// How many finished ids are remembered for dedup.
const SEEN_CAPACITY: usize = 4096;

/// Where a payload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Published while this process was serving.
    Live,
    /// Queued at the broker while the daemon was down, delivered after this process's first
    /// connect: it may be long stale. Without `not_after` it is refused, unless the
    /// dispatcher was told to run such commands ([`Dispatcher::run_queued_after_restart`]).
    Backlog,
}

/// The dispatcher.
#[derive(Debug)]
pub struct Dispatcher {
    capacity: usize,
    skills: Vec<String>,
    queue: VecDeque<Queued>,
    running: Option<String>,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    estop: bool,
    next_auto: u64,
    auto_prefix: String,
    wall_ms: Option<u64>,
    run_backlog: bool,
    stopping: bool,
}

fn event(id: &str, state: State, error: Option<String>) -> Effect {
    Effect::Publish(Box::new(Event::new(id, state, error)))
}

impl Dispatcher {
    /// Accept commands for these skills from now on (the first is the default).
    pub fn set_skills(&mut self, skills: Vec<String>) {
        self.skills = skills;
    }

    /// A dispatcher that queues at most `capacity` commands behind the running one and
    /// accepts commands for these `skills` (a command without one gets the first).
    pub fn new(capacity: usize, skills: Vec<String>) -> Self {
        Dispatcher {
            capacity,
            skills,
            queue: VecDeque::new(),
            running: None,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            estop: false,
            next_auto: 0,
            auto_prefix: "auto".into(),
            wall_ms: None,
            run_backlog: false,
            stopping: false,
        }
    }

    /// Start with the e-stop latch engaged (it was engaged when the daemon last stopped).
    pub fn with_estop(mut self, engaged: bool) -> Self {
        self.estop = engaged;
        self
    }

    /// Ids given to commands that came without one: `{prefix}-N`. A per-boot prefix keeps
    /// them apart from the ids clients choose and from an earlier run's.
    pub fn with_auto_prefix(mut self, prefix: &str) -> Self {
        self.auto_prefix = prefix.to_owned();
        self
    }

    /// Run commands from the broker's backlog that carry no freshness (`[daemon]
    /// run_queued_after_restart`).
    pub fn run_queued_after_restart(mut self, yes: bool) -> Self {
        self.run_backlog = yes;
        self
    }

    /// The wall clock (unix ms) as the edge reads it; `not_after` is checked against it.
    pub fn set_wall_clock(&mut self, unix_ms: u64) {
        self.wall_ms = Some(unix_ms);
    }

    /// Commands waiting (not counting the running one).
    pub fn queue_depth(&self) -> usize {
        self.queue.len()
    }

    /// The running command's id.
    pub fn running(&self) -> Option<&str> {
        self.running.as_deref()
    }

    /// Whether [`Dispatcher::shutdown`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Whether the e-stop is engaged.
    pub fn estopped(&self) -> bool {
        self.estop
    }

    /// A raw `cmd` payload at `now` (ms); `topic_skill` from `cmd/{skill}`.
    pub fn on_payload(&mut self, now: u64, payload: &[u8], topic_skill: Option<&str>, source: Source) -> Vec<Effect> {
        match parse_command(payload, topic_skill) {
            Ok(c) if source == Source::Backlog && c.not_after.is_none() && !self.run_backlog => {
                let reason = "queued at the broker while the daemon was down, with no `not_after`: \
                              not run (send it again, or set [daemon] run_queued_after_restart = true)";
                match c.id {
                    Some(id) if self.remember(&id) => vec![event(&id, State::Rejected, Some(reason.into()))],
                    Some(id) => vec![Effect::Log(format!("duplicate command {id} ignored"))],
                    None => vec![Effect::Log(format!("command {:?} {reason}", c.text))],
                }
            }
            Ok(c) => self.on_command(now, c),
            Err(Refusal { id: Some(id), reason }) => {
                if self.remember(&id) {
                    vec![event(&id, State::Rejected, Some(reason))]
                } else {
                    vec![Effect::Log(format!("duplicate command {id} ignored"))]
                }
            }
            Err(Refusal { id: None, reason }) => {
                vec![Effect::Log(format!("payload dropped: {reason}"))]
            }
        }
    }

    /// Remember `id`; false if it was seen before.
    fn remember(&mut self, id: &str) -> bool {
        if !self.seen.insert(id.to_owned()) {
            return false;
        }
        self.seen_order.push_back(id.to_owned());
        if self.seen_order.len() > SEEN_CAPACITY {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// A parsed command at `now`.
    pub fn on_command(&mut self, now: u64, command: Command) -> Vec<Effect> {
        let id = match &command.id {
            Some(id) => id.clone(),
            None => {
                self.next_auto += 1;
                format!("{}-{}", self.auto_prefix, self.next_auto)
            }
        };
        if !self.remember(&id) {
            // A QoS 1 redelivery: it already has its events.
            return vec![Effect::Log(format!("duplicate command {id} ignored"))];
        }
        if self.stopping {
            return vec![event(&id, State::Rejected, Some("shutting down".into()))];
        }
        if self.estop {
            return vec![event(&id, State::Rejected, Some("e-stop engaged: send `release` on estop first".into()))];
        }
        let mut command = command;
        match &command.skill {
            Some(s) if !self.skills.contains(s) => {
                let known = self.skills.join(", ");
                return vec![event(&id, State::Rejected, Some(format!("unknown skill `{s}` (known: {known})")))];
            }
            Some(_) => {}
            None => command.skill = self.skills.first().cloned(),
        }
        if self.queue.len() >= self.capacity {
            return vec![event(&id, State::Rejected, Some(format!("queue full ({} commands waiting)", self.capacity)))];
        }
        // Both limits as one deadline on the monotonic clock.
        let mut deadline = command.deadline_ms.map(|d| now.saturating_add(d));
        if let Some(not_after) = command.not_after {
            let Some(wall) = self.wall_ms else {
                return vec![event(&id, State::Rejected, Some("`not_after` given but the clock is unknown".into()))];
            };
            if wall > not_after {
                let late = wall - not_after;
                return vec![event(&id, State::Rejected, Some(format!("stale: `not_after` passed {late} ms ago")))];
            }
            let d = now.saturating_add(not_after - wall);
            deadline = Some(deadline.map_or(d, |x| x.min(d)));
        }
        self.queue.push_back(Queued { id: id.clone(), command, deadline });
        let mut out = vec![event(&id, State::Accepted, None)];
        out.extend(self.start_next(now));
        out
    }

    /// Start the next command if none is running; queued commands past their deadline are
    /// rejected on the way.
    fn start_next(&mut self, now: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.running.is_some() || self.estop || self.stopping {
            return out;
        }
        while let Some(q) = self.queue.pop_front() {
            if q.deadline.is_some_and(|d| now > d) {
                out.push(event(&q.id, State::Rejected, Some("deadline expired before it could start".into())));
                continue;
            }
            out.push(event(&q.id, State::Executing, None));
            out.push(Effect::Start { id: q.id.clone(), command: Box::new(q.command) });
            self.running = Some(q.id);
            break;
        }
        out
    }

    /// Time passes: reject queued commands whose deadline expired.
    pub fn tick(&mut self, now: u64) -> Vec<Effect> {
        let (expired, kept): (Vec<Queued>, Vec<Queued>) =
            self.queue.drain(..).partition(|q| q.deadline.is_some_and(|d| now > d));
        self.queue = kept.into();
        let mut out: Vec<Effect> = expired
            .iter()
            .map(|q| event(&q.id, State::Rejected, Some("deadline expired before it could start".into())))
            .collect();
        out.extend(self.start_next(now));
        out
    }

    /// The running command `id` ended.
    pub fn on_finished(&mut self, now: u64, id: &str, result: Finished) -> Vec<Effect> {
        if self.running.as_deref() != Some(id) {
            // Already ended (canceled or e-stopped): its terminal event is out.
            return vec![Effect::Log(format!("late result for {id} ignored"))];
        }
        self.running = None;
        let e = match result {
            Finished::Succeeded { plan } => Event { plan: Some(plan), ..Event::new(id, State::Succeeded, None) },
            Finished::Failed { error, plan } => Event { plan, ..Event::new(id, State::Failed, Some(error)) },
            Finished::Canceled => Event::new(id, State::Canceled, None),
            Finished::Refused { error, candidate, confidence } => {
                Event { candidate, confidence, ..Event::new(id, State::Rejected, Some(error)) }
            }
        };
        let mut out = vec![Effect::Publish(Box::new(e))];
        out.extend(self.start_next(now));
        out
    }

    /// `cancel` for `id`.
    pub fn on_cancel(&mut self, now: u64, id: &str) -> Vec<Effect> {
        if self.running.as_deref() == Some(id) {
            self.running = None;
            let mut out =
                vec![Effect::CancelRunning { id: id.into() }, event(id, State::Canceled, Some("canceled".into()))];
            out.extend(self.start_next(now));
            return out;
        }
        if let Some(i) = self.queue.iter().position(|q| q.id == id) {
            self.queue.remove(i);
            return vec![event(id, State::Canceled, Some("canceled before it started".into()))];
        }
        vec![Effect::Log(format!("cancel for {id}: not queued or running"))]
    }

    /// The daemon is stopping: every command it holds ends `canceled` ("shutting down"), and
    /// nothing starts any more.
    pub fn shutdown(&mut self) -> Vec<Effect> {
        let why = || Some("shutting down".to_owned());
        let mut out = Vec::new();
        if let Some(id) = self.running.take() {
            out.push(Effect::CancelRunning { id: id.clone() });
            out.push(event(&id, State::Canceled, why()));
        }
        out.extend(self.queue.drain(..).map(|q| event(&q.id, State::Canceled, why())));
        self.stopping = true;
        out
    }

    /// `estop`: `engage` latches (outputs safe first, everything canceled), `release`
    /// lets new commands in again.
    pub fn on_estop(&mut self, engage: bool) -> Vec<Effect> {
        if !engage {
            self.estop = false;
            return vec![Effect::Log("e-stop released".into())];
        }
        self.estop = true;
        let mut out = vec![Effect::SafeOutputs];
        if let Some(id) = self.running.take() {
            out.push(Effect::CancelRunning { id: id.clone() });
            out.push(event(&id, State::Canceled, Some("e-stop".into())));
        }
        out.extend(self.queue.drain(..).map(|q| event(&q.id, State::Canceled, Some("e-stop".into()))));
        out
    }
}

#[cfg(test)]
mod tests;
