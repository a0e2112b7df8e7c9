//! The route table, written once: [`ROUTES`] (for the route × role test and the OpenAPI
//! check) and the routers are both expanded from it, so they cannot drift apart.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::http::state::WebState;

/// Routes that take files keep a larger body than the default.
fn upload(route: MethodRouter<WebState>) -> MethodRouter<WebState> {
    route.layer(DefaultBodyLimit::max(http::auth::MAX_MULTIPART_BYTES))
}

/// `METHOD "path" => handler` rows; a row ending in `, upload` takes files. The API's paths
/// are relative to its prefix.
macro_rules! route_table {
    (
        site { $( $sm:ident $sp:literal => $sh:path $(, $sl:ident)? ; )* }
        api $prefix:literal { $( $am:ident $ap:literal => $ah:path ; )* }
    ) => {
        /// Every route: (method, path template).
        pub const ROUTES: &[(&str, &str)] = &[
            $( (stringify!($sm), $sp), )*
            $( (stringify!($am), concat!($prefix, $ap)), )*
        ];

        /// Where the API is mounted.
        pub(crate) const API_PREFIX: &str = $prefix;

        /// The pages, the public site and the operational endpoints.
        pub(crate) fn site() -> Router<WebState> {
            Router::new()
                $( .route($sp, route_table!(@layer on(MethodFilter::$sm, $sh) $(, $sl)?)) )*
        }

        /// The JSON API, relative to [`API_PREFIX`].
        pub(crate) fn api() -> Router<WebState> {
            Router::new() $( .route($ap, on(MethodFilter::$am, $ah)) )*
        }
    };
    (@layer $route:expr) => { $route };
    (@layer $route:expr, $layer:ident) => { $layer($route) };
}

use crate::{api, http, ui};

