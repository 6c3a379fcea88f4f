//! `POST cgi-bin/message/mass/speed/get` and `speed/set`: the account's mass-send speed level,
//! 0 (800,000 recipients a minute) to 4 (100,000 a minute). The seed calls speed/get with GET;
//! current docs use POST with `{}`.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::{PATH_SPEED_GET, PATH_SPEED_SET, SPEED_MAX, SPEED_MIN};
use crate::reply::Ack;
use crate::validate::{Problems, Rule};

/// Ask for the current speed level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpeedGetRequest;

impl Serialize for SpeedGetRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}

/// Reply of `speed/get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct SpeedGetReply {
    /// The level, 0..4.
    pub speed: u8,
    /// Recipients a minute at that level.
    pub realspeed: u64,
}

impl SpeedGetRequest {
    fn check(&self, _p: &mut Problems) {}

    fn read(o: Obj, p: &mut Problems) -> Option<Self> {
        o.finish(p);
        Some(SpeedGetRequest)
    }
}

super::json_endpoint! {
    SpeedGetRequest {
        NAME: EndpointName::SpeedGet,
        PATH: PATH_SPEED_GET,
        METHOD: Method::Post,
        MASS: true,
        Reply: SpeedGetReply,
    }
}

/// Set the speed level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpeedSetRequest {
    /// 0 (fastest) to 4 (slowest).
    pub speed: u64,
}

impl SpeedSetRequest {
    fn check(&self, p: &mut Problems) {
        if !(u64::from(SPEED_MIN)..=u64::from(SPEED_MAX)).contains(&self.speed) {
            p.push(
                "speed",
                Rule::Range {
                    min: i64::from(SPEED_MIN),
                    max: i64::from(SPEED_MAX),
                },
                Some(&self.speed.to_string()),
            );
        }
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let speed = o.u64(wire!("speed"), p);
        o.finish(p);
        Some(SpeedSetRequest { speed: speed? })
    }
}

super::json_endpoint! {
    SpeedSetRequest {
        NAME: EndpointName::SpeedSet,
        PATH: PATH_SPEED_SET,
        METHOD: Method::Post,
        MASS: true,
        Reply: Ack,
    }
}
