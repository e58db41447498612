//! The robot as the daemon drives it: an executor on real or simulated hardware behind one
//! object-safe trait, plus the slot where the running command waits for its outcome.

use serde_json::Value;
use tokio::sync::oneshot;
use trinity_boards::sim::{Sim, SimExecutor};
use trinity_boards::Board;
use trinity_firmware::{CheckedPlan, Millis, Outcome, Refused};

/// What the daemon needs from a robot.
pub trait Robot: Send {
    /// Start a plan.
    fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<Option<Outcome>, Refused>;
    /// Advance (the control loop calls this every few ms).
    fn poll(&mut self, now: Millis) -> Option<Outcome>;
    /// Cancel the running plan.
    fn cancel(&mut self) -> Option<Outcome>;
    /// Latch the e-stop: outputs safe now.
    fn engage_estop(&mut self) -> Option<Outcome>;
    /// Release the e-stop latch.
    fn release_estop(&mut self);
    /// Feed the watchdog.
    fn feed(&mut self, now: Millis);
    /// State for telemetry.
    fn telemetry(&self) -> Value;
}

/// The sim board: its executor and simulated hardware, advanced in real time.
pub struct SimRobot {
    sim: Sim,
    ex: SimExecutor,
    last: Millis,
}

impl SimRobot {
    /// A sim robot for `board`.
    pub fn new(board: &Board, now: Millis) -> anyhow::Result<Self> {
        let sim = Sim::new(board);
        let ex = sim.executor(now)?;
        Ok(SimRobot { sim, ex, last: now })
    }

    fn catch_up(&mut self, now: Millis) {
        self.sim.advance(now.since(self.last));
        self.last = self.last.max(now);
    }
}

impl Robot for SimRobot {
    fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<Option<Outcome>, Refused> {
        self.catch_up(now);
        self.ex.start(plan, now)
    }

    fn poll(&mut self, now: Millis) -> Option<Outcome> {
        self.catch_up(now);
        self.ex.poll(now)
    }

    fn cancel(&mut self) -> Option<Outcome> {
        self.ex.cancel()
    }

    fn engage_estop(&mut self) -> Option<Outcome> {
        self.ex.engage_estop()
    }

    fn release_estop(&mut self) {
        self.ex.release_estop()
    }

    fn feed(&mut self, now: Millis) {
        self.ex.feed(now)
    }

    fn telemetry(&self) -> Value {
        serde_json::to_value(self.sim.state()).unwrap_or(Value::Null)
    }
}

/// A Raspberry Pi's real hardware (`trinity_boards::linux`): the same executor as the sim,
/// on I2C (the PCA9685 servo HAT), GPIO lines and sysfs PWM.
pub struct LinuxRobot {
    ex: trinity_boards::linux::LinuxExecutor,
    board: String,
}

impl LinuxRobot {
    /// Open the board's hardware (outputs start safe); the error names the device.
    pub fn open(board: &Board, now: Millis) -> anyhow::Result<Self> {
        let ex = trinity_boards::linux::executor(board, now)
            .map_err(|e| anyhow::anyhow!("board {}: {e} (see `trinity doctor --board {}`)", board.name, board.name))?;
        Ok(LinuxRobot { ex, board: board.name.clone() })
    }
}

impl Robot for LinuxRobot {
    fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<Option<Outcome>, Refused> {
        self.ex.start(plan, now)
    }

    fn poll(&mut self, now: Millis) -> Option<Outcome> {
        self.ex.poll(now)
    }

    fn cancel(&mut self) -> Option<Outcome> {
        self.ex.cancel()
    }

    fn engage_estop(&mut self) -> Option<Outcome> {
        self.ex.engage_estop()
    }

    fn release_estop(&mut self) {
        self.ex.release_estop()
    }

    fn feed(&mut self, now: Millis) {
        self.ex.feed(now)
    }

    fn telemetry(&self) -> Value {
        // No sensors on the reference robot: what the executor knows.
        serde_json::json!({
            "board": self.board,
            "estop": self.ex.estopped(),
            "step": self.ex.progress().map(|(i, n)| [i, n]),
        })
    }
}

/// The robot for `board`: the sim, or the board's real hardware.
pub fn open(board: &Board, now: Millis) -> anyhow::Result<Box<dyn Robot>> {
    if board.name == "sim" {
        Ok(Box::new(SimRobot::new(board, now)?))
    } else {
        Ok(Box::new(LinuxRobot::open(board, now)?))
    }
}

/// A robot and whoever waits for the running plan's outcome.
pub struct RobotCell {
    /// The robot.
    pub robot: Box<dyn Robot>,
    waiter: Option<oneshot::Sender<Outcome>>,
}

impl RobotCell {
    /// Wrap a robot.
    pub fn new(robot: Box<dyn Robot>) -> Self {
        RobotCell { robot, waiter: None }
    }

    /// Start `plan`; the receiver gets its outcome.
    pub fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<oneshot::Receiver<Outcome>, Refused> {
        let (tx, rx) = oneshot::channel();
        let first = self.robot.start(plan, now)?;
        self.waiter = Some(tx);
        self.deliver(first);
        Ok(rx)
    }

    /// Hand an outcome to the waiter, if there is one.
    pub fn deliver(&mut self, outcome: Option<Outcome>) {
        if let Some(o) = outcome {
            if let Some(w) = self.waiter.take() {
                let _ = w.send(o);
            }
        }
    }
}
