//! The e-stop latch on disk: a robot that was e-stopped stays e-stopped across a restart, a
//! crash or a power cut, until someone releases it.
//!
//! One small file per robot id in the state directory (`estop-{robot_id}`), holding
//! `engaged` or `released`, replaced atomically (write, fsync, rename, fsync the directory).
//! Anything else in the file (a torn write on a filesystem that does not keep renames
//! atomic, a hand edit) reads as engaged: fail safe.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a robot's latch lives.
#[derive(Debug, Clone)]
pub struct Latch {
    path: PathBuf,
}

impl Latch {
    /// The latch of `robot_id` under `state_dir`.
    pub fn new(state_dir: &Path, robot_id: &str) -> Latch {
        Latch { path: state_dir.join(format!("estop-{robot_id}")) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the latch was engaged. No file: released (a robot's first start).
    pub fn load(&self) -> std::io::Result<bool> {
        match std::fs::read_to_string(&self.path) {
            Ok(s) => Ok(s.trim() != "released"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Record the latch, durably, before returning.
    pub fn store(&self, engaged: bool) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = self.path.with_file_name(format!("{name}.new"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(if engaged { b"engaged\n" } else { b"released\n" })?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latch_survives_a_new_reader_and_starts_released() {
        let dir = tempfile::tempdir().unwrap();
        let latch = Latch::new(&dir.path().join("state"), "robot1");
        assert!(!latch.load().unwrap(), "no file yet");
        latch.store(true).unwrap();
        assert!(Latch::new(&dir.path().join("state"), "robot1").load().unwrap());
        assert!(!Latch::new(&dir.path().join("state"), "robot2").load().unwrap(), "per robot");
        latch.store(false).unwrap();
        assert!(!latch.load().unwrap());
        // Ids that differ after a dot keep files (and temporary files) of their own.
        let (a, b) = (Latch::new(dir.path(), "robot.1"), Latch::new(dir.path(), "robot.2"));
        a.store(true).unwrap();
        b.store(false).unwrap();
        assert!(a.load().unwrap() && !b.load().unwrap());
    }

    #[test]
    fn a_garbled_latch_reads_as_engaged() {
        let dir = tempfile::tempdir().unwrap();
        let latch = Latch::new(dir.path(), "r");
        std::fs::write(latch.path(), "relea").unwrap();
        assert!(latch.load().unwrap());
    }
}
