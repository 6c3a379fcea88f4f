//! Callback URL verification and message crypto: published vectors, every rejection, and
//! properties. Vectors are copied (values only) from public sources named at each constant.

use proptest::prelude::*;
use wxmass::callback::{
    msg_signature, open_callback, plain_signature, verify_url, AesKey, CallbackConfig,
    CallbackError, CallbackMode, CallbackQuery, MessageCrypto, SecurityMode,
};
use wxmass::event::CallbackMessage;

// ---- WeChat's official message-crypto sample (WXBizMsgCrypt, Java WXBizMsgCryptTest), as kept
// in chanjarster/weixin-java-tools (WxJava's origin),
// weixin-java-common/src/test/java/me/chanjar/weixin/common/util/crypto/WxCryptUtilTest.java.
const WX_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const WX_TOKEN: &str = "pamtest";
const WX_TIMESTAMP: &str = "1409304348";
const WX_NONCE: &str = "xxxxxx";
const WX_APPID: &str = "wxb11529c136998cb6";
const WX_RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";
const WX_REPLY_1: &str = "我是中文abcd123";
const WX_CIPHER_1: &str =
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
const WX_REPLY_2: &str = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
const WX_CIPHER_2: &str = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

// ---- WeChat's official Python sample (WXBizMsgCrypt Sample.py), a compatible-mode push (plain
// fields and <Encrypt> together), as kept in wegostudio/wego tests/crypto/tests.py and
// charlesXu86/Chatbot_CN Chatbot_Web/impl/weixin/Sample.py.
const PY_TOKEN: &str = "spamtest";
const PY_TIMESTAMP: &str = "1409735669";
const PY_NONCE: &str = "1320562132";
const PY_APPID: &str = "wx2c2769f8efd9abc2";
const PY_MSG_SIGNATURE: &str = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
const PY_BODY: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>";

// ---- wechatpy/wechatpy tests/test_crypto.py (another SDK's suite; WeCom, same algorithm with
// the CorpID in the AppID's place). Its mock random string is "1234567890123456".
const PY2_TOKEN: &str = "123456";
const PY2_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const PY2_CORP_ID: &str = "wx49f0ab532d5d035a";
const PY2_RANDOM: &[u8; 16] = b"1234567890123456";
const PY2_NONCE: &str = "461056294";
const PY2_TIMESTAMP: &str = "1411525903";
const PY2_REPLY: &str = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
const PY2_REPLY_ENCRYPT: &str = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3";
const PY2_REPLY_SIGNATURE: &str = "407518b7649e86ef23978113f92d27afa9296533";
const PY2_PUSH_ENCRYPT: &str = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
const PY2_PUSH_SIGNATURE: &str = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d";
const PY2_ECHO_SIGNATURE: &str = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
const PY2_ECHO_TIMESTAMP: &str = "1411443780";
const PY2_ECHO_NONCE: &str = "437374425";
const PY2_ECHO: &str =
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";

fn wx() -> MessageCrypto {
    MessageCrypto::new(WX_TOKEN, WX_KEY, WX_APPID).unwrap()
}

/// The 16 random bytes a ciphertext was made with (its first plaintext block): AES-CBC with
/// IV = key[..16], so decrypting block 1 alone gives them back.
fn random_of(cipher_b64: &str, key: &str) -> [u8; 16] {
    use aes::cipher::{BlockDecrypt, KeyInit};
    use base64::Engine;
    let key = AesKey::parse(key).unwrap();
    let ct = base64::engine::general_purpose::STANDARD
        .decode(cipher_b64)
        .unwrap();
    let cipher = aes::Aes256::new(key.as_bytes().into());
    let mut block = aes::Block::clone_from_slice(&ct[..16]);
    cipher.decrypt_block(&mut block);
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = block[i] ^ key.as_bytes()[i];
    }
    out
}

#[test]
fn wechat_sample_vectors_encrypt_exactly() {
    assert_eq!(wx().encrypt(WX_REPLY_1, *WX_RANDOM).unwrap(), WX_CIPHER_1);
    assert_eq!(wx().encrypt(WX_REPLY_2, *WX_RANDOM).unwrap(), WX_CIPHER_2);
}

