//! Batches: how a recipient list is cut into `mass/send` calls, and the exact request of each.
//!
//! A list is cut into the fewest calls of at most 10,000 OpenIDs, sizes as equal as possible
//! (the first batches take the remainder). Equal sizes matter because WeChat rejects a call with
//! one OpenID: cutting 10,001 as 10,000 + 1 would leave a batch no call can carry, while
//! 5,001 + 5,000 never goes below 5,000 once a list needs two calls.

use std::ops::Range;

use serde::Serialize;

use crate::audience::SendAllFilter;
use crate::endpoint::{Endpoint, SendAllRequest, SendReply, SendToUsersRequest};
use crate::error_code::ReplyError;
use crate::http::{ApiBase, HttpRequest};
use crate::limits::MAX_OPENIDS_PER_SEND;
use crate::validate::ValidationError;

use super::quota::SendKind;

/// One call of a plan.
///
/// JSON (the JS model): `{"index":0,"clientMsgId":"…","endpoint":"send","recipients":5001,
/// "isToAll":false}`; `recipients` is `null` for a tag or everyone, whose size only WeChat knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Position in the plan, from 0.
    pub index: usize,
    /// The idempotency key of every attempt of this batch. Fixed at planning; never changes
    /// (see [`super::client_msg_id`]).
    pub clientmsgid: String,
    /// Who this call reaches.
    pub recipients: BatchAudience,
}

/// Who one batch reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchAudience {
    /// A `sendall` to everyone or to a tag.
    Filter(SendAllFilter),
    /// A `mass/send` to these positions of [`super::SendPlan::recipients`] (the deduplicated
    /// list is stored once; a batch is a range into it), or, in a [`super::SealedPlan`], of
    /// the sealed audience (batch *i*'s range is chunk *i*'s place in it).
    OpenIds(Range<usize>),
}

impl Serialize for Batch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Batch", 5)?;
        m.serialize_field("index", &self.index)?;
        m.serialize_field("clientMsgId", &self.clientmsgid)?;
        m.serialize_field("endpoint", self.send_kind().endpoint().as_str())?;
        m.serialize_field("recipients", &self.recipient_count())?;
        m.serialize_field("isToAll", &self.is_to_all())?;
        m.end()
    }
}

impl Batch {
    /// The endpoint this batch calls.
    pub fn send_kind(&self) -> SendKind {
        match self.recipients {
            BatchAudience::Filter(_) => SendKind::SendAll,
            BatchAudience::OpenIds(_) => SendKind::SendToUsers,
        }
    }

    /// Whether this batch is an `is_to_all: true` send (enters the history list).
    pub fn is_to_all(&self) -> bool {
        matches!(
            self.recipients,
            BatchAudience::Filter(SendAllFilter::Everyone)
        )
    }

    /// Recipients reached by this batch, when known (an OpenID batch); `None` for a filter.
    pub fn recipient_count(&self) -> Option<usize> {
        match &self.recipients {
            BatchAudience::Filter(_) => None,
            BatchAudience::OpenIds(r) => Some(r.len()),
        }
    }
}

/// The request of one batch: a `sendall` or a `mass/send`, with the batch's `clientmsgid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchRequest {
    /// To everyone or to a tag.
    SendAll(SendAllRequest),
    /// To a list of OpenIDs.
    SendToUsers(SendToUsersRequest),
}

impl BatchRequest {
    /// Validates and builds the HTTP request (the caller adds `access_token`).
    pub fn build(&self, base: &ApiBase) -> Result<HttpRequest, ValidationError> {
        match self {
            BatchRequest::SendAll(r) => r.build(base),
            BatchRequest::SendToUsers(r) => r.build(base),
        }
    }

    /// The JSON body, without validation.
    pub fn to_body(&self) -> Vec<u8> {
        match self {
            BatchRequest::SendAll(r) => r.to_body(),
            BatchRequest::SendToUsers(r) => r.to_body(),
        }
    }

    /// The idempotency key the request carries (always `Some` for a planned request).
    pub fn clientmsgid(&self) -> Option<&str> {
        match self {
            BatchRequest::SendAll(r) => r.clientmsgid.as_deref(),
            BatchRequest::SendToUsers(r) => r.clientmsgid.as_deref(),
        }
    }

    /// Parses the reply of this request (both endpoints answer with [`SendReply`]).
    pub fn parse_reply(&self, body: &[u8]) -> Result<SendReply, ReplyError> {
        SendAllRequest::parse_reply(body)
    }
}

/// Sizes of the fewest batches of at most [`MAX_OPENIDS_PER_SEND`] that hold `n` recipients,
/// as equal as possible, larger ones first: 10,001 → [5,001, 5,000].
pub(crate) fn split_sizes(n: usize) -> impl Iterator<Item = usize> {
    let k = n.div_ceil(MAX_OPENIDS_PER_SEND);
    let base = n.checked_div(k).unwrap_or(0);
    let extra = n.checked_rem(k).unwrap_or(0);
    (0..k).map(move |i| base + usize::from(i < extra))
}

/// Consecutive ranges of [`split_sizes`].
pub(crate) fn split_ranges(n: usize) -> Vec<Range<usize>> {
    let mut start = 0;
    split_sizes(n)
        .map(|size| {
            let r = start..start + size;
            start += size;
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize) -> Vec<usize> {
        split_sizes(n).collect()
    }

    #[test]
    fn splits_into_fewest_balanced_batches() {
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(2), vec![2]);
        assert_eq!(sizes(10_000), vec![10_000]);
        assert_eq!(sizes(10_001), vec![5_001, 5_000]);
        assert_eq!(sizes(20_000), vec![10_000, 10_000]);
        assert_eq!(sizes(20_001), vec![6_667, 6_667, 6_667]);
        assert_eq!(sizes(25_001), vec![8_334, 8_334, 8_333]);
    }

    #[test]
    fn ranges_cover_the_list_exactly() {
        let r = split_ranges(25_001);
        assert_eq!(r, vec![0..8_334, 8_334..16_668, 16_668..25_001]);
    }
}
