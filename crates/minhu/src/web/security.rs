//! The security headers of every workbench response: a strict Content-Security-Policy (no inline
//! script or style anywhere: the pages' behaviour is in `static/app.js`, their looks in
//! `static/app.css`, htmx's own indicator style is switched off in `base.html` and kept in
//! `app.css`), no MIME sniffing, and no referrer beyond this site. The API's JSON answers do not
//! get them.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

/// The Content-Security-Policy of the workbench.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; \
     base-uri 'none'";

/// Sets the security headers on `headers` (keeping any a handler set itself).
pub fn add_headers(headers: &mut HeaderMap) {
    let set: [(HeaderName, &'static str); 3] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// The middleware of the workbench's routes (`axum::middleware::map_response`).
pub async fn headers(mut response: Response) -> Response {
    add_headers(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_the_strict_one() {
        let mut headers = HeaderMap::new();
        add_headers(&mut headers);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    }
}
