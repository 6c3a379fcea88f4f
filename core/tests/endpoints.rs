//! Every endpoint's facts come from its type: `EndpointName`'s answers (path, method, mass
//! limit) and the requests actually built equal the type's `Endpoint` constants.

use std::collections::HashSet;

use wxmass::endpoint::*;
use wxmass::limits;
use wxmass::{
    ApiBase, Article, Endpoint, MassMessage, Method, MsgId, PreviewTarget, SendAllFilter,
};

const A: &str = "oR5Gjjl_eiZoUpGozMo7dbBJ362A";
const B: &str = "oR5Gjjo5rXlMUocSEXKT7Q5RQ63Q";

/// Checks one endpoint through a valid request of it; returns its name.
fn check<E: Endpoint>(req: &E) -> EndpointName {
    let name = E::NAME;
    assert_eq!(name.facts(), EndpointFacts::of::<E>(), "{name:?}");
    assert_eq!(name.path(), E::PATH, "{name:?}");
    assert_eq!(name.method(), E::METHOD, "{name:?}");
    assert_eq!(name.is_mass_endpoint(), E::MASS, "{name:?}");
    assert_eq!(EndpointName::parse(E::PATH), Some(name), "{name:?}");
    assert_eq!(EndpointName::parse(name.as_str()), Some(name), "{name:?}");

    let base = ApiBase::parse("https://proxy.example.com/wx").unwrap();
    let http = req.build(&base).unwrap();
    assert_eq!(http.method, E::METHOD, "{name:?}");
    assert_eq!(http.path, format!("/wx{}", E::PATH), "{name:?}");
    name
}

/// [`check`], plus the same through [`AnyRequest`] and a stored body.
fn check_json<E: Endpoint>(req: &E, body: &[u8]) -> EndpointName {
    let name = check(req);
    let base = ApiBase::default();
    let any = AnyRequest::from_json(name, body).unwrap();
    assert_eq!(any.endpoint(), E::NAME);
    let http = any.build(&base).unwrap();
    assert_eq!(http.method, E::METHOD, "{name:?}");
    assert_eq!(http.path, E::PATH, "{name:?}");
    assert_eq!(
        name.request_for_built_body(&base, http.body.clone()),
        http,
        "{name:?}"
    );
    name
}

#[test]
fn every_endpoint_answers_with_its_types_constants() {
    let mut seen = HashSet::new();
    let png = [limits::PNG_MAGIC, b"rest"].concat();
    seen.insert(check(&UploadImgRequest::new("a.png", png)));

    macro_rules! json {
        ($req:expr) => {{
            let req = $req;
            seen.insert(check_json(&req, &req.to_body()));
        }};
    }
    json!(UploadNewsRequest {
        articles: vec![Article::new("THUMB", "Title", "<p>body</p>")],
    });
    json!(UploadVideoRequest {
        media_id: "VIDEO".into(),
        title: "t".into(),
        description: "d".into(),
    });
    json!(SendAllRequest::new(
        SendAllFilter::Tag(2),
        MassMessage::mpnews("NEWS")
    ));
    json!(SendToUsersRequest::new(
        vec![A.into(), B.into()],
        MassMessage::text("hi")
    ));
    json!(DeleteRequest::new(MsgId(1)));
    json!(PreviewRequest {
        target: PreviewTarget::OpenId(A.into()),
        message: MassMessage::text("hi"),
    });
    json!(GetStatusRequest { msg_id: MsgId(2) });
    json!(SpeedGetRequest);
    json!(SpeedSetRequest { speed: 3 });
    json!(StableTokenRequest::new("APPID", "SECRET", false));
    let jpeg = [limits::JPEG_MAGIC, b"rest"].concat();
    let mp4 = b"\0\0\0\x18ftypmp42rest".to_vec();
    seen.insert(check(&MediaUploadRequest::new(
        MediaType::Thumb,
        "cover.jpg",
        jpeg.clone(),
    )));
    seen.insert(check(
        &AddMaterialRequest::new(MediaType::Video, "clip.mp4", mp4).video("Title", "Intro"),
    ));
    json!(BatchGetMaterialRequest::new("image", 0, 20));
    json!(MaterialCountRequest);
    json!(TagsGetRequest);
    json!(UserTagGetRequest::new(134, ""));
    // The first page: a later page's cursor travels in the query, not the stored body.
    json!(UserGetRequest::after(""));

    let all: HashSet<_> = EndpointName::ALL.into_iter().collect();
    assert_eq!(seen, all, "every endpoint is checked");
}

#[test]
fn facts_are_unchanged() {
    // The values before the facts moved into each endpoint's file.
    let expected = [
        ("uploadimg", limits::PATH_UPLOAD_IMG, true),
        ("uploadnews", limits::PATH_UPLOAD_NEWS, true),
        ("uploadvideo", limits::PATH_UPLOAD_VIDEO, true),
        ("sendall", limits::PATH_SEND_ALL, true),
        ("send", limits::PATH_SEND_TO_USERS, true),
        ("delete", limits::PATH_DELETE, true),
        ("preview", limits::PATH_PREVIEW, true),
        ("get", limits::PATH_GET_STATUS, true),
        ("speed/get", limits::PATH_SPEED_GET, true),
        ("speed/set", limits::PATH_SPEED_SET, true),
        ("stable_token", limits::PATH_STABLE_TOKEN, false),
        ("media/upload", limits::PATH_MEDIA_UPLOAD, false),
        ("material/add_material", limits::PATH_ADD_MATERIAL, false),
        (
            "material/batchget_material",
            limits::PATH_BATCHGET_MATERIAL,
            false,
        ),
        (
            "material/get_materialcount",
            limits::PATH_GET_MATERIAL_COUNT,
            false,
        ),
        ("tags/get", limits::PATH_TAGS_GET, false),
        ("user/tag/get", limits::PATH_USER_TAG_GET, false),
        ("user/get", limits::PATH_USER_GET, false),
    ];
    let found: Vec<_> = EndpointName::ALL
        .into_iter()
        .map(|e| (e.as_str(), e.path(), e.is_mass_endpoint()))
        .collect();
    assert_eq!(found, expected);
    // WeChat's documented methods: three reads are GETs, everything else POSTs.
    let gets: Vec<_> = EndpointName::ALL
        .into_iter()
        .filter(|e| e.method() == Method::Get)
        .map(EndpointName::as_str)
        .collect();
    assert_eq!(gets, ["material/get_materialcount", "tags/get", "user/get"]);
}

#[test]
fn uploadimg_is_not_read_from_json() {
    let e = AnyRequest::from_json(EndpointName::UploadImg, b"{}").unwrap_err();
    assert_eq!(e.problems[0].rule.code(), "not_allowed");
}
