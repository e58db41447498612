//! Trinity firmware core: the part of the robot that touches the physical world.
//!
//! `#![no_std]`, no allocator, bounded collections from `heapless`. Everything here is a
//! plain value or a sans-IO state machine, so it runs the same on a Pi, a microcontroller
//! and a unit test.
//!
//! What lives where:
//! - [`action`]: the v1 action vocabulary (`drive`, `turn`, `stop`, `servo`, `grip`,
//!   `output`, `wait`) exactly as in the MQTT contract, with serde behind the `serde`
//!   feature (no allocation: actions are parsed through a flat wire struct).
//! - [`plan`]: a plan, at most [`MAX_PLAN_LEN`] actions.
//! - [`limits`]: the board's limits and the check that refuses a plan outside them,
//!   naming the violated limit.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code, missing_docs)]

pub mod action;
pub mod limits;
pub mod plan;

pub use action::{Action, ActionKind, GripState, Name, NAME_CAPACITY};
pub use limits::{Limits, Violation};
pub use plan::{Plan, PlanFull, MAX_PLAN_LEN};
