//! Closed sets of names: the enums whose values travel as text (in forms, JSON, the database)
//! get their list, their name, `Display` and a `FromStr` whose error names the field, the value
//! and what is expected, from one table.

/// `"a, b or c"`: the values a refusal lists.
pub fn expected(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Declares an enum from its table: `names! { /// Docs. pub enum Kind("field", "a kind of
/// thing") { A = "a", B = "b" } }` gives the enum (deriving `Debug`, `Clone`, `Copy`,
/// `PartialEq`, `Eq`, `PartialOrd` and `Ord` in table order, `Hash`, serde and `ToSchema`, plus
/// any attributes written before it), `Kind::ALL`, `Kind::as_str`, `Display`, and `FromStr`
/// (surrounding white space ignored) refusing anything else with a
/// [`DomainError`](crate::DomainError) on `field`: `"x" is not a kind of thing (expected a or
/// b)`. Serde renames each variant to its name in the table, so the JSON, the database and the
/// forms cannot disagree.
#[macro_export]
macro_rules! names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident($field:literal, $what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            ::serde::Serialize,
            ::serde::Deserialize,
            ::utoipa::ToSchema,
        )]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the order of the table.
            pub const ALL: [Self; [$( $text ),+].len()] = [$( Self::$variant ),+];

            /// The value's name, as stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                let t = s.trim();
                Self::ALL.into_iter().find(|v| v.as_str() == t).ok_or_else(|| {
                    $crate::DomainError::invalid(
                        $field,
                        format!(
                            "\"{s}\" is not {} (expected {})",
                            $what,
                            $crate::names::expected(&Self::ALL.map(Self::as_str))
                        ),
                    )
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    names! {
        enum Pet("pet", "a pet") {
            Cat = "cat",
            Dog = "dog",
            Hamster = "hamster",
        }
    }

    #[test]
    fn names_round_trip_and_refusals_say_what_is_expected() {
        for p in Pet::ALL {
            assert_eq!(p.to_string().parse::<Pet>(), Ok(p));
        }
        assert_eq!(" dog ".parse::<Pet>(), Ok(Pet::Dog));
        let e = "fish".parse::<Pet>().unwrap_err();
        assert_eq!(e.field(), "pet");
        assert_eq!(
            e.to_string(),
            "pet: \"fish\" is not a pet (expected cat, dog or hamster)"
        );
        assert_eq!(
            serde_json::to_value(Pet::Hamster).ok(),
            Some(serde_json::Value::from("hamster"))
        );
        assert_eq!(expected(&["a", "b"]), "a or b");
    }
}
