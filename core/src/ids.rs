//! 64-bit ids (`msg_id`, `msg_data_id`) kept exactly, and an official account's AppID.
//!
//! WeChat's msg ids exceed 2^53, so they must never pass through a float (a JS `number`). On
//! input a number or a decimal string is accepted. On output an id is a decimal string (the JS
//! model: every value core serializes for people and programs), except in the request bodies
//! sent to WeChat, which write it as the number WeChat expects ([`MsgId::serialize_as_number`]).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An official account's AppID, as WeChat issues it: `wx` and 16 hexadecimal digits, in lower
/// case. One written in another case is the same account, so it is read in lower case: that is
/// how WeChat puts it in an encrypted push, which core compares byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppId(String);

impl AppId {
    /// The rule an AppID must meet, as a person reads it.
    pub const RULE: &'static str =
        "an AppID is wx followed by 16 hexadecimal digits (e.g. wx0123456789abcdef)";

    /// Reads an AppID in any case; `Err` is [`AppId::RULE`].
    pub fn parse(s: &str) -> Result<AppId, &'static str> {
        let digits = s
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case("wx"))
            .and_then(|_| s.get(2..))
            .ok_or(AppId::RULE)?;
        if digits.len() != crate::limits::APP_ID_HEX_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(AppId::RULE);
        }
        Ok(AppId(s.to_ascii_lowercase()))
    }

    /// The AppID in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A WeChat message id (`msg_id`) or message data id (`msg_data_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId(pub u64);

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for MsgId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(MsgId)
    }
}

impl MsgId {
    /// An id written as a JSON string: decimal digits only (no sign, space or exponent) that fit
    /// in 64 bits.
    pub fn from_json_text(s: &str) -> Result<MsgId, &'static str> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("msg id string must be decimal digits");
        }
        s.parse()
            .map(MsgId)
            .map_err(|_| "msg id does not fit in 64 bits")
    }

    /// The id as a JSON number, for the request bodies WeChat reads
    /// (`#[serde(serialize_with = "MsgId::serialize_as_number")]`).
    pub fn serialize_as_number<S: Serializer>(id: &MsgId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(id.0)
    }
}

/// A decimal string: a JS `number` cannot hold ids above 2^53.
impl Serialize for MsgId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MsgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MsgId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative 64-bit integer, as a number or a decimal string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<MsgId, E> {
                Ok(MsgId(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<MsgId, E> {
                u64::try_from(v)
                    .map(MsgId)
                    .map_err(|_| E::custom("msg id must not be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MsgId, E> {
                MsgId::from_json_text(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_read_in_lower_case() {
        assert_eq!(
            AppId::parse("WX0123456789ABCDEF").unwrap().as_str(),
            "wx0123456789abcdef"
        );
        assert_eq!(
            AppId::parse("wx0123456789abcdef").unwrap().as_str(),
            "wx0123456789abcdef"
        );
    }

    #[test]
    fn rejects_what_is_not_an_app_id() {
        for s in [
            "",
            "wx",
            "wx0123456789abcde",
            "wx0123456789abcdef0",
            "gh_0123456789ab",
            "wx0123456789abcdeg",
            "wxé123456789abcde",
        ] {
            assert_eq!(AppId::parse(s), Err(AppId::RULE), "{s}");
        }
    }

    #[test]
    fn keeps_ids_above_2_pow_53_exactly() {
        let id: MsgId = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(id.0, 9_007_199_254_740_993);
        let id: MsgId = serde_json::from_str("\"18446744073709551615\"").unwrap();
        assert_eq!(id.0, u64::MAX);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"18446744073709551615\""
        );
    }

    #[test]
    fn wire_bodies_write_the_id_as_a_number() {
        let body = crate::endpoint::DeleteRequest::new(MsgId(9_007_199_254_740_993));
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"msg_id":9007199254740993}"#
        );
    }

    #[test]
    fn rejects_overflow_negative_and_floats() {
        assert!(serde_json::from_str::<MsgId>("\"18446744073709551616\"").is_err());
        assert!(serde_json::from_str::<MsgId>("-1").is_err());
        assert!(serde_json::from_str::<MsgId>("1.5").is_err());
        assert!(serde_json::from_str::<MsgId>("\"12a\"").is_err());
    }
}
