//! Build + validate of typed requests, against `serde_json::to_vec` of the same body held as an
//! untyped `serde_json::Value` (what a caller without wxmass would do, with no checks at all).
//! Both are measured in the same run; the ratio table at the end reads criterion's estimates.
//!
//! Run: `cargo bench -p wxmass --bench requests`

use criterion::{black_box, Criterion};
use serde_json::Value;
use wxmass::endpoint::{
    AnyRequest, EndpointName, SendAllRequest, SendToUsersRequest, UploadNewsRequest,
};
use wxmass::{ApiBase, Article, Endpoint, MassMessage, SendAllFilter};

fn openids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("oR5Gjjl_eiZoUpGozMo7{i:08}"))
        .collect()
}

fn article(i: usize) -> Article {
    Article {
        author: Some("wxmass".into()),
        content_source_url: Some("https://example.com/source".into()),
        digest: Some("A short digest of the article".into()),
        show_cover_pic: Some(true),
        need_open_comment: Some(true),
        only_fans_can_comment: Some(false),
        ..Article::new(
            format!("qI6_Ze_6PtV7svjolgs-rN6stStuHIjs9_DidOHaj0Q-mwvBelOXCFZiq2O{i:05}"),
            format!("群发文章标题 {i}"),
            "<p>正文 with <img src=\"http://mmbiz.qpic.cn/mmbiz_jpg/demo/0?wx_fmt=jpg\"></p>"
                .repeat(30),
        )
    }
}

/// The tag sendall of the npm benchmark, as its facade hands it to core.
const CAMEL_SENDALL: &str = r#"{"filter":{"isToAll":false,"tagId":2},"msgType":"mpnews","mpnews":{"mediaId":"123dsdajkasd231jhksad"},"sendIgnoreReprint":0,"clientMsgId":"job-2024-06-01/batch-0"}"#;

/// A case: its id, the typed build+validate, and the same body as a Value.
type Case = (&'static str, Box<dyn Fn() -> Vec<u8>>, Value);

fn cases() -> Vec<Case> {
    let base = ApiBase::default();
    let mut sendall = SendAllRequest::new(
        SendAllFilter::Tag(2),
        MassMessage::mpnews("123dsdajkasd231jhksad"),
    );
    sendall.send_ignore_reprint = Some(false);
    sendall.clientmsgid = Some("wxm1-job-42-0-3f2a9c1d".into());
    let news = UploadNewsRequest {
        articles: (0..8).map(article).collect(),
    };
    let mut send = SendToUsersRequest::new(openids(10_000), MassMessage::text("hello from wxmass"));
    send.clientmsgid = Some("wxm1-job-42-0-3f2a9c1d".into());

    let values = [
        serde_json::from_slice::<Value>(&sendall.to_body()),
        serde_json::from_slice::<Value>(&news.to_body()),
        serde_json::from_slice::<Value>(&send.to_body()),
    ];
    let [Ok(v1), Ok(v2), Ok(v3)] = values else {
        unreachable!("our own bodies are JSON")
    };
    let (b1, b2, b3, b4) = (base.clone(), base.clone(), base.clone(), base);
    // The same body as a Value (a build that failed would leave nothing to parse here).
    let wire_sendall = AnyRequest::from_json(EndpointName::SendAll, CAMEL_SENDALL.as_bytes())
        .map(|r| r.to_body())
        .ok()
        .and_then(|body| serde_json::from_slice::<Value>(&body).ok())
        .unwrap_or_else(|| unreachable!("the benchmark's sendall is valid"));
    vec![
        (
            "sendall_tag_mpnews",
            Box::new(move || sendall.build(&b1).map(|r| r.body).unwrap_or_default()),
            v1,
        ),
        (
            "uploadnews_8_articles",
            Box::new(move || news.build(&b2).map(|r| r.body).unwrap_or_default()),
            v2,
        ),
        (
            "send_10000_openids_text",
            Box::new(move || send.build(&b3).map(|r| r.body).unwrap_or_default()),
            v3,
        ),
        // What the npm package does per build: read the camelCase JSON text (the
        // bench's object in npm/bench/bench.mjs), check it, write the body.
        (
            "sendall_tag_from_camel_text",
            Box::new(move || {
                AnyRequest::from_json(EndpointName::SendAll, CAMEL_SENDALL.as_bytes())
                    .and_then(|r| r.build(&b4))
                    .map(|r| r.body)
                    .unwrap_or_default()
            }),
            wire_sendall,
        ),
    ]
}

fn estimate_ns(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| format!("{}/../target", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/criterion/{group}/{id}/new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let cases = cases();
    for (id, build, value) in &cases {
        let mut g = c.benchmark_group(*id);
        g.bench_function("wxmass_build_validate", |b| b.iter(|| black_box(build())));
        g.bench_function("serde_json_value_to_vec", |b| {
            b.iter(|| black_box(serde_json::to_vec(black_box(value)).unwrap_or_default()))
        });
        g.finish();
    }
    c.final_summary();

    println!(
        "\n{:<26} {:>18} {:>18} {:>8}",
        "case", "wxmass ns/op", "Value to_vec ns/op", "ratio"
    );
    for (id, _, _) in &cases {
        match (
            estimate_ns(id, "wxmass_build_validate"),
            estimate_ns(id, "serde_json_value_to_vec"),
        ) {
            (Some(ours), Some(theirs)) => {
                println!(
                    "{id:<26} {ours:>18.0} {theirs:>18.0} {:>7.2}x",
                    ours / theirs
                )
            }
            _ => println!("{id:<26} (no estimate: run without --test / filters)"),
        }
    }
}