route_table! {
    site {
        GET "/healthz" => http::ops::healthz;
        GET "/readyz" => http::ops::readyz;
        GET "/metrics" => http::ops::metrics;
        GET "/static/{*path}" => http::ops::static_asset;
        GET "/.well-known/security.txt" => ui::public_site::security_txt;
        GET "/security.txt" => ui::public_site::security_txt_legacy;
        GET "/.well-known/csaf/provider-metadata.json" => ui::public_site::provider_metadata;
        GET "/.well-known/csaf/service.json" => ui::public_site::service_document;
        GET "/.well-known/csaf/openpgp/{file}" => ui::public_site::openpgp_key;
        GET "/.well-known/csaf/white/{name}" => ui::public_site::white_dir_file;
        GET "/.well-known/csaf/white/{year}/{file}" => ui::public_site::csaf_document;
        GET "/advisories" => ui::public_site::list;
        GET "/advisories/feed.atom" => ui::public_site::feed_en;
        GET "/advisories/feed.ja.atom" => ui::public_site::feed_ja;
        GET "/advisories/{tracking_id}" => ui::public_site::advisory;
        GET "/advisories/{tracking_id}/{file}" => ui::public_site::advisory_page;
        GET "/advisories/{tracking_id}/versions/{version}/{file}" => ui::public_site::version_file;
        GET "/login" => ui::login::login_page;
        POST "/login" => ui::login::login_submit;
        POST "/logout" => ui::login::logout;
        POST "/language" => ui::profile::set_language;
        GET "/" => ui::dashboard::dashboard;
        GET "/products" => ui::admin::products;
        POST "/products" => ui::admin::create_branch;
        POST "/products/{id}/delete" => ui::admin::delete_branch;
        GET "/organisations" => ui::admin::organisations;
        POST "/organisations" => ui::admin::create_org;
        GET "/users" => ui::admin::users;
        POST "/users" => ui::admin::create_user;
        POST "/users/{id}/disable" => ui::admin::disable_user;
        POST "/users/{id}/enable" => ui::admin::enable_user;
        POST "/users/{id}/memberships" => ui::admin::add_membership;
        GET "/profile" => ui::profile::profile;
        POST "/profile" => ui::profile::update_profile;
        POST "/profile/password" => ui::profile::change_password;
        POST "/notifications/read" => ui::profile::mark_notifications_read;
        POST "/profile/tokens" => ui::profile::create_token;
        POST "/profile/tokens/{id}/revoke" => ui::profile::revoke_token;
        GET "/cvss" => ui::cvss::page;
        GET "/cvss/score" => ui::cvss::score_fragment;
        GET "/report" => ui::intake::form;
        POST "/report" => ui::intake::submit_form, upload;
        GET "/track/{secret}" => ui::intake::portal;
        POST "/track/{secret}/messages" => ui::intake::reply, upload;
        POST "/track/{secret}/credit" => ui::intake::set_credit;
        GET "/track/{secret}/attachments/{attachment}" => ui::intake::download;
        GET "/cases" => ui::cases::list;
        GET "/cases/{number}" => ui::cases::page;
        GET "/cases/{number}/history" => ui::cases::history;
        GET "/cases/{number}/attachments/{id}" => ui::cases::attachment;
        POST "/cases/{number}/transition" => ui::cases::transition;
        POST "/cases/{number}/vulnerabilities" => ui::cases::add_vulnerability;
        POST "/cases/{number}/vulnerabilities/{id}" => ui::cases::update_vulnerability;
        POST "/cases/{number}/vulnerabilities/{id}/delete" => ui::cases::remove_vulnerability;
        POST "/cases/{number}/vulnerabilities/{id}/statuses" => ui::cases::set_product_status;
        POST "/cases/{number}/vulnerabilities/{id}/remediations" => ui::cases::add_remediation;
        POST "/cases/{number}/vulnerabilities/{id}/remediations/{index}/delete" => ui::cases::remove_remediation;
        POST "/cases/{number}/assignment" => ui::cases::assign;
        POST "/cases/{number}/owner" => ui::cases::set_owner;
        POST "/cases/{number}/tasks" => ui::cases::add_task;
        POST "/cases/{number}/tasks/{id}/done" => ui::cases::set_task_done;
        POST "/cases/{number}/emergency" => ui::cases::declare_emergency;
        POST "/cases/{number}/emergency/end" => ui::cases::end_emergency;
        POST "/cases/{number}/cra/{report}" => ui::cases::mark_cra_sent;
        POST "/cases/{number}/notes" => ui::cases::add_note, upload;
        POST "/cases/{number}/messages" => ui::cases::add_message, upload;
        POST "/cases/{number}/advisory" => ui::advisories::create_from_case;
        GET "/editor/advisories" => ui::advisories::list;
        POST "/editor/advisories" => ui::advisories::create;
        GET "/editor/advisories/{id}" => ui::advisories::page;
        GET "/editor/advisories/{id}/edits/{number}" => ui::advisories::edit_diff;
        POST "/editor/advisories/{id}/text/{lang}" => ui::advisories::edit_text;
        POST "/editor/advisories/{id}/translation/{lang}/confirm" => ui::advisories::confirm_translation;
        POST "/editor/advisories/{id}/facts" => ui::advisories::edit_facts;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/statuses" => ui::advisories::set_product_status;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/statuses/{branch}/delete" => ui::advisories::remove_product_status;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/remediations" => ui::advisories::add_remediation;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/remediations/{index}/delete" => ui::advisories::remove_remediation;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/scores" => ui::advisories::set_score;
        POST "/editor/advisories/{id}/vulnerabilities/{vid}/scores/{index}/delete" => ui::advisories::remove_score;
        POST "/editor/advisories/{id}/refresh" => ui::advisories::refresh;
        POST "/editor/advisories/{id}/reviews" => ui::advisories::review;
        POST "/editor/advisories/{id}/schedule" => ui::advisories::schedule;
        POST "/editor/advisories/{id}/unschedule" => ui::advisories::unschedule;
        POST "/editor/advisories/{id}/revision" => ui::advisories::start_revision;
        GET "/releases" => ui::releases::releases;
        POST "/releases" => ui::releases::plan_release;
        GET "/releases/{id}" => ui::releases::release;
        POST "/releases/{id}/reschedule" => ui::releases::reschedule;
        POST "/releases/{id}/publish" => ui::releases::publish_now_ui;
        POST "/editor/advisories/{id}/partner-edition" => ui::advisories::partner_edition;
        GET "/partners" => ui::partners::overview;
        GET "/partners/access.csv" => ui::partners::access_csv;
        GET "/partner" => ui::partner_portal::portal;
        GET "/partner/releases/{release}" => ui::partner_portal::package;
        GET "/partner/releases/{release}/advisories/{advisory}/csaf" => api::partner_portal::download_csaf;
        POST "/partner/releases/{release}/advisories/{advisory}/questions" => ui::partner_portal::ask;
        POST "/partner/alerts/{id}/ack" => ui::partner_portal::acknowledge;
        POST "/partners/{org}/agreement" => ui::partners::record_agreement;
        POST "/partners/{org}/revoke" => ui::partners::revoke;
        POST "/partners/alerts" => ui::partners::send_alert;
        POST "/partners/questions/{id}/answers" => ui::partners::answer;
        GET "/subscribe" => ui::subscription::subscribe_form;
        POST "/subscribe" => ui::subscription::subscribe_submit;
        GET "/subscribe/confirm/{token}" => ui::subscription::confirm_page;
        POST "/subscribe/confirm/{token}" => ui::subscription::confirm_submit;
        GET "/unsubscribe/{token}" => ui::subscription::unsubscribe_page;
        POST "/unsubscribe/{token}" => ui::subscription::unsubscribe_submit;
        GET "/ack/{token}" => ui::subscription::ack_page;
        POST "/ack/{token}" => ui::subscription::ack_submit;
        GET "/distribution" => ui::distribution::overview;
        POST "/distribution/lists" => ui::distribution::create_list;
        POST "/distribution/webhooks" => ui::distribution::create_webhook;
        POST "/distribution/webhooks/{id}/enable" => ui::distribution::enable_webhook;
        POST "/distribution/early-warnings" => ui::distribution::early_warning;
        POST "/distribution/editions" => ui::distribution::create_edition;
        GET "/distribution/editions/{name}" => ui::distribution::edition_page;
        POST "/distribution/editions/{name}" => ui::distribution::save_edition;
        POST "/distribution/editions/{name}/preview" => ui::distribution::preview;
        GET "/distribution/subscribers" => ui::distribution::subscribers;
        POST "/distribution/subscribers/import" => ui::distribution::import, upload;
        GET "/distribution/events/{id}" => ui::distribution::report;
        GET "/distribution/events/{id}/deliveries.csv" => ui::distribution::report_csv;
    }
    api "/api/v1" {
        GET "/openapi.json" => api::openapi::openapi_json;
        GET "/me" => api::admin::me;
        GET "/organisations" => api::admin::list_orgs;
        POST "/organisations" => api::admin::create_org;
        GET "/organisations/{id}" => api::admin::get_org;
        GET "/users" => api::admin::list_users;
        POST "/users" => api::admin::create_user;
        GET "/users/{id}" => api::admin::get_user;
        PATCH "/users/{id}" => api::admin::update_user;
        POST "/users/{id}/memberships" => api::admin::add_membership;
        GET "/branches" => api::admin::list_branches;
        POST "/branches" => api::admin::create_branch;
        GET "/branches/{id}" => api::admin::get_branch;
        PATCH "/branches/{id}" => api::admin::rename_branch;
        DELETE "/branches/{id}" => api::admin::delete_branch;
        GET "/product-tree" => api::admin::product_tree;
        GET "/audit" => api::admin::list_audit;
        GET "/tokens" => api::admin::list_tokens;
        POST "/tokens" => api::admin::create_token;
        DELETE "/tokens/{id}" => api::admin::revoke_token;
        GET "/cvss" => api::cvss::score_api;
        POST "/reports" => api::intake::submit_api;
        GET "/cases" => api::cases::list;
        GET "/cases/{number}" => api::cases::get_case;
        POST "/cases/{number}/transitions" => api::cases::transition;
        POST "/cases/{number}/vulnerabilities" => api::cases::add_vulnerability;
        PUT "/cases/{number}/vulnerabilities/{id}" => api::cases::update_vulnerability;
        PUT "/cases/{number}/vulnerabilities/{id}/product-statuses" => api::cases::set_product_status;
        GET "/cases/{number}/messages" => api::cases::messages;
        POST "/cases/{number}/messages" => api::cases::add_message;
        GET "/cases/{number}/history" => api::cases::history;
        POST "/cases/{number}/assignment" => api::cases::assign;
        POST "/cases/{number}/emergency" => api::cases::emergency;
        POST "/cases/{number}/cra/{report}" => api::cases::mark_cra_sent;
        GET "/advisories" => api::advisories::list;
        POST "/advisories" => api::advisories::create;
        GET "/advisories/{id}" => api::advisories::get_advisory;
        PUT "/advisories/{id}/text/{lang}" => api::advisories::edit_text;
        PUT "/advisories/{id}/facts" => api::advisories::edit_facts;
        POST "/advisories/{id}/reviews" => api::advisories::review;
        POST "/advisories/{id}/schedule" => api::advisories::schedule;
        GET "/advisories/{id}/edits/{number}" => api::advisories::edit_diff;
        GET "/releases" => api::releases::list_releases;
        POST "/releases" => api::releases::plan_release;
        GET "/releases/{id}" => api::releases::get_release;
        POST "/releases/{id}/publish" => api::releases::publish_now_api;
        GET "/public/advisories" => api::public::api_list;
        GET "/public/advisories/{tracking_id}" => api::public::api_get;
        GET "/partners" => api::partners::api_partners;
        PUT "/partners/{org}/agreement" => api::partners::api_put_agreement;
        POST "/partners/{org}/revoke" => api::partners::api_revoke;
        GET "/advisories/{id}/partner-edition" => api::partners::api_get_edition;
        PUT "/advisories/{id}/partner-edition" => api::partners::api_put_edition;
        GET "/partners/questions" => api::partners::api_questions;
        POST "/partners/questions/{id}/answers" => api::partners::api_answer;
        GET "/partners/alerts" => api::partners::api_list_alerts;
        POST "/partners/alerts" => api::partners::api_send_alert;
        GET "/partners/access" => api::partners::api_access;
        GET "/partner/packages" => api::partner_portal::api_packages;
        GET "/partner/packages/{release}" => api::partner_portal::api_package;
        GET "/partner/packages/{release}/advisories/{advisory}/csaf" => api::partner_portal::download_csaf;
        POST "/partner/packages/{release}/advisories/{advisory}/questions" => api::partner_portal::api_ask;
        GET "/partner/alerts" => api::partner_portal::api_alerts;
        POST "/partner/alerts/{id}/ack" => api::partner_portal::api_acknowledge;
        GET "/distribution/lists" => api::distribution::api_lists;
        POST "/distribution/lists" => api::distribution::api_create_list;
        PUT "/distribution/lists/{id}" => api::distribution::api_put_list;
        DELETE "/distribution/lists/{id}" => api::distribution::api_delete_list;
        GET "/distribution/subscribers" => api::distribution::api_subscribers;
        POST "/distribution/subscribers" => api::distribution::api_create_subscriber;
        PATCH "/distribution/subscribers/{id}" => api::distribution::api_patch_subscriber;
        POST "/distribution/subscribers/import" => api::distribution::api_import;
        GET "/distribution/editions" => api::distribution::api_editions;
        GET "/distribution/editions/{name}" => api::distribution::api_edition;
        PUT "/distribution/editions/{name}" => api::distribution::api_put_edition;
        POST "/distribution/editions/{name}/preview" => api::distribution::api_preview;
        GET "/distribution/webhooks" => api::distribution::api_webhooks;
        POST "/distribution/webhooks" => api::distribution::api_create_webhook;
        POST "/distribution/webhooks/{id}/enable" => api::distribution::api_enable_webhook;
        POST "/distribution/early-warnings" => api::distribution::api_early_warning;
        GET "/distribution/events" => api::distribution::api_events;
        GET "/distribution/events/{id}" => api::distribution::api_event;
        POST "/distribution/bounces" => api::distribution::api_bounce;
    }
}