#[test]
fn wechat_sample_vectors_decrypt_exactly() {
    assert_eq!(wx().decrypt_unsigned(WX_CIPHER_1).unwrap(), WX_REPLY_1);
    assert_eq!(wx().decrypt_unsigned(WX_CIPHER_2).unwrap(), WX_REPLY_2);
    // And through the signed path, signed the way WeChat signs.
    let sig = msg_signature(WX_TOKEN, WX_TIMESTAMP, WX_NONCE, WX_CIPHER_2);
    assert_eq!(
        wx().decrypt(&sig, WX_TIMESTAMP, WX_NONCE, WX_CIPHER_2)
            .unwrap(),
        WX_REPLY_2
    );
}

#[test]
fn wechat_sample_reply_envelope_is_signed_and_opens_again() {
    let envelope = wx()
        .encrypt_reply(WX_REPLY_2, WX_TIMESTAMP, WX_NONCE, *WX_RANDOM)
        .unwrap();
    let sig = msg_signature(WX_TOKEN, WX_TIMESTAMP, WX_NONCE, WX_CIPHER_2);
    assert_eq!(
        envelope,
        format!("<xml><Encrypt><![CDATA[{WX_CIPHER_2}]]></Encrypt><MsgSignature><![CDATA[{sig}]]></MsgSignature><TimeStamp>{WX_TIMESTAMP}</TimeStamp><Nonce><![CDATA[{WX_NONCE}]]></Nonce></xml>")
    );
    let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    let query = CallbackQuery {
        timestamp: Some(WX_TIMESTAMP.into()),
        nonce: Some(WX_NONCE.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(sig),
        ..CallbackQuery::default()
    };
    let opened = open_callback(&config, &query, envelope.as_bytes(), None).unwrap();
    assert_eq!(opened.xml, WX_REPLY_2);
}

/// The query of WeChat's Python sample's compatible-mode push.
fn py_compat_query() -> CallbackQuery {
    CallbackQuery {
        timestamp: Some(PY_TIMESTAMP.into()),
        nonce: Some(PY_NONCE.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(PY_MSG_SIGNATURE.into()),
        ..CallbackQuery::default()
    }
}

#[test]
fn wechat_python_sample_compat_push_opens_and_reencrypts_exactly() {
    let config = CallbackConfig::new(PY_TOKEN, Some(WX_KEY), PY_APPID).unwrap();
    let query = py_compat_query();
    let opened = open_callback(&config, &query, PY_BODY.as_bytes(), None).unwrap();
    assert_eq!(opened.mode, CallbackMode::Aes);
    let expected = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>";
    assert_eq!(opened.xml, expected);
    let CallbackMessage::Other(msg) = opened.parse().unwrap() else {
        panic!("a text message")
    };
    assert_eq!(msg.field("Content"), Some("abcdteT"));
    assert_eq!(msg.dedupe_key(), "msg:6054768590064713728");

    // Re-encrypt with the random bytes recovered from the ciphertext: byte-identical.
    let encrypt = PY_BODY
        .split("<Encrypt><![CDATA[")
        .nth(1)
        .and_then(|s| s.split("]]>").next())
        .unwrap();
    let crypto = config.crypto().unwrap();
    let random = random_of(encrypt, WX_KEY);
    assert_eq!(crypto.encrypt(expected, random).unwrap(), encrypt);
    assert_eq!(
        crypto.signature(PY_TIMESTAMP, PY_NONCE, encrypt),
        PY_MSG_SIGNATURE
    );
}

#[test]
fn wechatpy_vectors_encrypt_and_decrypt_exactly() {
    let crypto = MessageCrypto::new(PY2_TOKEN, PY2_KEY, PY2_CORP_ID).unwrap();
    assert_eq!(
        crypto.encrypt(PY2_REPLY, *PY2_RANDOM).unwrap(),
        PY2_REPLY_ENCRYPT
    );
    let envelope = crypto
        .encrypt_reply(PY2_REPLY, PY2_TIMESTAMP, PY2_NONCE, *PY2_RANDOM)
        .unwrap();
    assert!(envelope.contains(&format!(
        "<Encrypt><![CDATA[{PY2_REPLY_ENCRYPT}]]></Encrypt>"
    )));
    assert!(envelope.contains(&format!(
        "<MsgSignature><![CDATA[{PY2_REPLY_SIGNATURE}]]></MsgSignature>"
    )));
    assert_eq!(
        crypto
            .decrypt(
                PY2_REPLY_SIGNATURE,
                PY2_TIMESTAMP,
                PY2_NONCE,
                PY2_REPLY_ENCRYPT
            )
            .unwrap(),
        PY2_REPLY
    );

    // Their incoming push: decrypts, and re-encrypts byte-identically with its own random.
    let xml = crypto
        .decrypt(
            PY2_PUSH_SIGNATURE,
            PY2_TIMESTAMP,
            PY2_NONCE,
            PY2_PUSH_ENCRYPT,
        )
        .unwrap();
    assert!(xml.contains("<Content><![CDATA[test]]></Content>"), "{xml}");
    assert!(xml.contains("messense"), "{xml}");
    let random = random_of(PY2_PUSH_ENCRYPT, PY2_KEY);
    assert_eq!(crypto.encrypt(&xml, random).unwrap(), PY2_PUSH_ENCRYPT);

    // Their URL check (WeCom signs the encrypted echostr with msg_signature's formula).
    let echo = crypto
        .decrypt(
            PY2_ECHO_SIGNATURE,
            PY2_ECHO_TIMESTAMP,
            PY2_ECHO_NONCE,
            PY2_ECHO,
        )
        .unwrap();
    let random = random_of(PY2_ECHO, PY2_KEY);
    assert_eq!(crypto.encrypt(&echo, random).unwrap(), PY2_ECHO);
    // ... and their failing case (nonce off by one) fails here too.
    assert_eq!(
        crypto.decrypt(
            PY2_ECHO_SIGNATURE,
            PY2_ECHO_TIMESTAMP,
            "437374424",
            PY2_ECHO
        ),
        Err(CallbackError::SignatureMismatch)
    );
}

// ---- URL verification and plain mode ---------------------------------------------------------

fn plain_query(token: &str, timestamp: &str, nonce: &str) -> CallbackQuery {
    CallbackQuery {
        signature: Some(plain_signature(token, timestamp, nonce)),
        timestamp: Some(timestamp.into()),
        nonce: Some(nonce.into()),
        ..CallbackQuery::default()
    }
}

#[test]
fn verify_url_returns_echostr() {
    let mut q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    q.echostr = Some("1616140317555161061".into());
    assert_eq!(verify_url(WX_TOKEN, &q).unwrap(), "1616140317555161061");
    // From a raw query string, uppercase hex accepted.
    let raw = format!(
        "signature={}&timestamp={WX_TIMESTAMP}&nonce={WX_NONCE}&echostr=abc",
        plain_signature(WX_TOKEN, WX_TIMESTAMP, WX_NONCE).to_uppercase()
    );
    assert_eq!(
        verify_url(WX_TOKEN, &CallbackQuery::from_query_string(&raw)).unwrap(),
        "abc"
    );
}

#[test]
fn rejects_url_signature_mismatch() {
    let mut q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    q.echostr = Some("e".into());
    assert_eq!(
        verify_url("other", &q),
        Err(CallbackError::SignatureMismatch)
    );
    q.signature = Some("0".repeat(40));
    assert_eq!(
        verify_url(WX_TOKEN, &q),
        Err(CallbackError::SignatureMismatch)
    );
    q.signature = Some("short".into());
    assert_eq!(
        verify_url(WX_TOKEN, &q),
        Err(CallbackError::SignatureMismatch)
    );
}

#[test]
fn rejects_missing_parameter() {
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    assert_eq!(
        verify_url(WX_TOKEN, &q),
        Err(CallbackError::MissingParameter("echostr"))
    );
    let config = CallbackConfig::plain(WX_TOKEN);
    let mut q2 = q.clone();
    q2.signature = None;
    assert_eq!(
        open_callback(&config, &q2, b"<xml/>", None),
        Err(CallbackError::MissingParameter("signature"))
    );
    let mut q3 = q.clone();
    q3.nonce = Some(String::new());
    assert_eq!(
        open_callback(&config, &q3, b"<xml/>", None),
        Err(CallbackError::MissingParameter("nonce"))
    );
    let mut q4 = q;
    q4.encrypt_type = Some("aes".into());
    let aes = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    assert_eq!(
        open_callback(&aes, &q4, b"<xml/>", None),
        Err(CallbackError::MissingParameter("msg_signature"))
    );
}

#[test]
fn plain_mode_checks_signature_only() {
    let config = CallbackConfig::plain(WX_TOKEN);
    let body = include_bytes!("golden/events/seed001_sendsuccess.xml");
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    let opened = open_callback(&config, &q, body, None).unwrap();
    assert_eq!(opened.mode, CallbackMode::Plain);
    assert!(opened.parse().unwrap().as_mass_send_job_finish().is_some());
    let bad = plain_query("other", WX_TIMESTAMP, WX_NONCE);
    assert_eq!(
        open_callback(&config, &bad, body, None),
        Err(CallbackError::SignatureMismatch)
    );
}

#[test]
fn rejects_timestamp_skew() {
    let config = CallbackConfig::plain(WX_TOKEN);
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    let ts: i64 = WX_TIMESTAMP.parse().unwrap();
    assert!(open_callback(&config, &q, b"<xml/>", Some(ts + 300)).is_ok());
    assert!(open_callback(&config, &q, b"<xml/>", Some(ts - 300)).is_ok());
    assert!(matches!(
        open_callback(&config, &q, b"<xml/>", Some(ts + 301)),
        Err(CallbackError::TimestampSkew { skew: 301, .. })
    ));
    let strict = CallbackConfig::plain(WX_TOKEN).with_max_skew_secs(10);
    assert!(matches!(
        open_callback(&strict, &q, b"<xml/>", Some(ts - 11)),
        Err(CallbackError::TimestampSkew { .. })
    ));
    // Without `now` there is no skew check.
    assert!(open_callback(&config, &q, b"<xml/>", None).is_ok());
    // A timestamp that is not decimal seconds is refused outright.
    let odd = plain_query(WX_TOKEN, "14e9", WX_NONCE);
    assert!(matches!(
        open_callback(&config, &odd, b"<xml/>", None),
        Err(CallbackError::InvalidParameter {
            name: "timestamp",
            ..
        })
    ));
}

#[test]
fn rejects_body_over_limit() {
    let config = CallbackConfig::plain(WX_TOKEN);
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    let body = vec![b' '; wxmass::limits::CALLBACK_BODY_MAX_BYTES + 1];
    assert!(matches!(
        open_callback(&config, &q, &body, None),
        Err(CallbackError::BodyTooLarge { .. })
    ));
}

#[test]
fn rejects_non_utf8_plain_body() {
    let config = CallbackConfig::plain(WX_TOKEN);
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    assert_eq!(
        open_callback(&config, &q, b"<xml>\xff</xml>", None),
        Err(CallbackError::NotUtf8)
    );
}

#[test]
fn rejects_unsupported_encrypt_type_and_missing_key() {
    let mut q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    q.encrypt_type = Some("des".into());
    assert!(matches!(
        open_callback(&CallbackConfig::plain(WX_TOKEN), &q, b"<xml/>", None),
        Err(CallbackError::UnsupportedEncryptType(_))
    ));
    q.encrypt_type = Some("aes".into());
    q.msg_signature = Some("x".into());
    assert_eq!(
        open_callback(&CallbackConfig::plain(WX_TOKEN), &q, b"<xml/>", None),
        Err(CallbackError::AesKeyNotConfigured)
    );
}

// ---- Safe mode rejections ---------------------------------------------------------------------

#[test]
fn rejects_aes_key_not_43_chars() {
    for bad in ["", "abc", &format!("{WX_KEY}H"), &WX_KEY[..42]] {
        assert!(
            matches!(AesKey::parse(bad), Err(CallbackError::InvalidAesKey { .. })),
            "{bad}"
        );
    }
}

#[test]
fn rejects_aes_key_not_base64() {
    let bad = format!("{}!", &WX_KEY[..42]);
    assert!(matches!(
        MessageCrypto::new(WX_TOKEN, &bad, WX_APPID),
        Err(CallbackError::InvalidAesKey { .. })
    ));
    let url_safe = format!("{}-", &WX_KEY[..42]);
    assert!(AesKey::parse(&url_safe).is_err());
    // The 43-"A" key of WeChat's documentation (all-zero AES key) is valid.
    assert_eq!(
        AesKey::parse(&"A".repeat(43)).unwrap().as_bytes(),
        &[0u8; 32]
    );
}

#[test]
fn accepts_key_with_nonzero_trailing_bits() {
    // WX_KEY ends in 'G' (000110): its last two bits are not zero. A strict decoder refuses it.
    use base64::Engine;
    assert!(base64::engine::general_purpose::STANDARD
        .decode(format!("{WX_KEY}="))
        .is_err());
    assert!(AesKey::parse(WX_KEY).is_ok());
}

fn aes_query(token: &str, encrypt: &str) -> CallbackQuery {
    CallbackQuery {
        timestamp: Some(WX_TIMESTAMP.into()),
        nonce: Some(WX_NONCE.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(msg_signature(token, WX_TIMESTAMP, WX_NONCE, encrypt)),
        ..CallbackQuery::default()
    }
}

fn aes_body(encrypt: &str) -> String {
    format!("<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
}

fn open_aes(encrypt: &str) -> Result<String, CallbackError> {
    let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    open_callback(
        &config,
        &aes_query(WX_TOKEN, encrypt),
        aes_body(encrypt).as_bytes(),
        None,
    )
    .map(|o| o.xml)
}

/// Encrypts raw plaintext bytes (no framing, no padding) with the sample key, to build
/// malformed plaintexts that still decrypt.
fn raw_encrypt(plain: &[u8]) -> String {
    use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
    use base64::Engine;
    let key = AesKey::parse(WX_KEY).unwrap();
    let mut buf = plain.to_vec();
    let len = buf.len();
    let ct = cbc::Encryptor::<aes::Aes256>::new(key.as_bytes().into(), key.as_bytes()[..16].into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, len)
        .unwrap()
        .to_vec();
    base64::engine::general_purpose::STANDARD.encode(ct)
}

fn framed(xml: &[u8], app_id: &[u8], declared: u32, pad: u8, pad_len: usize) -> Vec<u8> {
    let mut p = vec![7u8; 16];
    p.extend_from_slice(&declared.to_be_bytes());
    p.extend_from_slice(xml);
    p.extend_from_slice(app_id);
    p.extend(std::iter::repeat(pad).take(pad_len));
    p
}

#[test]
fn rejects_msg_signature_mismatch() {
    let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    let q = aes_query("wrong-token", WX_CIPHER_1);
    assert_eq!(
        open_callback(&config, &q, aes_body(WX_CIPHER_1).as_bytes(), None),
        Err(CallbackError::SignatureMismatch)
    );
    // A body swapped under a valid signature.
    let q = aes_query(WX_TOKEN, WX_CIPHER_1);
    assert_eq!(
        open_callback(&config, &q, aes_body(WX_CIPHER_2).as_bytes(), None),
        Err(CallbackError::SignatureMismatch)
    );
}

#[test]
fn rejects_bad_base64() {
    assert_eq!(open_aes("!!!not-base64!!!"), Err(CallbackError::Base64));
    assert_eq!(wx().decrypt_unsigned("abc"), Err(CallbackError::Base64));
}

#[test]
fn rejects_ciphertext_not_whole_blocks() {
    assert_eq!(
        open_aes("YWJj"),
        Err(CallbackError::CiphertextLength { len: 3 })
    );
}

#[test]
fn rejects_padding_zero() {
    let p = framed(b"<xml/>", WX_APPID.as_bytes(), 6, 0, 64 - 16 - 4 - 6 - 18);
    assert_eq!(p.len() % 32, 0);
    assert_eq!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::BadPadding { pad: 0 })
    );
}

#[test]
fn rejects_padding_over_32() {
    let p = framed(b"<xml/>", WX_APPID.as_bytes(), 6, 33, 64 - 16 - 4 - 6 - 18);
    assert_eq!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::BadPadding { pad: 33 })
    );
}

