//! The OpenAPI document: public, OpenAPI 3.1, and describing every API route there is.

use serde_json::Value;

use crate::support::{TestApp, is_json};

async fn document(app: &TestApp) -> Value {
    // Anonymous: the description of the API is public, its use is not.
    let res = app.fetch("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert!(is_json(&res), "{:?}", res.headers());
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_public_openapi_3_1() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes}");
    // The crate version changes with every release; the API does not.
    insta::assert_json_snapshot!("openapi", doc, { ".info.version" => "[version]" });
}

#[tokio::test]
async fn every_api_route_is_documented() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    let mut missing = Vec::new();
    let mut documented = std::collections::BTreeSet::new();
    for (method, path) in keikai_web::ROUTES {
        if !path.starts_with("/api/v1/") || *path == "/api/v1/openapi.json" {
            continue;
        }
        let method = method.to_lowercase();
        if paths.get(*path).and_then(|p| p.get(&method)).is_none() {
            missing.push(format!("{method} {path}"));
        }
        documented.insert((method, path.to_string()));
    }
    assert!(
        missing.is_empty(),
        "routes the document leaves out: {missing:?}"
    );
    // And the other way round: the document promises nothing the router does not serve.
    let mut extra = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let is_method = [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ]
            .contains(&method.as_str());
            if is_method && !documented.contains(&(method.clone(), path.clone())) {
                extra.push(format!("{method} {path}"));
            }
        }
    }
    assert!(extra.is_empty(), "documented but not in ROUTES: {extra:?}");
    assert!(
        documented.len() >= 17,
        "only {} API routes",
        documented.len()
    );
}
