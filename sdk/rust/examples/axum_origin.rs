//! An origin on axum behind keygate: every request passes through
//! [`KeygateLayer`] and the handler echoes the verified identity as JSON.
//! `tests/e2e/sdk-origins.test.mjs` runs it.
//!
//! Usage: `axum-origin PRODUCT... PORT` with `KEYGATE_ORIGIN_SECRET` in the
//! environment; `KEYGATE_SIGN_BODY` lists the products that sign bodies
//! (comma-separated).

use axum::{extract::Request, response::Json, Extension, Router};
use keygate_origin::{Identity, KeygateLayer, Verifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut products: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = products
        .pop()
        .ok_or("usage: axum-origin PRODUCT... PORT")?
        .parse()?;
    let secret = std::env::var("KEYGATE_ORIGIN_SECRET")?;
    let mut verifier = Verifier::from_secret(&secret, products)?;
    let sign_body = std::env::var("KEYGATE_SIGN_BODY").unwrap_or_default();
    for p in sign_body.split(',').filter(|p| !p.is_empty()) {
        verifier = verifier.sign_body(p);
    }
    let app = Router::new()
        .fallback(
            |Extension(id): Extension<Identity>, request: Request| async move {
                let headers: serde_json::Map<String, serde_json::Value> = request
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_owned(), v.into())
                    })
                    .collect();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .map(|b| b.len())
                    .unwrap_or(0);
                Json(serde_json::json!({
                    "product": id.product, "key_id": id.key_id, "account": id.account,
                    "environment": id.environment, "scopes": id.scopes, "meta": id.meta,
                    "client_ip": id.client_ip, "request_id": id.request_id,
                    "body_length": body, "headers": headers,
                }))
            },
        )
        .layer(KeygateLayer::new(verifier));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("axum origin listening on http://127.0.0.1:{port}");
    axum::serve(listener, app).await?;
    Ok(())
}
