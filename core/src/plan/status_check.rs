//! A submitted batch whose result event never arrives.
//!
//! WeChat pushes MASSSENDJOBFINISH once the send ends, retrying 3 times; a callback URL that is
//! down through those retries loses the event, and the batch would stay submitted forever. So a
//! batch submitted [`RESULT_EVENT_WAIT_MS`] ago without its event is asked about with mass/get
//! ([`crate::endpoint::GetStatusRequest`]), and [`after_status`] turns the answer into the
//! batch's outcome:
//!
//! | mass/get says | outcome |
//! |---|---|
//! | `SEND_SUCCESS` | finished; the counts are unknown (only the event carries them) |
//! | `DELETE` | finished (sent, then deleted); counts unknown |
//! | `SEND_FAIL` | failed |
//! | `SENDING`, an unknown status, or no answer | check again later (backoff), failed once [`STATUS_CHECK_GIVE_UP_MS`] have passed since WeChat accepted the send |
//!
//! A result event that arrives after all still counts: the driver may apply it to a batch
//! finished from a status, and it brings the counts.

use serde::Serialize;

use super::china_time::UnixMillis;
use super::outcome::{BatchOutcome, Delivery, Text};
use crate::endpoint::MsgStatus;
use crate::limits::{RESULT_EVENT_WAIT_MS, STATUS_CHECK_GIVE_UP_MS, STATUS_CHECK_INTERVAL_MAX_MS};

/// What to do with a submitted batch after a mass/get check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[serde(rename_all_fields = "camelCase")]
pub enum StatusCheck {
    /// The send ended: the batch is finished, without the event's counts.
    Finished {
        /// The status mass/get gave (`SEND_SUCCESS`, `DELETE`).
        status: String,
        /// For a person: where the outcome came from and what is unknown.
        note: Text,
    },
    /// The send failed, or never ended in time.
    Failed {
        /// Why, for a person.
        reason: Text,
    },
    /// Ask again at `at`.
    CheckAgainAt {
        /// The next check.
        at: UnixMillis,
    },
}

/// When to first ask about a batch WeChat accepted at `submitted_at`, if its event has not come.
pub fn first_status_check_at(submitted_at: UnixMillis) -> UnixMillis {
    submitted_at.plus_millis(RESULT_EVENT_WAIT_MS)
}

