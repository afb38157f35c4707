use super::*;

const NO_JITTER: [u8; 2] = [0x80, 0x00];
const T0: i64 = 1_800_000_000_000;

fn fresh(schedule: &Schedule) -> Delivery {
    Delivery::new(
        "dlv_1".into(),
        Hook::Key("key_1".into()),
        "msg_1".into(),
        schedule,
        T0,
        NO_JITTER,
    )
}

fn fail(d: Delivery, response: Response, schedule: &Schedule) -> (Delivery, Effect) {
    let at = d.next_at_ms.unwrap();
    d.record(at, 0, &response, schedule, NO_JITTER)
}

#[test]
fn the_standard_schedule_is_the_specs() {
    let schedule = Schedule::standard();
    assert_eq!(schedule.attempts(), 10);
    let mut d = fresh(&schedule);
    assert_eq!(d.next_at_ms, Some(T0), "the first attempt is immediate");
    assert!(d.is_due(T0) && !d.is_due(T0 - 1));
    let mut times = vec![];
    while d.status == Status::Pending {
        times.push(d.next_at_ms.unwrap());
        d = fail(d, Response::Status(500), &schedule).0;
    }
    let waits: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]) / 1000).collect();
    assert_eq!(waits, STANDARD_DELAYS_SECONDS[1..]);
    assert_eq!(d.attempts, 10);
    assert_eq!(d.status, Status::Failed);
    assert_eq!(d.next_at_ms, None);
    assert!(!d.is_due(i64::MAX));
    assert_eq!(d.log.len(), 10);
    assert!(d.log.iter().all(|a| a.status == Some(500)));
}

#[test]
fn fails_twice_then_delivered_keeps_the_event_id() {
    let schedule = Schedule::custom(vec![0, 100, 100]).unwrap();
    let d = fresh(&schedule);
    let (d, _) = fail(d, Response::Status(503), &schedule);
    let (d, _) = fail(d, Response::Timeout, &schedule);
    assert_eq!(d.status, Status::Pending);
    let (d, effect) = fail(d, Response::Status(204), &schedule);
    assert_eq!(effect, Effect::None);
    assert_eq!(d.status, Status::Delivered);
    assert_eq!(d.attempts, 3);
    assert_eq!(d.event_id, "msg_1");
    assert_eq!(d.log[0].error.as_deref(), Some("503: not a 2xx"));
    assert_eq!(d.log[1].error.as_deref(), Some("no answer within 15 s"));
    assert_eq!(d.log[2].error, None);
    assert_eq!(d.log[2].status, Some(204));
}

#[test]
fn outcomes_are_classified() {
    for code in [200, 201, 204, 299] {
        assert_eq!(classify(&Response::Status(code)), Verdict::Delivered);
    }
    assert_eq!(classify(&Response::Status(410)), Verdict::Gone);
    for code in [
        100, 199, 300, 301, 302, 303, 307, 308, 400, 401, 404, 409, 429, 500, 502, 0, 999,
    ] {
        assert_eq!(classify(&Response::Status(code)), Verdict::Failed, "{code}");
    }
    assert_eq!(classify(&Response::Timeout), Verdict::Failed);
    assert_eq!(
        classify(&Response::Network("reset".into())),
        Verdict::Failed
    );
    assert_eq!(
        classify(&Response::Refused("private".into())),
        Verdict::Failed
    );
}

#[test]
fn a_redirect_is_a_failure_and_says_so() {
    let schedule = Schedule::standard();
    let (d, effect) = fail(fresh(&schedule), Response::Status(307), &schedule);
    assert_eq!(effect, Effect::None);
    assert_eq!(d.status, Status::Pending);
    assert_eq!(
        d.log[0].error.as_deref(),
        Some("307: redirects are not followed")
    );
}

#[test]
fn gone_disables_the_webhook() {
    let schedule = Schedule::standard();
    let (d, effect) = fail(fresh(&schedule), Response::Status(410), &schedule);
    assert_eq!(effect, Effect::DisableHook);
    assert_eq!(d.status, Status::Disabled);
    assert_eq!(d.next_at_ms, None);
    // Other pending deliveries of that webhook stop; finished ones stay.
    let other = fresh(&schedule).hook_disabled();
    assert_eq!(other.status, Status::Disabled);
    let delivered = fail(fresh(&schedule), Response::Status(200), &schedule).0;
    assert_eq!(delivered.clone().hook_disabled(), delivered);
    // A disabled delivery cannot be retried by hand.
    let mut d = d;
    assert!(!d.retry_now(T0));
    assert_eq!(d.status, Status::Disabled);
}

