//! Named on/off outputs (lights, horn, relays) on GPIO pins, active high.

use embedded_hal::digital::OutputPin;

use crate::hal::{HwError, Outputs};

/// Up to `N` outputs, numbered in the board's order.
pub struct GpioOutputs<P, const N: usize> {
    pins: heapless::Vec<P, N>,
}

impl<P: OutputPin, const N: usize> GpioOutputs<P, N> {
    /// Outputs on these pins (index = the board's output order). Not switched yet.
    pub fn new(pins: heapless::Vec<P, N>) -> Self {
        GpioOutputs { pins }
    }

    /// Give the pins back.
    pub fn destroy(self) -> heapless::Vec<P, N> {
        self.pins
    }
}

impl<P: OutputPin, const N: usize> Outputs for GpioOutputs<P, N> {
    fn set(&mut self, index: usize, on: bool) -> Result<(), HwError> {
        let pin = self.pins.get_mut(index).ok_or(HwError::NoSuchChannel)?;
        if on { pin.set_high() } else { pin.set_low() }.map_err(|_| HwError::Pin)
    }

    fn safe(&mut self) -> Result<(), HwError> {
        let mut first = Ok(());
        for pin in self.pins.iter_mut() {
            first = first.and(pin.set_low().map_err(|_| HwError::Pin));
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as P};

    #[test]
    fn set_and_safe_drive_the_right_pins() {
        let lights = Pin::new(&[P::set(State::High), P::set(State::Low)]);
        let horn = Pin::new(&[P::set(State::Low)]);
        let mut o: GpioOutputs<Pin, 2> = GpioOutputs::new(heapless::Vec::from_slice(&[lights, horn]).unwrap());
        o.set(0, true).unwrap();
        assert_eq!(o.set(2, true), Err(HwError::NoSuchChannel));
        o.safe().unwrap();
        for mut p in o.destroy() {
            p.done();
        }
    }
}
