//! A simulated PCA9685 on a simulated I2C bus: a register file that decodes what the
//! firmware's servo driver writes into pulse widths, as the real chip would (datasheet
//! register map: MODE1 0x00, LEDn_ON_L 0x06 + 4n, PRE_SCALE 0xFE; MODE1 bit 5 is
//! auto-increment, bit 4 sleep; LEDn_OFF_H bit 4 is full off).

use std::sync::{Arc, Mutex};

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation, SevenBitAddress};

use super::World;

const MODE1: usize = 0x00;
const LED0_ON_L: usize = 0x06;
const PRE_SCALE: usize = 0xFE;
const AI: u8 = 1 << 5;
const SLEEP: u8 = 1 << 4;

/// The chip's registers.
#[derive(Debug, Clone)]
pub(crate) struct Registers {
    regs: [u8; 256],
    pointer: usize,
}

impl Default for Registers {
    fn default() -> Self {
        let mut regs = [0u8; 256];
        regs[MODE1] = 0x11; // power-on: SLEEP | ALLCALL
        regs[PRE_SCALE] = 0x1E; // power-on: 200 Hz
                                // Every channel powers up full off.
        for n in 0..16 {
            regs[LED0_ON_L + 4 * n + 3] = 0x10;
        }
        Registers { regs, pointer: 0 }
    }
}

impl Registers {
    fn write(&mut self, bytes: &[u8]) {
        let Some((&reg, data)) = bytes.split_first() else {
            return;
        };
        self.pointer = reg as usize;
        for &b in data {
            self.regs[self.pointer] = b;
            if self.regs[MODE1] & AI != 0 {
                self.pointer = (self.pointer + 1) % 256;
            }
        }
    }

    fn read(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.regs[self.pointer];
            if self.regs[MODE1] & AI != 0 {
                self.pointer = (self.pointer + 1) % 256;
            }
        }
    }

    /// Pulse width of channel `n` in µs, or `None` when the channel or the chip is off.
    pub(crate) fn pulse_us(&self, n: u8) -> Option<f32> {
        let base = LED0_ON_L + 4 * n as usize;
        let r = &self.regs[base..base + 4];
        if self.regs[MODE1] & SLEEP != 0 || r[3] & 0x10 != 0 {
            return None;
        }
        let on = u16::from(r[0]) | (u16::from(r[1] & 0x0F) << 8);
        let off = u16::from(r[2]) | (u16::from(r[3] & 0x0F) << 8);
        let counts = (off + 4096 - on) % 4096;
        let count_us = (f32::from(self.regs[PRE_SCALE]) + 1.0) / 25.0;
        Some(f32::from(counts) * count_us)
    }
}

/// The simulated I2C bus with the PCA9685 on it.
#[derive(Clone)]
pub struct SimI2c {
    pub(crate) world: Arc<Mutex<World>>,
}

impl ErrorType for SimI2c {
    type Error = ErrorKind;
}

impl I2c<SevenBitAddress> for SimI2c {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        let mut w = self.world.lock().map_err(|_| ErrorKind::Other)?;
        if w.faults.i2c {
            return Err(ErrorKind::Bus);
        }
        if address != w.pca_address {
            return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        for op in operations {
            match op {
                Operation::Write(bytes) => w.pca.write(bytes),
                Operation::Read(buf) => w.pca.read(buf),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_1500_us_pulse_after_wake_and_auto_increment() {
        let mut r = Registers::default();
        assert_eq!(r.pulse_us(0), None, "asleep and full off at power-on");
        r.write(&[0xFE, 121]);
        r.write(&[0x00, 0x21]); // awake, auto-increment
        r.write(&[0x06, 0x00, 0x00, 0x33, 0x01]); // channel 0: on 0, off 307
        let us = r.pulse_us(0).unwrap();
        assert!((us - 307.0 * 4.88).abs() < 0.01, "{us}");
        r.write(&[0x09, 0x10]); // full off
        assert_eq!(r.pulse_us(0), None);
    }

    #[test]
    fn without_auto_increment_writes_stay_on_one_register() {
        let mut r = Registers::default();
        r.write(&[0x00, 0x01]);
        r.write(&[0x06, 0xAA, 0xBB]);
        assert_eq!(r.regs[0x06], 0xBB);
        assert_eq!(r.regs[0x07], 0x00);
    }
}