#[test]
fn manual_retry_sends_again_once() {
    let schedule = Schedule::custom(vec![0]).unwrap();
    let (d, _) = fail(
        fresh(&schedule),
        Response::Network("connection reset".into()),
        &schedule,
    );
    assert_eq!(d.status, Status::Failed);
    assert_eq!(
        d.log[0].error.as_deref(),
        Some("network error: connection reset")
    );
    let mut d = d;
    assert!(d.retry_now(T0 + 5));
    assert!(d.is_due(T0 + 5));
    let (d, _) = fail(d, Response::Status(500), &schedule);
    assert_eq!(d.status, Status::Failed, "the schedule is spent");
    let mut d = d;
    assert!(d.retry_now(T0 + 9));
    let (mut d, _) = fail(d, Response::Status(200), &schedule);
    assert_eq!(d.status, Status::Delivered);
    assert_eq!(d.attempts, 3);
    assert!(!d.retry_now(T0), "a delivered one is not sent again");
    assert_eq!(d.status, Status::Delivered);
}

#[test]
fn the_log_and_errors_are_bounded() {
    let schedule = Schedule::custom(vec![0]).unwrap();
    let mut d = fresh(&schedule);
    for i in 0..(MAX_LOG + 5) {
        assert!(d.retry_now(T0 + i as i64));
        let huge = format!("é{}\n\r\u{0}", "x".repeat(1000));
        d = fail(d, Response::Network(huge), &schedule).0;
    }
    assert_eq!(d.log.len(), MAX_LOG);
    assert_eq!(d.log[0].at_ms, T0 + 5, "the oldest are dropped");
    let error = d.log[0].error.as_deref().unwrap();
    assert!(error.len() <= MAX_ERROR_BYTES);
    assert!(!error.chars().any(char::is_control));
}

#[test]
fn custom_schedules_are_bounded() {
    assert!(Schedule::custom(vec![]).is_err());
    assert!(Schedule::custom(vec![0; MAX_ATTEMPTS + 1]).is_err());
    assert!(Schedule::custom(vec![0, -1]).is_err());
    assert!(Schedule::custom(vec![0, MAX_DELAY_MS + 1]).is_err());
    assert!(Schedule::custom(vec![0; MAX_ATTEMPTS]).is_ok());
    assert_eq!(Schedule::standard().due(0, T0, NO_JITTER), None);
    assert_eq!(Schedule::standard().due(11, T0, NO_JITTER), None);
}

#[test]
fn the_alarm_goes_to_the_earliest_pending_attempt() {
    let schedule = Schedule::standard();
    let a = fail(fresh(&schedule), Response::Status(500), &schedule).0; // T0 + 5 s
    let b = fresh(&schedule); // T0
    let done = fail(fresh(&schedule), Response::Status(200), &schedule).0;
    assert_eq!(next_due([&a, &b, &done]), Some(T0));
    assert_eq!(next_due([&a, &done]), Some(T0 + 5_000));
    assert_eq!(next_due([&done]), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn jitter_stays_within_ten_percent(
            attempt in 1u32..=10,
            random in any::<[u8; 2]>(),
            after in 0i64..4_000_000_000_000,
        ) {
            let schedule = Schedule::standard();
            let wait = STANDARD_DELAYS_SECONDS[attempt as usize - 1] * 1000;
            let due = schedule.due(attempt, after, random).unwrap();
            prop_assert!(due >= after + wait - wait / 10);
            prop_assert!(due <= after + wait + wait / 10);
        }

        #[test]
        fn any_sequence_of_outcomes_ends_within_the_schedule(
            codes in proptest::collection::vec(0u16..600, 1..30),
            random in any::<[u8; 2]>(),
        ) {
            let schedule = Schedule::standard();
            let mut d = fresh(&schedule);
            for code in codes {
                if d.status != Status::Pending { break; }
                let at = d.next_at_ms.unwrap();
                d = d.record(at, 15_000, &Response::Status(code), &schedule, random).0;
                prop_assert!(d.attempts <= schedule.attempts());
                prop_assert_eq!(d.next_at_ms.is_some(), d.status == Status::Pending);
                if let Some(next) = d.next_at_ms { prop_assert!(next > at); }
            }
        }
    }
}