#[test]
fn rejects_padding_bytes_that_differ() {
    let mut p = framed(b"<xml/>", WX_APPID.as_bytes(), 6, 20, 20);
    let n = p.len();
    p[n - 5] = 19;
    assert_eq!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::BadPadding { pad: 20 })
    );
}

#[test]
fn rejects_length_past_buffer() {
    let p = framed(b"<xml/>", WX_APPID.as_bytes(), 1000, 20, 20);
    assert_eq!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::LengthOutOfBounds {
            declared: 1000,
            available: 24
        })
    );
    let p = framed(b"<xml/>", WX_APPID.as_bytes(), u32::MAX, 20, 20);
    assert!(matches!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::LengthOutOfBounds { .. })
    ));
    // Too short to hold even the random bytes and the length field.
    let p = [16u8; 16];
    assert!(matches!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::BadPadding { .. }) | Err(CallbackError::LengthOutOfBounds { .. })
    ));
    let mut p = vec![1u8; 16];
    p.extend([16u8; 16]);
    assert!(matches!(
        open_aes(&raw_encrypt(&p)),
        Err(CallbackError::LengthOutOfBounds { .. })
    ));
}

#[test]
fn rejects_appid_mismatch() {
    let other = MessageCrypto::new(WX_TOKEN, WX_KEY, "wx0000000000000000").unwrap();
    let encrypt = other.encrypt("<xml/>", [1; 16]).unwrap();
    assert_eq!(
        open_aes(&encrypt),
        Err(CallbackError::AppIdMismatch {
            expected: WX_APPID.into(),
            found: "wx0000000000000000".into()
        })
    );
}

