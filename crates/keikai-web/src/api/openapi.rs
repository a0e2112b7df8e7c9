//! The OpenAPI document of `/api/v1`, served at `/api/v1/openapi.json`. Each API handler is
//! listed here; the test `it::openapi` checks that the document and the route table agree.

use axum::Json;
use axum::response::{IntoResponse, Response};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Keikai API", description = "Vulnerability response platform: organisations, users, product catalogue, API tokens."),
    paths(crate::api_admin::me, crate::api_admin::list_orgs, crate::api_admin::create_org,
        crate::api_admin::get_org, crate::api_admin::list_users, crate::api_admin::create_user,
        crate::api_admin::get_user, crate::api_admin::update_user, crate::api_admin::add_membership,
        crate::api_admin::list_branches, crate::api_admin::create_branch,
        crate::api_admin::get_branch, crate::api_admin::rename_branch,
        crate::api_admin::delete_branch, crate::api_admin::product_tree,
        crate::api_admin::list_tokens, crate::api_admin::create_token,
        crate::api_admin::revoke_token, crate::api_admin::list_audit, crate::cvss_ui::score_api,
        crate::api::cases::list, crate::api::cases::get_case, crate::api::cases::transition,
        crate::api::cases::add_vulnerability, crate::api::cases::update_vulnerability,
        crate::api::cases::set_product_status, crate::api::cases::add_message,
        crate::api::cases::messages, crate::api::cases::history, crate::api::cases::assign,
        crate::api::cases::emergency, crate::api::cases::mark_cra_sent,
        crate::api::intake::submit_api,
        crate::advisories_api::list, crate::advisories_api::create,
        crate::advisories_api::get_advisory, crate::advisories_api::edit_text,
        crate::advisories_api::edit_facts, crate::advisories_api::review,
        crate::advisories_api::schedule, crate::advisories_api::edit_diff,
        crate::advisories_api::list_releases, crate::advisories_api::plan_release,
        crate::advisories_api::get_release, crate::publishing::publish_now_api,
        crate::public_site::api_list, crate::public_site::api_get,
        crate::partners::api_partners, crate::partners::api_put_agreement, crate::partners::api_revoke,
        crate::partners::api_get_edition, crate::partners::api_put_edition,
        crate::partners::api_questions, crate::partners::api_answer,
        crate::partners::api_list_alerts, crate::partners::api_send_alert, crate::partners::api_access,
        crate::partners::api_packages, crate::partners::api_package, crate::partners::download_csaf,
        crate::partners::api_ask, crate::partners::api_alerts, crate::partners::api_acknowledge,
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
