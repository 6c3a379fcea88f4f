//! Core's follower pager ([`wxmass::followers::FollowerPager`]) for JS: the facade's client asks
//! it for each request, sends it, and feeds it the reply text.

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wxmass::followers::{self, FollowerSource, PagerError};

use crate::errors::{self, set};
use crate::{api_base, request_object};

/// Pages through the account's followers (no tag) or one tag's.
#[wasm_bindgen]
pub struct FollowerPager {
    inner: followers::FollowerPager,
}

#[wasm_bindgen]
impl FollowerPager {
    /// A pager from the start, or after `cursor` (a `nextOpenid` a previous run stored), of the
    /// followers of tag `tag_id` (decimal digits) or of the whole account (`undefined`).
    #[wasm_bindgen(constructor)]
    pub fn new(tag_id: Option<String>, cursor: Option<String>) -> Result<FollowerPager, JsValue> {
        let source = match tag_id {
            None => FollowerSource::Everyone,
            Some(text) => FollowerSource::Tag(text.trim().parse::<u64>().map_err(|_| {
                errors::wxmass_error(
                    "validation",
                    "tagId",
                    "non_negative_integer",
                    &format!(
                        "tagId must be a non-negative integer (got {text:?}) / tagId 须是非负整数"
                    ),
                )
            })?),
        };
        Ok(FollowerPager {
            inner: followers::FollowerPager::resume(source, cursor.unwrap_or_default()),
        })
    }

    /// The endpoint each request goes to (`user/get` or `user/tag/get`).
    #[wasm_bindgen(getter)]
    pub fn endpoint(&self) -> String {
        self.inner.endpoint().as_str().to_owned()
    }

    /// The next request (`{ method, url, … }`), or `null` when the list is done.
    #[wasm_bindgen(js_name = nextRequest)]
    pub fn next_request(
        &self,
        api_base_url: Option<String>,
        access_token: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let base = api_base(api_base_url)?;
        match self
            .inner
            .next_request(&base)
            .map_err(|e| errors::validation(&e))?
        {
            None => Ok(JsValue::NULL),
            Some(http) => Ok(request_object(&http, access_token.as_deref(), true).into()),
        }
    }

    /// Takes the reply text of the last request: `{ openIds, total, done }`. Throws an
    /// `ApiError` for `errcode != 0` (the pager stays where it was, so the request can be sent
    /// again) and a `WxmassError` otherwise.
    pub fn feed(&mut self, body: &str) -> Result<Object, JsValue> {
        let step = self.inner.feed(body.as_bytes()).map_err(|e| match e {
            PagerError::Reply(r) => errors::reply(&r),
            other => errors::wxmass_error("paging", "nextOpenid", "paging", &other.to_string()),
        })?;
        let o = Object::new();
        let ids: Array = step.openids.iter().map(|s| JsValue::from_str(s)).collect();
        set(&o, "openIds", ids);
        match step.total {
            Some(t) => set(&o, "total", t as f64),
            None => set(&o, "total", JsValue::NULL),
        }
        set(&o, "done", step.done);
        Ok(o)
    }

    /// The cursor of the next request (`""` from the start): store it to resume later.
    #[wasm_bindgen(getter)]
    pub fn cursor(&self) -> String {
        self.inner.cursor().to_owned()
    }

    /// Whether the list is done.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    /// Pages taken so far.
    #[wasm_bindgen(getter)]
    pub fn pages(&self) -> f64 {
        self.inner.pages() as f64
    }

    /// OpenIDs taken so far.
    #[wasm_bindgen(getter)]
    pub fn fetched(&self) -> f64 {
        self.inner.fetched() as f64
    }
}
