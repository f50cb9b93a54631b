//! `/api/schema/` and `/api/docs/`: the OpenAPI description generated from the
//! handlers, and a Swagger UI with no external files.

use serde_json::Value;

use crate::support::app::TestApp;

#[tokio::test]
async fn the_schema_lists_every_public_endpoint_with_its_errors() {
    let app = TestApp::boot().await;
    let server = app.server();
    let res = server.get("/api/schema/?format=json").await;
    assert_eq!(res.status_code(), 200);
    assert!(res
        .header("content-type")
        .to_str()
        .unwrap()
        .starts_with("application/vnd.oai.openapi+json"));
    let spec: Value = serde_json::from_str(&res.text()).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let expect = [
        (
            "/api/v1/events/public_list/",
            &["200", "400", "404", "503"][..],
        ),
        ("/api/v1/events/{id}/", &["200", "404", "503"][..]),
        ("/api/v1/event-categories/", &["200", "404", "503"][..]),
        ("/api/v1/locations/", &["200", "404", "503"][..]),
    ];
    let writes = [
        (
            "/api/v1/events/{id}/reserve/",
            "post",
            &["201", "400", "404", "409"][..],
        ),
        (
            "/api/v1/events/{id}/book/",
            "post",
            &["201", "400", "404", "409"][..],
        ),
        (
            "/api/v1/payments/create_payment/",
            "post",
            &["200", "404", "409", "502", "503"][..],
        ),
        (
            "/api/v1/auth/token/",
            "post",
            &["200", "400", "401", "429"][..],
        ),
        (
            "/api/v1/tickets/validate/",
            "post",
            &["200", "401", "403"][..],
        ),
        ("/api/v1/orders/{order_number}/", "get", &["200", "404"][..]),
    ];
    for (path, method, codes) in writes {
        let responses = &paths[path][method]["responses"];
        for code in codes {
            assert!(
                responses.get(*code).is_some(),
                "{method} {path} lacks {code}"
            );
        }
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, codes) in expect {
        let responses = &paths[path]["get"]["responses"];
        for code in codes {
            assert!(responses.get(*code).is_some(), "{path} lacks {code}");
        }
    }
    let card = &spec["components"]["schemas"]["PublicEventResponse"]["properties"];
    for field in [
        "ticketsAvailable",
        "ticketsSold",
        "is_sales_active",
        "image",
    ] {
        assert!(card.get(field).is_some(), "PublicEventResponse.{field}");
    }
    let params: Vec<&str> = paths["/api/v1/events/public_list/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "type",
        "category",
        "start_date",
        "end_date",
        "location",
        "page",
        "no_pagination",
    ] {
        assert!(params.contains(&name), "parameter {name}");
    }

    // YAML by default, as drf-spectacular served it; with or without the slash.
    let yaml = server.get("/api/schema").await;
    assert_eq!(yaml.status_code(), 200);
    let text = yaml.text();
    assert!(
        text.starts_with("openapi:"),
        "{}",
        &text[..40.min(text.len())]
    );
    let parsed: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(parsed["paths"], spec["paths"]);
}

#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary_and_reads_the_schema() {
    let app = TestApp::boot().await;
    let server = app.server();
    let page = server.get("/api/docs/").await;
    assert_eq!(page.status_code(), 200);
    assert!(page
        .header("content-type")
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text();
    assert!(html.contains("swagger-ui"));
    assert!(!html.contains("https://"), "no external files");
    let init = server.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status_code(), 200);
    assert!(init.text().contains("/api/schema/?format=json"));
    for file in ["swagger-ui.css", "swagger-ui-bundle.js"] {
        let res = server.get(&format!("/api/docs/{file}")).await;
        assert_eq!(res.status_code(), 200, "{file}");
    }
    assert_eq!(server.get("/api/docs/nope.js").await.status_code(), 404);
    // Without the slash the page's relative links would miss: redirect.
    let bare = server.get("/api/docs").await;
    assert_eq!(bare.status_code(), 308);
    assert_eq!(bare.header("location"), "/api/docs/");
}
