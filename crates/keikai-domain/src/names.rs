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

/// For an enum written out beside it: `names!(Kind, "field", "a kind of thing" { A = "a", B =
/// "b" })` gives `Kind::ALL`, `Kind::as_str`, `Display`, and `FromStr` (surrounding white
/// space ignored) refusing anything else with a [`DomainError`](crate::DomainError) on
/// `field`: `"x" is not a kind of thing (expected a or b)`.
#[macro_export]
macro_rules! names {
    ($name:ident, $field:literal, $what:literal { $( $variant:ident = $text:literal ),+ $(,)? }) => {
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

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Pet {
        Cat,
        Dog,
        Hamster,
    }

    names!(Pet, "pet", "a pet" { Cat = "cat", Dog = "dog", Hamster = "hamster" });

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
        assert_eq!(expected(&["a", "b"]), "a or b");
    }
}