/// The outcome of a check at `now` of a batch accepted at `submitted_at`. `status` is what
/// mass/get said (`None`: no usable answer); `checks_before` is how many checks came before this
/// one (it sets the backoff).
pub fn after_status(
    status: Option<&MsgStatus>,
    submitted_at: UnixMillis,
    checks_before: u32,
    now: UnixMillis,
) -> StatusCheck {
    // Whether an answer ends the batch, and how, is the one outcome rule's (the push path asks
    // it too), so SEND_FAIL here and `send fail` in a push give the same answer.
    if let Some(outcome) = status.and_then(BatchOutcome::of_status) {
        return match outcome.delivery {
            Delivery::Refused => StatusCheck::Failed {
                reason: Text::new(outcome.en, outcome.zh),
            },
            Delivery::Delivered | Delivery::PartlyDelivered => StatusCheck::Finished {
                status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                note: Text::new(outcome.en, outcome.zh),
            },
        };
    }
    let pending = status;
    let give_up_at = submitted_at.plus_millis(STATUS_CHECK_GIVE_UP_MS);
    if now >= give_up_at {
        let hours = STATUS_CHECK_GIVE_UP_MS / 3_600_000;
        let reason = match pending {
            Some(MsgStatus::Sending) => Text::new(
                format!("no result event and still SENDING after {hours} h"),
                format!("{hours} 小时后仍未收到结果推送，mass/get 仍为 SENDING（发送中）"),
            ),
            Some(other) => Text::new(
                format!(
                    "no result event and mass/get still says {:?} after {hours} h",
                    other.as_str()
                ),
                format!(
                    "{hours} 小时后仍未收到结果推送，mass/get 仍返回 {:?}",
                    other.as_str()
                ),
            ),
            None => Text::new(
                format!("no result event and no answer from mass/get after {hours} h"),
                format!("{hours} 小时后仍未收到结果推送，mass/get 也没有应答"),
            ),
        };
        return StatusCheck::Failed { reason };
    }
    let shift = checks_before.min(16);
    let wait = RESULT_EVENT_WAIT_MS
        .saturating_mul(1i64 << shift)
        .min(STATUS_CHECK_INTERVAL_MAX_MS);
    StatusCheck::CheckAgainAt {
        at: now.plus_millis(wait).min(give_up_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_718_000_000_000);
    const MIN: i64 = 60_000;

    #[test]
    fn first_check_waits_thirty_minutes() {
        assert_eq!(first_status_check_at(T0), T0.plus_millis(30 * MIN));
    }

    #[test]
    fn send_success_finishes_without_counts() {
        let c = after_status(
            Some(&MsgStatus::SendSuccess),
            T0,
            0,
            T0.plus_millis(30 * MIN),
        );
        let StatusCheck::Finished { status, note } = c else {
            panic!("{c:?}")
        };
        assert_eq!(status, "SEND_SUCCESS");
        assert!(note.en.contains("counts are unknown"), "{}", note.en);
        assert!(note.zh.contains("送达人数未知"), "{}", note.zh);
    }

    #[test]
    fn delete_finishes_with_a_note() {
        let c = after_status(Some(&MsgStatus::Delete), T0, 3, T0.plus_millis(40 * MIN));
        assert!(matches!(c, StatusCheck::Finished { ref status, .. } if status == "DELETE"));
    }

    #[test]
    fn send_fail_fails_with_a_reason() {
        let c = after_status(Some(&MsgStatus::SendFail), T0, 0, T0.plus_millis(30 * MIN));
        assert!(matches!(c, StatusCheck::Failed { ref reason } if reason.en.contains("SEND_FAIL")));
    }

    #[test]
    fn sending_checks_again_with_backoff_capped() {
        let now = T0.plus_millis(30 * MIN);
        let at = |checks| match after_status(Some(&MsgStatus::Sending), T0, checks, now) {
            StatusCheck::CheckAgainAt { at } => at.0 - now.0,
            other => panic!("{other:?}"),
        };
        assert_eq!(at(0), 30 * MIN);
        assert_eq!(at(1), 60 * MIN);
        assert_eq!(at(3), 4 * 60 * MIN);
        assert_eq!(at(40), 4 * 60 * MIN);
    }

    #[test]
    fn sending_never_checks_past_the_give_up_time() {
        let now = T0.plus_millis(23 * 60 * MIN);
        assert_eq!(
            after_status(Some(&MsgStatus::Sending), T0, 9, now),
            StatusCheck::CheckAgainAt {
                at: T0.plus_millis(24 * 60 * MIN)
            }
        );
    }

    #[test]
    fn still_sending_after_a_day_fails() {
        let now = T0.plus_millis(24 * 60 * MIN);
        assert_eq!(
            after_status(Some(&MsgStatus::Sending), T0, 9, now),
            StatusCheck::Failed {
                reason: Text::new(
                    "no result event and still SENDING after 24 h",
                    "24 小时后仍未收到结果推送，mass/get 仍为 SENDING（发送中）"
                )
            }
        );
    }

    #[test]
    fn no_answer_or_unknown_status_is_checked_again_then_fails() {
        let early = T0.plus_millis(31 * MIN);
        assert!(matches!(
            after_status(None, T0, 0, early),
            StatusCheck::CheckAgainAt { .. }
        ));
        let other = MsgStatus::Other("PAUSED".into());
        assert!(matches!(
            after_status(Some(&other), T0, 0, early),
            StatusCheck::CheckAgainAt { .. }
        ));
        let late = T0.plus_millis(25 * 60 * MIN);
        assert!(
            matches!(after_status(None, T0, 5, late), StatusCheck::Failed { ref reason } if reason.en.contains("no answer"))
        );
        assert!(
            matches!(after_status(Some(&other), T0, 5, late), StatusCheck::Failed { ref reason } if reason.en.contains("PAUSED"))
        );
    }
}
