//! Property tests: random valid vectors of every version, in random metric order.

use proptest::collection::vec;
use proptest::prelude::*;

use crate::metric::MetricDef;
use crate::{Cvss, parse, parse_strict};

fn version_table(version: usize) -> (&'static str, &'static [MetricDef]) {
    match version {
        0 => ("", &crate::v2::DEFS),
        1 => ("CVSS:3.0/", &crate::v3::DEFS),
        2 => ("CVSS:3.1/", &crate::v3::DEFS),
        _ => ("CVSS:4.0/", &crate::v4::DEFS),
    }
}

/// One `METRIC:VALUE` per mandatory metric and, when the pick says so, per optional metric.
fn components(defs: &'static [MetricDef], picks: &[u8]) -> Vec<(&'static str, &'static str)> {
    defs.iter()
        .zip(picks)
        .filter_map(|(def, &pick)| {
            let choices = def.values.len() + usize::from(!def.mandatory);
            let value = def.values.get(usize::from(pick) % choices)?;
            Some((def.abbrev, *value))
        })
        .collect()
}

fn join(prefix: &str, components: &[(&str, &str)]) -> String {
    let body: Vec<String> = components.iter().map(|(m, v)| format!("{m}:{v}")).collect();
    format!("{prefix}{}", body.join("/"))
}

/// (vector in random order, the same vector in canonical order, its components).
fn arb_vector() -> impl Strategy<Value = (String, String, Vec<(&'static str, &'static str)>)> {
    (0..4_usize, vec(any::<u8>(), 32)).prop_flat_map(|(version, picks)| {
        let (prefix, defs) = version_table(version);
        let components = components(defs, &picks);
        let canonical = join(prefix, &components);
        Just(components.clone())
            .prop_shuffle()
            .prop_map(move |shuffled| {
                (
                    join(prefix, &shuffled),
                    canonical.clone(),
                    components.clone(),
                )
            })
    })
}

fn is_one_decimal_score(x: f64) -> bool {
    (0.0..=10.0).contains(&x) && ((x * 10.0).round() - x * 10.0).abs() < 1e-9
}

proptest! {
    #[test]
    fn any_order_parses_to_the_canonical_vector((shuffled, canonical, components) in arb_vector()) {
        let cvss = parse(&shuffled).unwrap();
        prop_assert_eq!(cvss.to_string(), canonical.clone());
        prop_assert_eq!(cvss.vector_string(), canonical.clone());
        let from_canonical = parse_strict(&canonical).unwrap();
        prop_assert_eq!(&from_canonical, &cvss);
        prop_assert_eq!(parse(&cvss.to_string()).unwrap(), cvss.clone());
        prop_assert_eq!(cvss.to_string().parse::<Cvss>().unwrap(), cvss.clone());
        for (metric, value) in &components {
            prop_assert_eq!(cvss.metric(metric), Some(*value));
        }
        if shuffled != canonical {
            prop_assert!(parse_strict(&shuffled).is_err());
        }
    }

    #[test]
    fn scores_are_in_range((shuffled, _canonical, _components) in arb_vector()) {
        let cvss = parse(&shuffled).unwrap();
        let s = cvss.scores();
        prop_assert!(is_one_decimal_score(s.base), "base {}", s.base);
        match &cvss {
            Cvss::V4(_) => {
                prop_assert!(s.temporal.is_none() && s.environmental.is_none());
                prop_assert!(s.base_severity.is_some());
            }
            _ => {
                let temporal = s.temporal.unwrap();
                let environmental = s.environmental.unwrap();
                prop_assert!(is_one_decimal_score(temporal), "temporal {}", temporal);
                prop_assert!(is_one_decimal_score(environmental), "environmental {}", environmental);
                // Temporal multipliers are at most 1 and rounding is monotonic.
                prop_assert!(temporal <= s.base);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,80}") {
        let _ = parse(&text);
        let _ = parse_strict(&text);
    }

    #[test]
    fn mutated_vectors_never_panic(
        (shuffled, _canonical, _components) in arb_vector(),
        cut in any::<usize>(),
        insert in "[A-Za-z:/.()X ]{0,6}",
    ) {
        let mut bytes = shuffled.into_bytes();
        let cut = cut % (bytes.len() + 1);
        bytes.splice(cut..cut, insert.into_bytes());
        let text = String::from_utf8(bytes).unwrap();
        if let Ok(cvss) = parse(&text) {
            prop_assert_eq!(parse(&cvss.to_string()).unwrap(), cvss.clone());
            let _ = cvss.scores();
        }
    }
}