#[test]
fn rejects_wrong_key_as_padding_or_framing_error() {
    let other = MessageCrypto::new(WX_TOKEN, &"A".repeat(43), WX_APPID).unwrap();
    let encrypt = other.encrypt("<xml><a>hello</a></xml>", [9; 16]).unwrap();
    assert!(matches!(
        open_aes(&encrypt),
        Err(CallbackError::BadPadding { .. })
            | Err(CallbackError::LengthOutOfBounds { .. })
            | Err(CallbackError::AppIdMismatch { .. })
    ));
}

#[test]
fn rejects_envelope_without_encrypt_or_with_doctype() {
    let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    let q = aes_query(WX_TOKEN, WX_CIPHER_1);
    assert_eq!(
        open_callback(&config, &q, b"<xml><ToUserName>x</ToUserName></xml>", None),
        Err(CallbackError::MissingEncrypt)
    );
    let doctype = format!(
        "<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        aes_body(WX_CIPHER_1)
    );
    assert!(matches!(
        open_callback(&config, &q, doctype.as_bytes(), None),
        Err(CallbackError::Envelope(wxmass::event::EventError::DocType))
    ));
}

#[test]
fn encrypt_push_builds_what_open_callback_accepts() {
    let crypto = wx();
    let xml = std::str::from_utf8(include_bytes!("golden/events/seed002_err30003.xml")).unwrap();
    let push = crypto
        .encrypt_push(xml, [3; 16], WX_TIMESTAMP, WX_NONCE)
        .unwrap();
    assert!(push
        .body
        .starts_with("<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>"));
    let query = CallbackQuery::from_query_string(&push.query.to_query_string());
    assert_eq!(query, push.query);
    let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    let opened = open_callback(&config, &query, push.body.as_bytes(), Some(1_409_304_400)).unwrap();
    assert_eq!(opened.xml, xml);
    let msg = opened.parse().unwrap();
    assert_eq!(msg.dedupe_key(), "mass:1000001625:err(30003)");
    // The same query also passes plain verification (WeChat sends both signatures).
    assert!(verify_url(
        WX_TOKEN,
        &CallbackQuery {
            echostr: Some("e".into()),
            ..query
        }
    )
    .is_ok());
}

