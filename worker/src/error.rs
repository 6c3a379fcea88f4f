//! One error type for every route, turned into an HTTP response in one place:
//! `{ "error": { "code", "message", "path" } }`, plus `problems` for invalid input (each with
//! its path, rule and message, straight from core's `ValidationError`).

use serde_json::{json, Value};
use worker::Response;
use wxmass::plan::PlanError;
use wxmass::{ApiError, ValidationError};

#[derive(Debug)]
pub enum AppError {
    /// Missing or wrong `Authorization: Bearer <ADMIN_TOKEN>`.
    Unauthorized,
    /// No such route or record.
    NotFound(String),
    /// Input the worker itself reads (audience, sendAt, headers) is wrong.
    BadRequest {
        code: &'static str,
        message: String,
        path: String,
    },
    /// Core found problems in the input.
    Invalid(ValidationError),
    /// Core refused to plan the job.
    Plan(PlanError),
    /// The body is larger than the route accepts.
    TooLarge { limit: usize },
    /// The request conflicts with the record's state (cancel after sending).
    Conflict(String),
    /// WeChat answered with an error code.
    WeChat(ApiError),
    /// WeChat (or the proxy) could not be reached or answered nonsense.
    Upstream(String),
    /// A configuration value is missing or wrong.
    Config(String),
    /// Anything else (D1, the runtime).
    Internal(String),
}

impl From<worker::Error> for AppError {
    fn from(e: worker::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl AppError {
    pub fn bad(code: &'static str, path: &str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            path: path.to_owned(),
        }
    }

    fn parts(&self) -> (u16, &'static str, String, String, Value) {
        match self {
            AppError::Unauthorized => (
                401,
                "unauthorized",
                "send Authorization: Bearer <ADMIN_TOKEN>".into(),
                String::new(),
                Value::Null,
            ),
            AppError::NotFound(what) => {
                (404, "not_found", what.clone(), String::new(), Value::Null)
            }
            AppError::BadRequest {
                code,
                message,
                path,
            } => (400, code, message.clone(), path.clone(), Value::Null),
            AppError::Invalid(e) => (400, "invalid", e.to_string(), first_path(e), problems(e)),
            AppError::Plan(PlanError::InvalidMessage(e)) => {
                (400, "invalid", e.to_string(), first_path(e), problems(e))
            }
            AppError::Plan(e) => (
                400,
                "plan_refused",
                e.to_string(),
                "audience".into(),
                Value::Null,
            ),
            AppError::TooLarge { limit } => (
                413,
                "too_large",
                format!("the body is larger than {limit} bytes"),
                String::new(),
                Value::Null,
            ),
            AppError::Conflict(m) => (409, "conflict", m.clone(), String::new(), Value::Null),
            AppError::WeChat(e) => (
                502,
                "wechat_error",
                e.to_string(),
                String::new(),
                json!({ "errcode": e.code, "class": e.class().as_str(), "msg_id": e.msg_id.map(|m| m.to_string()) }),
            ),
            AppError::Upstream(m) => (502, "upstream", m.clone(), String::new(), Value::Null),
            AppError::Config(m) => (500, "config", m.clone(), String::new(), Value::Null),
            AppError::Internal(m) => (500, "internal", m.clone(), String::new(), Value::Null),
        }
    }

    pub fn into_response(self) -> worker::Result<Response> {
        let (status, code, message, path, extra) = self.parts();
        let mut error = json!({ "code": code, "message": message, "path": path });
        match (code, extra) {
            (_, Value::Null) => {}
            ("invalid", problems) => error["problems"] = problems,
            (_, detail) => error["detail"] = detail,
        }
        Ok(Response::from_json(&json!({ "error": error }))?.with_status(status))
    }
}

fn first_path(e: &ValidationError) -> String {
    e.problems
        .first()
        .map(|p| p.path.clone())
        .unwrap_or_default()
}

fn problems(e: &ValidationError) -> Value {
    e.problems
        .iter()
        .map(|p| {
            json!({
                "path": p.path,
                "rule": p.rule.code(),
                "message": p.to_string(),
                "value": p.value,
            })
        })
        .collect()
}
