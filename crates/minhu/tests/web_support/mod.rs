//! A tiny browser for the web tests: reqwest without redirects, cookies kept by hand, helpers to
//! read hidden fields and desk tiles.

#![allow(clippy::expect_used, clippy::unwrap_used, dead_code)] // test support fails by panicking

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::support::app::{PASSWORD, TestApp};

/// A browser of sorts: no redirects followed, cookies kept by hand.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

/// A page: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden input `name`.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).unwrap_or_else(|| {
            panic!("no field {name} in {}", self.body);
        }) + marker.len();
        let len = self.body[start..].find('"').unwrap();
        self.body[start..start + len].to_owned()
    }
}

impl Browser {
    pub fn new(t: &TestApp) -> Self {
        Self {
            base: t.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let response = request
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Signs in through the form; returns the answer to the POST.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let login = self.get("/login").await;
        assert_eq!(login.status, StatusCode::OK);
        let csrf = login.hidden("_csrf");
        self.post(
            "/login",
            &[
                ("_csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    pub async fn signed_in(t: &TestApp, username: &str) -> Self {
        let mut b = Self::new(t);
        let page = b.sign_in(username, PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        b
    }

    /// The CSRF token the pages carry.
    pub async fn csrf(&mut self) -> String {
        self.get("/").await.hidden("_csrf")
    }
}

/// The count of a desk tile by its label.
pub fn tile(body: &str, label: &str) -> i64 {
    let end = body
        .find(&format!("<span class=\"tile-label\">{label}</span>"))
        .unwrap_or_else(|| panic!("no tile {label}"));
    let marker = "<span class=\"tile-count\">";
    let start = body[..end].rfind(marker).unwrap() + marker.len();
    let len = body[start..].find('<').unwrap();
    body[start..start + len].parse().unwrap()
}