#[test]
fn rejects_bad_nonce_or_timestamp_when_encrypting() {
    assert!(matches!(
        wx().encrypt_reply("<xml/>", WX_TIMESTAMP, "a]]>b", [0; 16]),
        Err(CallbackError::InvalidParameter { name: "nonce", .. })
    ));
    assert!(matches!(
        wx().encrypt_reply("<xml/>", "-1", WX_NONCE, [0; 16]),
        Err(CallbackError::InvalidParameter {
            name: "timestamp",
            ..
        })
    ));
}

#[test]
fn error_codes_are_distinct() {
    let errors = [
        CallbackError::MissingParameter("x"),
        CallbackError::SignatureMismatch,
        CallbackError::InvalidAesKey { reason: "r" },
        CallbackError::Base64,
        CallbackError::BadPadding { pad: 0 },
        CallbackError::LengthOutOfBounds {
            declared: 0,
            available: 0,
        },
        CallbackError::AppIdMismatch {
            expected: "a".into(),
            found: "b".into(),
        },
        CallbackError::TimestampSkew {
            timestamp: 0,
            now: 0,
            skew: 0,
            max: 0,
        },
        CallbackError::CiphertextLength { len: 0 },
        CallbackError::MissingEncrypt,
    ];
    let mut codes: Vec<_> = errors.iter().map(CallbackError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    for e in &errors {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn debug_never_shows_the_key() {
    let s = format!(
        "{:?}",
        CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap()
    );
    assert!(!s.contains(WX_TOKEN) && s.contains("redacted"), "{s}");
}

// ---- Properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encrypt_decrypt_round_trip(msg in "\\PC{0,300}", random in any::<[u8; 16]>(),
                                  app_id in "[a-z0-9]{0,40}") {
        let crypto = MessageCrypto::new(WX_TOKEN, WX_KEY, &app_id).unwrap();
        let encrypt = crypto.encrypt(&msg, random).unwrap();
        let sig = crypto.signature(WX_TIMESTAMP, WX_NONCE, &encrypt);
        prop_assert_eq!(crypto.decrypt(&sig, WX_TIMESTAMP, WX_NONCE, &encrypt).unwrap(), msg);
    }

    #[test]
    fn reply_envelope_round_trips_through_open_callback(msg in "[^\\]]{0,200}",
                                                         random in any::<[u8; 16]>()) {
        let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
        let crypto = config.crypto().unwrap();
        let push = crypto.encrypt_push(&msg, random, WX_TIMESTAMP, WX_NONCE).unwrap();
        let opened = open_callback(&config, &push.query, push.body.as_bytes(), None).unwrap();
        prop_assert_eq!(opened.xml, msg);
    }

    #[test]
    fn decryptor_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        use base64::Engine;
        let crypto = wx();
        let text = base64::engine::general_purpose::STANDARD.encode(&data);
        let _ = crypto.decrypt_unsigned(&text);
        let _ = crypto.decrypt_unsigned(&String::from_utf8_lossy(&data));
    }

    #[test]
    fn open_callback_never_panics(query in "\\PC{0,200}", body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
        let q = CallbackQuery::from_query_string(&query);
        let _ = open_callback(&config, &q, &body, Some(0));
        let mut aes = aes_query(WX_TOKEN, &String::from_utf8_lossy(&body));
        aes.encrypt_type = Some("aes".into());
        let _ = open_callback(&config, &aes, &body, None);
    }
}

