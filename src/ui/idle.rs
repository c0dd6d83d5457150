//! The idle reset: after a while without a touch, a countdown, then back to home with
//! everything cleared for the next visitor. Pure: driven by one tick a second.

/// Idle bookkeeping, in whole seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idle {
    /// Seconds without a touch before the countdown starts.
    pub timeout: u32,
    /// Seconds the countdown lasts.
    pub countdown: u32,
    idle: u32,
}

/// What a tick asks the screen to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleStep {
    /// Nothing to show.
    Quiet,
    /// Show the countdown with this many seconds left.
    Countdown(u32),
    /// Go home and clear everything.
    Reset,
}

impl Idle {
    pub fn new(timeout: u32, countdown: u32) -> Idle {
        Idle {
            timeout: timeout.max(1),
            countdown: countdown.max(1),
            idle: 0,
        }
    }

    /// A touch: the visitor is there.
    pub fn touched(&mut self) {
        self.idle = 0;
    }

    /// One second passed. `pristine` says the screen is already as the next visitor should find
    /// it (home, nothing typed, default settings): then there is nothing to count down for.
    pub fn tick(&mut self, pristine: bool) -> IdleStep {
        if pristine {
            self.idle = 0;
            return IdleStep::Quiet;
        }
        self.idle = self.idle.saturating_add(1);
        if self.idle < self.timeout {
            IdleStep::Quiet
        } else if self.idle < self.timeout + self.countdown {
            IdleStep::Countdown(self.timeout + self.countdown - self.idle)
        } else {
            self.idle = 0;
            IdleStep::Reset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_resets() {
        let mut idle = Idle::new(3, 2);
        let steps: Vec<IdleStep> = (0..6).map(|_| idle.tick(false)).collect();
        assert_eq!(
            steps,
            [
                IdleStep::Quiet,
                IdleStep::Quiet,
                IdleStep::Countdown(2),
                IdleStep::Countdown(1),
                IdleStep::Reset,
                IdleStep::Quiet
            ]
        );
    }

    #[test]
    fn a_touch_or_a_pristine_screen_starts_over() {
        let mut idle = Idle::new(2, 2);
        idle.tick(false);
        idle.touched();
        assert_eq!(idle.tick(false), IdleStep::Quiet);
        assert_eq!(idle.tick(false), IdleStep::Countdown(2));
        assert_eq!(idle.tick(true), IdleStep::Quiet);
        assert_eq!(idle.tick(false), IdleStep::Quiet);
    }
}
