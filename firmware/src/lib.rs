//! Trinity firmware core: the part of the robot that touches the physical world.
//!
//! `#![no_std]`, no allocator, bounded collections from `heapless`. Everything here is a
//! plain value or a sans-IO state machine with time passed in, so it runs the same on a
//! Pi, a microcontroller and a unit test.
//!
//! What lives where:
//! - [`action`], [`plan`]: the v1 action vocabulary and plans of at most
//!   [`MAX_PLAN_LEN`] actions, exactly as in the MQTT contract (serde behind the `serde`
//!   feature, without allocation).
//! - [`limits`], [`envelope`]: the safety envelope. [`Limits::approve`] refuses a plan
//!   outside the board's limits whole, naming the violated limit; what it accepts is a
//!   [`CheckedPlan`], the only input the executor takes.
//! - [`executor`]: steps a checked plan against the hardware; cancel, e-stop latch and
//!   the failsafe [`watchdog`].
//! - [`hal`]: our hardware traits (drivetrain, arm, outputs), each with a safe state.
//! - [`drivers`]: PCA9685 servos, H-bridge motors and GPIO outputs over embedded-hal 1.0.
//! - [`time`]: milliseconds, passed in by the caller.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod action;
pub mod drivers;
pub mod envelope;
pub mod executor;
pub mod hal;
pub mod limits;
pub mod plan;
pub mod time;
pub mod watchdog;

pub use action::{Action, ActionKind, GripState, Name, NAME_CAPACITY};
pub use envelope::{CheckedPlan, Step};
pub use executor::{Executor, Motion, Outcome, Refused};
pub use limits::{Limits, Violation};
pub use plan::{Plan, PlanFull, MAX_PLAN_LEN};
pub use time::Millis;
