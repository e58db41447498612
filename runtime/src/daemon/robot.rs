//! The robot as the daemon drives it: an executor on real or simulated hardware behind one
//! object-safe trait, plus the slot where the running command waits for its outcome.

use serde_json::Value;
use tokio::sync::oneshot;
use trinity_boards::sim::Sim;
use trinity_boards::Board;
use trinity_firmware::hal::{Arm, Drivetrain, Outputs};
use trinity_firmware::{CheckedPlan, Executor, Millis, Outcome, Refused};

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
    /// Whether the e-stop latch is engaged.
    fn estopped(&self) -> bool;
}

/// What surrounds an executor: the simulated world, or a real board.
pub trait World: Send {
    /// Bring the world up to `now` before the executor acts (the sim's physics).
    fn advance(&mut self, _now: Millis) {}
    /// State for telemetry, given the executor's e-stop latch and plan progress.
    fn telemetry(&self, estop: bool, step: Option<(usize, usize)>) -> Value;
}

/// An executor on some hardware, in its world: every robot the daemon drives.
pub struct ExecutorRobot<D, A, O, W> {
    ex: Executor<D, A, O>,
    world: W,
}

impl<D, A, O, W> Robot for ExecutorRobot<D, A, O, W>
where
    D: Drivetrain + Send,
    A: Arm + Send,
    O: Outputs + Send,
    W: World,
{
    fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<Option<Outcome>, Refused> {
        self.world.advance(now);
        self.ex.start(plan, now)
    }

    fn poll(&mut self, now: Millis) -> Option<Outcome> {
        self.world.advance(now);
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
        self.world.telemetry(self.ex.estopped(), self.ex.progress())
    }

    fn estopped(&self) -> bool {
        self.ex.estopped()
    }
}

/// The sim board's world, advanced in real time.
pub struct SimWorld {
    sim: Sim,
    last: Millis,
}

impl World for SimWorld {
    fn advance(&mut self, now: Millis) {
        self.sim.advance(now.since(self.last));
        self.last = self.last.max(now);
    }

    fn telemetry(&self, _estop: bool, _step: Option<(usize, usize)>) -> Value {
        serde_json::to_value(self.sim.state()).unwrap_or(Value::Null)
    }
}

/// A Raspberry Pi (`trinity_boards::linux`): the same executor as the sim, on I2C (the
/// PCA9685 servo HAT), GPIO lines and sysfs PWM. No sensors on the reference robot:
/// telemetry is what the executor knows.
pub struct PiWorld {
    board: String,
}

impl World for PiWorld {
    fn telemetry(&self, estop: bool, step: Option<(usize, usize)>) -> Value {
        serde_json::json!({"board": self.board, "estop": estop, "step": step.map(|(i, n)| [i, n])})
    }
}

/// The sim robot.
pub fn sim(board: &Board, now: Millis) -> anyhow::Result<Box<dyn Robot>> {
    let sim = Sim::new(board);
    let ex = sim.executor(now)?;
    Ok(Box::new(ExecutorRobot { ex, world: SimWorld { sim, last: now } }))
}

/// The board's real hardware, opened (outputs start safe); the error names the device.
pub fn pi(board: &Board, now: Millis) -> anyhow::Result<Box<dyn Robot>> {
    let ex = trinity_boards::linux::executor(board, now)
        .map_err(|e| anyhow::anyhow!("board {}: {e} (see `trinity doctor --board {}`)", board.name, board.name))?;
    Ok(Box::new(ExecutorRobot { ex, world: PiWorld { board: board.name.clone() } }))
}

/// The robot for `board`: the sim, or the board's real hardware.
pub fn open(board: &Board, now: Millis) -> anyhow::Result<Box<dyn Robot>> {
    if board.is_simulated() {
        sim(board, now)
    } else {
        pi(board, now)
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
