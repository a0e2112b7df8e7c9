//! The OpenAPI document of `/api/v1`, served at `/api/v1/openapi.json`. Each API handler is
//! listed here; the test `it::openapi` checks that the document and the route table agree.

use axum::Json;
use axum::response::{IntoResponse, Response};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Keikai API", description = "Vulnerability response platform: organisations, users, product catalogue, API tokens."),
    paths(crate::api::admin::me, crate::api::admin::list_orgs, crate::api::admin::create_org,
        crate::api::admin::get_org, crate::api::admin::list_users, crate::api::admin::create_user,
        crate::api::admin::get_user, crate::api::admin::update_user, crate::api::admin::add_membership,
        crate::api::admin::list_branches, crate::api::admin::create_branch,
        crate::api::admin::get_branch, crate::api::admin::rename_branch,
        crate::api::admin::delete_branch, crate::api::admin::product_tree,
        crate::api::admin::list_tokens, crate::api::admin::create_token,
        crate::api::admin::revoke_token, crate::api::admin::list_audit, crate::api::cvss::score_api,
        crate::api::cases::list, crate::api::cases::get_case, crate::api::cases::transition,
        crate::api::cases::add_vulnerability, crate::api::cases::update_vulnerability,
        crate::api::cases::set_product_status, crate::api::cases::add_message,
        crate::api::cases::messages, crate::api::cases::history, crate::api::cases::assign,
        crate::api::cases::emergency, crate::api::cases::mark_cra_sent,
        crate::api::intake::submit_api,
        crate::api::advisories::list, crate::api::advisories::create,
        crate::api::advisories::get_advisory, crate::api::advisories::edit_text,
        crate::api::advisories::edit_facts, crate::api::advisories::review,
        crate::api::advisories::schedule, crate::api::advisories::edit_diff,
        crate::api::releases::list_releases, crate::api::releases::plan_release,
        crate::api::releases::get_release, crate::api::releases::publish_now_api,
        crate::api::public::api_list, crate::api::public::api_get,
        crate::api::partners::api_partners, crate::api::partners::api_put_agreement,
        crate::api::partners::api_revoke, crate::api::partners::api_get_edition,
        crate::api::partners::api_put_edition, crate::api::partners::api_questions,
        crate::api::partners::api_answer, crate::api::partners::api_list_alerts,
        crate::api::partners::api_send_alert, crate::api::partners::api_access,
        crate::api::partner_portal::api_packages, crate::api::partner_portal::api_package,
        crate::api::partner_portal::download_csaf, crate::api::partner_portal::api_ask,
        crate::api::partner_portal::api_alerts, crate::api::partner_portal::api_acknowledge,
        crate::api::distribution::api_lists, crate::api::distribution::api_create_list,
        crate::api::distribution::api_put_list, crate::api::distribution::api_delete_list,
        crate::api::distribution::api_subscribers, crate::api::distribution::api_create_subscriber,
        crate::api::distribution::api_patch_subscriber, crate::api::distribution::api_import,
        crate::api::distribution::api_editions, crate::api::distribution::api_edition,
        crate::api::distribution::api_put_edition, crate::api::distribution::api_preview,
        crate::api::distribution::api_webhooks, crate::api::distribution::api_create_webhook,
        crate::api::distribution::api_enable_webhook, crate::api::distribution::api_early_warning,
        crate::api::distribution::api_events, crate::api::distribution::api_event,
        crate::api::distribution::api_bounce),
    modifiers(&BearerAuth),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("kk_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub async fn openapi_json() -> Response {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi()).into_response()
}
