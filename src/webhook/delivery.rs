//! The outbox delivery state machine: one row per (event, webhook), its
//! retry schedule with jitter, and what each attempt's outcome does.
//!
//! Pure: the clock (`now_ms`, Unix milliseconds) and random bytes (jitter)
//! come in as arguments, so the alarm that drains the outbox only stores
//! what [`Delivery::record`] returns. Invariants: a delivery's `webhook-id`
//! is its event's id on every attempt (at least once, never a new id);
//! only a 2xx marks it delivered; a 410 disables the webhook; a redirect
//! is a failure (redirects are never followed); a delivery is attempted at
//! most [`Schedule::attempts`] times by the schedule (plus manual
//! retries), its attempt log keeps at most [`MAX_LOG`] entries, and a
//! finished delivery has no `next_at_ms`.

use serde::{Deserialize, Serialize};

use super::event::Hook;

/// Each attempt's time limit, in milliseconds.
pub const ATTEMPT_TIMEOUT_MS: u32 = 15_000;
pub use crate::config::hook_defaults::{MAX_ATTEMPTS, MAX_DELAY_MS, STANDARD_DELAYS_SECONDS};
/// Attempt log entries kept per delivery (the oldest are dropped).
pub const MAX_LOG: usize = 32;
/// Longest error text kept in an attempt log entry, in bytes.
pub const MAX_ERROR_BYTES: usize = 200;
/// Jitter, as a fraction of a wait: up to this many per mille either way.
pub const JITTER_PER_MILLE: i64 = 100;

/// When the attempts of a delivery happen: the wait before each, in
/// milliseconds, the first usually zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(Vec<i64>);

impl Schedule {
    /// The Standard Webhooks schedule.
    pub fn standard() -> Schedule {
        Schedule(STANDARD_DELAYS_SECONDS.iter().map(|s| s * 1_000).collect())
    }

    /// A custom schedule (test configs shorten it): 1 to [`MAX_ATTEMPTS`]
    /// waits, each from 0 to [`MAX_DELAY_MS`]
    /// ([`crate::config::check_retry_schedule`]).
    pub fn custom(delays_ms: Vec<i64>) -> Result<Schedule, String> {
        crate::config::check_retry_schedule(&delays_ms)?;
        Ok(Schedule(delays_ms))
    }

    /// The schedule the config names (`[webhooks] retry_schedule_ms`).
    pub fn from_config(hooks: &crate::config::Hooks) -> Result<Schedule, String> {
        Schedule::custom(hooks.retry_schedule_ms.clone())
    }

    /// How many attempts the schedule makes.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    /// When attempt number `attempt` (1-based) is due, if the schedule
    /// has one, after the previous attempt at `after_ms`: the wait plus or
    /// minus up to [`JITTER_PER_MILLE`]‰ of it, from two random bytes.
    pub fn due(&self, attempt: u32, after_ms: i64, random: [u8; 2]) -> Option<i64> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        let wait = *self.0.get(index)?;
        let spread = i64::from(u16::from_be_bytes(random)) - 32_768; // -32768..=32767
        let jitter = wait * JITTER_PER_MILLE / 1_000 * spread / 32_768;
        Some(after_ms.saturating_add(wait + jitter))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its next attempt at `next_at_ms`.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// Every scheduled attempt failed; only a manual retry sends again.
    Failed,
    /// Its webhook answered 410 (or was disabled by another delivery's
    /// 410) before it was delivered.
    Disabled,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Disabled => "disabled",
        }
    }
}

/// What one attempt got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An HTTP status (redirects are not followed, so 3xx arrive here).
    Status(u16),
    /// No answer within [`ATTEMPT_TIMEOUT_MS`].
    Timeout,
    /// The connection failed; the runtime's reason.
    Network(String),
    /// Not sent: the target failed the send-time check (see
    /// [`super::target`]); why.
    Refused(String),
}

/// One attempt, as the deliveries list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it started, Unix milliseconds.
    pub at_ms: i64,
    /// The HTTP status, if one came back.
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u32,
    /// Why it failed, if it did (bounded, never a secret).
    pub error: Option<String>,
}

/// How an outcome is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx.
    Delivered,
    /// 410 Gone: disable the webhook.
    Gone,
    /// Anything else: try again if the schedule allows.
    Failed,
}

/// Classifies a response.
pub fn classify(response: &Response) -> Verdict {
    match response {
        Response::Status(code) if (200..300).contains(code) => Verdict::Delivered,
        Response::Status(410) => Verdict::Gone,
        _ => Verdict::Failed,
    }
}