// ---- the configured mode (消息加解密方式) ---------------------------------------------------------

#[test]
fn the_mode_defaults_to_safe_with_a_key_and_plain_without() {
    let with_key = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID).unwrap();
    assert_eq!(with_key.mode(), SecurityMode::Safe);
    let without = CallbackConfig::new(WX_TOKEN, None, WX_APPID).unwrap();
    assert_eq!(without.mode(), SecurityMode::Plain);
    for m in [
        SecurityMode::Plain,
        SecurityMode::Compat,
        SecurityMode::Safe,
    ] {
        assert_eq!(SecurityMode::parse(m.as_str()), Some(m));
    }
    assert_eq!(SecurityMode::parse("aes"), None);
}

#[test]
fn safe_and_compat_mode_refuse_a_plain_push_even_with_a_valid_signature() {
    let body = include_bytes!("golden/events/seed001_sendsuccess.xml");
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    for mode in [SecurityMode::Safe, SecurityMode::Compat] {
        let config = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID)
            .unwrap()
            .with_mode(mode)
            .unwrap();
        let e = open_callback(&config, &q, body, None).unwrap_err();
        assert_eq!(e, CallbackError::PlainPushRefused { mode });
        assert_eq!(e.code(), "plain_push_refused");
        assert!(e.to_string().contains(mode.as_str()), "{e}");
    }
    // The same push is accepted where the operator configured plain mode.
    let plain = CallbackConfig::new(WX_TOKEN, Some(WX_KEY), WX_APPID)
        .unwrap()
        .with_mode(SecurityMode::Plain)
        .unwrap();
    assert_eq!(
        open_callback(&plain, &q, body, None).unwrap().mode,
        CallbackMode::Plain
    );
}

