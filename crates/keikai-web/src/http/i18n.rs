//! The language of a request. The catalogue itself is [`keikai_app::i18n`].

use axum::http::{HeaderMap, header};
use jiff::tz::TimeZone;
use keikai_domain::Locale;

pub use keikai_app::i18n::{t, t_with};

/// Picks the language: the user's setting, then the language cookie, then `Accept-Language`
/// (by quality), then English.
pub fn negotiate(
    user_setting: Option<Locale>,
    cookie: Option<&str>,
    headers: &HeaderMap,
) -> Locale {
    if let Some(l) = user_setting {
        return l;
    }
    if let Some(l) = cookie.and_then(|c| c.parse::<Locale>().ok()) {
        return l;
    }
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Locale::En;
    };
    let mut ranked: Vec<(f32, Locale)> = accept
        .split(',')
        .filter_map(|part| {
            let mut it = part.trim().split(';');
            let tag = it.next()?.trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next()?;
            primary.parse::<Locale>().ok().map(|l| (q, l))
        })
        .filter(|(q, _)| *q > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map_or(Locale::En, |(_, l)| *l)
}

/// The zone a viewer reads times in: Japan's for a Japanese-speaking viewer, UTC otherwise.
/// Users have no zone setting; their language is the best hint there is.
pub fn viewer_zone(lang: Locale) -> TimeZone {
    match lang {
        Locale::Ja => TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC),
        Locale::En => TimeZone::UTC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_order() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(None, None, &h), Locale::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-FR, ja;q=0.9, en;q=0.8".parse().unwrap(),
        );
        assert_eq!(negotiate(None, None, &h), Locale::Ja);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "en-US,en;q=0.9,ja;q=0.8".parse().unwrap(),
        );
        assert_eq!(negotiate(None, None, &h), Locale::En);
        assert_eq!(negotiate(None, Some("ja"), &h), Locale::Ja);
        assert_eq!(negotiate(Some(Locale::En), Some("ja"), &h), Locale::En);
        h.insert(header::ACCEPT_LANGUAGE, "ja;q=0, en;q=0.1".parse().unwrap());
        assert_eq!(negotiate(None, None, &h), Locale::En);
    }
}