/// An outbox row: one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The delivery's id (for the deliveries list and manual retry).
    pub id: String,
    /// The webhook it goes to.
    pub hook: Hook,
    /// The event's id: the `webhook-id` of every attempt.
    pub event_id: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due, Unix milliseconds; `None` once
    /// finished.
    pub next_at_ms: Option<i64>,
    /// Where it stands.
    pub status: Status,
    /// The latest attempts, oldest first.
    pub log: Vec<Attempt>,
}

/// What recording an attempt asks the caller to do besides storing the
/// updated row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing more.
    None,
    /// Disable the webhook, mark its other pending deliveries
    /// [`Status::Disabled`] ([`Delivery::hook_disabled`]) and emit a
    /// `webhook.disabled` event to the account's endpoints.
    DisableHook,
}

impl Delivery {
    /// A new row, due at once (the schedule's first wait from `now_ms`).
    pub fn new(
        id: String,
        hook: Hook,
        event_id: String,
        schedule: &Schedule,
        now_ms: i64,
        random: [u8; 2],
    ) -> Delivery {
        Delivery {
            id,
            hook,
            event_id,
            attempts: 0,
            next_at_ms: Some(schedule.due(1, now_ms, random).unwrap_or(now_ms)),
            status: Status::Pending,
            log: Vec::new(),
        }
    }

    /// Whether an attempt is due at `now_ms`.
    pub fn is_due(&self, now_ms: i64) -> bool {
        self.status == Status::Pending && self.next_at_ms.is_some_and(|at| at <= now_ms)
    }

    /// Records an attempt that started at `at_ms` and took `latency_ms`,
    /// and schedules the next one (with `random` for jitter) or finishes.
    pub fn record(
        mut self,
        at_ms: i64,
        latency_ms: u32,
        response: &Response,
        schedule: &Schedule,
        random: [u8; 2],
    ) -> (Delivery, Effect) {
        self.attempts = self.attempts.saturating_add(1);
        let (status, error) = match response {
            Response::Status(code) => {
                let error = match classify(response) {
                    Verdict::Delivered => None,
                    Verdict::Gone => Some("410 Gone: the webhook is disabled".to_owned()),
                    Verdict::Failed if (300..400).contains(code) => {
                        Some(format!("{code}: redirects are not followed"))
                    }
                    Verdict::Failed => Some(format!("{code}: not a 2xx")),
                };
                (Some(*code), error)
            }
            Response::Timeout => (
                None,
                Some(format!("no answer within {} s", ATTEMPT_TIMEOUT_MS / 1_000)),
            ),
            Response::Network(why) => (None, Some(format!("network error: {why}"))),
            Response::Refused(why) => (None, Some(format!("not sent: {why}"))),
        };
        self.log.push(Attempt {
            at_ms,
            status,
            latency_ms,
            error: error.map(|e| bounded(&e)),
        });
        if self.log.len() > MAX_LOG {
            let excess = self.log.len() - MAX_LOG;
            self.log.drain(..excess);
        }
        let effect = match classify(response) {
            Verdict::Delivered => {
                self.finish(Status::Delivered);
                Effect::None
            }
            Verdict::Gone => {
                self.finish(Status::Disabled);
                Effect::DisableHook
            }
            Verdict::Failed => {
                let end = at_ms.saturating_add(i64::from(latency_ms));
                match schedule.due(self.attempts.saturating_add(1), end, random) {
                    Some(next) => self.next_at_ms = Some(next),
                    None => self.finish(Status::Failed),
                }
                Effect::None
            }
        };
        (self, effect)
    }

    fn finish(&mut self, status: Status) {
        self.status = status;
        self.next_at_ms = None;
    }

    /// A manual retry (`POST …/deliveries/{id}/retry`): due at `now_ms`,
    /// whatever its state, unless it was delivered or its webhook is
    /// disabled (then it is left unchanged and `false` is returned). If
    /// this attempt fails and the schedule is spent, it is failed again.
    pub fn retry_now(&mut self, now_ms: i64) -> bool {
        match self.status {
            Status::Delivered | Status::Disabled => false,
            Status::Pending | Status::Failed => {
                self.status = Status::Pending;
                self.next_at_ms = Some(now_ms);
                true
            }
        }
    }

    /// Its webhook was disabled: a pending delivery stops.
    pub fn hook_disabled(mut self) -> Delivery {
        if self.status == Status::Pending {
            self.finish(Status::Disabled);
        }
        self
    }
}

/// The earliest attempt due among `deliveries`: where the alarm goes next.
pub fn next_due<'a>(deliveries: impl IntoIterator<Item = &'a Delivery>) -> Option<i64> {
    deliveries
        .into_iter()
        .filter(|d| d.status == Status::Pending)
        .filter_map(|d| d.next_at_ms)
        .min()
}

fn bounded(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.len() <= MAX_ERROR_BYTES {
        return clean;
    }
    let mut end = MAX_ERROR_BYTES;
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    clean.get(..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