#[test]
fn compat_and_safe_mode_need_the_aes_key() {
    for mode in [SecurityMode::Safe, SecurityMode::Compat] {
        assert_eq!(
            CallbackConfig::plain(WX_TOKEN).with_mode(mode),
            Err(CallbackError::AesKeyNotConfigured)
        );
    }
}

#[test]
fn a_plain_push_carries_a_replay_guard_that_tells_a_forged_body_from_a_retry() {
    let config = CallbackConfig::plain(WX_TOKEN);
    let q = plain_query(WX_TOKEN, WX_TIMESTAMP, WX_NONCE);
    let genuine = open_callback(&config, &q, b"<xml><A>1</A></xml>", None).unwrap();
    let forged = open_callback(&config, &q, b"<xml><A>2</A></xml>", None).unwrap();
    let (g, f) = (
        genuine.replay_guard.clone().unwrap(),
        forged.replay_guard.unwrap(),
    );
    // SHA-256 as documented: of the body, and of "timestamp\nnonce\nsignature".
    let sha = |d: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(d)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(g.body_digest, sha(b"<xml><A>1</A></xml>"));
    let signed = format!(
        "{WX_TIMESTAMP}\n{WX_NONCE}\n{}",
        plain_signature(WX_TOKEN, WX_TIMESTAMP, WX_NONCE)
    );
    assert_eq!(g.key, sha(signed.as_bytes()));
    // One signed query, one key, whatever the body.
    assert_eq!(g.key, f.key);
    assert!(f.is_forged(&g.body_digest));
    assert!(!g.is_forged(&g.body_digest));
    assert_eq!(g.remember_until, 1_409_304_348 + 300);
    // Another nonce is another key.
    let other = open_callback(
        &config,
        &plain_query(WX_TOKEN, WX_TIMESTAMP, "yyyyyy"),
        b"<xml><A>1</A></xml>",
        None,
    )
    .unwrap();
    assert_ne!(other.replay_guard.unwrap().key, g.key);
}

#[test]
fn an_encrypted_push_needs_no_replay_guard() {
    let config = CallbackConfig::new(PY_TOKEN, Some(WX_KEY), PY_APPID).unwrap();
    let query = py_compat_query();
    let opened = open_callback(&config, &query, PY_BODY.as_bytes(), None).unwrap();
    assert_eq!(opened.replay_guard, None);
}
