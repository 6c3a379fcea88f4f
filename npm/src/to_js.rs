//! Core values to JS values, with every 64-bit id as a decimal string and every key camelCase.
//!
//! Core serializes ids as the newtype [`MsgId::SERDE_NAME`]; JSON writes that as a number, which a
//! JS `number` cannot hold above 2^53. [`Js`] wraps any serializer and writes those ids as strings
//! instead, and renames struct fields from their wire snake_case to camelCase (a mechanical
//! rename: no field name is listed here). The result is JSON text handed to `JSON.parse` in one
//! call, which V8 turns into objects faster than building them property by property across the
//! wasm boundary.

use serde::ser::{self, Serialize, SerializeMap, Serializer};
use wasm_bindgen::JsValue;
use wxmass::MsgId;

/// `snake_case` → `camelCase`; names without `_` are returned unchanged.
pub fn camel(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains('_') {
        return name.into();
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            // Field names are ASCII; full Unicode case mapping would link ~20 KB of tables.
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// `value` as JSON text, ids as strings, keys camelCase.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    value.serialize(Js(&mut serde_json::Serializer::new(&mut out)))?;
    // serde_json writes only UTF-8.
    String::from_utf8(out).map_err(ser::Error::custom)
}

/// `value` as a JS value, ids as strings, keys camelCase.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let text = to_json(value).map_err(|e| JsValue::from_str(&e.to_string()))?;
    js_sys::JSON::parse(&text)
}

/// The serializer adapter.
pub struct Js<S>(pub S);

/// A value whose serialization goes through [`Js`] (used for every nested value).
struct W<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for W<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Js(s))
    }
}

macro_rules! forward {
    ($($f:ident($t:ty)),* $(,)?) => {
        $(fn $f(self, v: $t) -> Result<S::Ok, S::Error> { self.0.$f(v) })*
    };
}

impl<S: Serializer> Serializer for Js<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Js<S::SerializeSeq>;
    type SerializeTuple = Js<S::SerializeTuple>;
    type SerializeTupleStruct = Js<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Js<S::SerializeTupleVariant>;
    type SerializeMap = Js<S::SerializeMap>;
    type SerializeStruct = Js<S::SerializeMap>;
    type SerializeStructVariant = Js<S::SerializeStructVariant>;

    forward!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&W(v))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        if name == MsgId::SERDE_NAME {
            // The id's digits as JSON writes the number: the decimal string.
            let n = serde_json::to_string(v).map_err(ser::Error::custom)?;
            return self.0.serialize_str(&n);
        }
        self.0.serialize_newtype_struct(name, &W(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &W(v))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Js)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Js)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Js)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Js)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Js)
    }
    // Structs become maps so their keys can be renamed at run time.
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_map(Some(len)).map(Js)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Js)
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: ser::$trait> ser::$trait for Js<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
                self.0.$method(&W(v))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    };
}
compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Js<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), C::Error> {
        self.0.serialize_key(&W(k))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&W(v))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeMap> ser::SerializeStruct for Js<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_entry(&*camel(key), &W(v))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStructVariant> ser::SerializeStructVariant for Js<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &W(v))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Reply {
        msg_id: MsgId,
        msg_data_id: Option<MsgId>,
        expires_in: i64,
    }

    #[test]
    fn ids_become_strings_and_keys_camel_case() {
        let r = Reply {
            msg_id: MsgId(9_007_199_254_740_993),
            msg_data_id: Some(MsgId(u64::MAX)),
            expires_in: 7200,
        };
        assert_eq!(
            to_json(&r).unwrap(),
            r#"{"msgId":"9007199254740993","msgDataId":"18446744073709551615","expiresIn":7200}"#
        );
    }

    #[test]
    fn camel_case() {
        assert_eq!(camel("article_idx"), "articleIdx");
        assert_eq!(camel("url"), "url");
        assert_eq!(camel("_x"), "x");
    }
}
