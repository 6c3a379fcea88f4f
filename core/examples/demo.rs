//! A tour of the core: build and validate sample sends, print the bodies WeChat would receive,
//! the problems wxmass finds in bad input, and how replies and error codes read.
//!
//! Run: `scripts/demo` (or `cargo run -p wxmass --example demo`).

use wxmass::endpoint::{
    AnyRequest, EndpointName, SendAllRequest, SendToUsersRequest, UploadNewsRequest,
};
use wxmass::{ApiBase, Article, Endpoint, MassMessage, SendAllFilter};

fn show(title: &str, result: Result<wxmass::HttpRequest, wxmass::ValidationError>) {
    println!("── {title}");
    match result {
        Ok(req) => {
            println!(
                "   {} {}",
                req.method.as_str(),
                req.url_with_token("ACCESS_TOKEN")
            );
            println!("   Content-Type: {}", req.content_type);
            println!("   {}", req.body_text().unwrap_or("<binary>"));
        }
        Err(e) => {
            println!(
                "   refused before anything is sent: {} problem(s)",
                e.problems.len()
            );
            for p in &e.problems {
                println!("   ✗ {:<24} [{}] {}", p.path, p.rule.code(), p);
            }
        }
    }
    println!();
}

fn main() {
    let base = ApiBase::default();

    let news = UploadNewsRequest {
        articles: vec![Article {
            author: Some("wxmass".into()),
            digest: Some("Mass sends that never go out twice".into()),
            show_cover_pic: Some(true),
            ..Article::new("THUMB_MEDIA_ID", "Hello, followers", "<p>正文</p>")
        }],
    };
    show(
        "1. upload one article (media/uploadnews)",
        news.build(&base),
    );

    let mut to_tag =
        SendAllRequest::new(SendAllFilter::Tag(2), MassMessage::mpnews("NEWS_MEDIA_ID"));
    to_tag.send_ignore_reprint = Some(false);
    to_tag.clientmsgid = Some("wxm1-demo-0".into());
    show(
        "2. send it to tag 2 (message/mass/sendall)",
        to_tag.build(&base),
    );

    let bad = SendToUsersRequest {
        touser: vec![
            "oR5Gjjl_eiZoUpGozMo7dbBJ362A".into(),
            "OPENID2".into(),
            "oR5Gjjl_eiZoUpGozMo7dbBJ362A".into(),
        ],
        message: MassMessage::text(" "),
        send_ignore_reprint: None,
        clientmsgid: Some("x".repeat(80)),
    };
    show(
        "3. a send with mistakes (message/mass/send)",
        bad.build(&base),
    );

    let user_json = br#"{"filter":{"is_to_all":false,"tag_id":"-3"},"msgtype":"wxcard",
        "wxcard":{"card_id":"CARD","card_ext":"{}"},"articles":[]}"#;
    println!("── 4. user JSON read through the same rules (sendall)");
    println!(
        "   {}",
        String::from_utf8_lossy(user_json)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    show(
        "   result",
        AnyRequest::from_json(EndpointName::SendAll, user_json).and_then(|r| r.build(&base)),
    );

    println!("── 5. replies");
    let replies: [&[u8]; 4] = [
        br#"{"errcode":0,"errmsg":"send job submission success","msg_id":9007199254740993,"msg_data_id":206227730}"#,
        br#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}"#,
        br#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#,
        br#"{"errcode":40001,"errmsg":"invalid credential"}"#,
    ];
    for body in replies {
        println!("   {}", String::from_utf8_lossy(body));
        match SendAllRequest::parse_reply(body) {
            Ok(reply) => println!("   → sent: msg_id {} (exact, above 2^53)", reply.msg_id),
            Err(e) => match e.api() {
                Some(api) => println!(
                    "   → {} · class {} · msg_id {:?}",
                    api,
                    api.class().as_str(),
                    api.msg_id.map(|m| m.to_string())
                ),
                None => println!("   → malformed: {e}"),
            },
        }
    }
}
