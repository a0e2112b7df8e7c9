//! The closed vocabularies of CSAF 2.0 as open enums.
//!
//! Every enum has an `Unknown(String)` variant: a document that uses a value outside the
//! vocabulary (a newer CSAF version, a typo, a vendor extension) still parses and serializes
//! back to the same text. Whether such a value is allowed is the schema validator's job, not
//! the parser's. `Unknown` is never produced for a known value, so `match` on the named variants
//! is reliable.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value outside the CSAF 2.0 vocabulary, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The values CSAF 2.0 defines, in schema order.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The JSON text of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Unknown(text) => text,
                }
            }

            /// Whether the value belongs to the CSAF 2.0 vocabulary.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $( $text => Self::$variant, )+
                    _ => Self::Unknown(text),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }
    };
}

open_enum! {
    /// `/document/category`. The schema only constrains the pattern; these are the five
    /// profiles of section 4.
    DocumentCategory {
        Base => "csaf_base",
        SecurityIncidentResponse => "csaf_security_incident_response",
        InformationalAdvisory => "csaf_informational_advisory",
        SecurityAdvisory => "csaf_security_advisory",
        Vex => "csaf_vex",
    }
}

open_enum! {
    /// `/document/csaf_version`.
    CsafVersion {
        V2_0 => "2.0",
    }
}

open_enum! {
    /// `/document/publisher/category`.
    PublisherCategory {
        Coordinator => "coordinator",
        Discoverer => "discoverer",
        Other => "other",
        Translator => "translator",
        User => "user",
        Vendor => "vendor",
    }
}

open_enum! {
    /// `/document/distribution/tlp/label` (TLP 1.0, as CSAF 2.0 defines it).
    TlpLabel {
        Amber => "AMBER",
        Green => "GREEN",
        Red => "RED",
        White => "WHITE",
    }
}

open_enum! {
    /// `/document/tracking/status`.
    DocumentStatus {
        Draft => "draft",
        Final => "final",
        Interim => "interim",
    }
}

open_enum! {
    /// `notes[]/category`.
    NoteCategory {
        Description => "description",
        Details => "details",
        Faq => "faq",
        General => "general",
        LegalDisclaimer => "legal_disclaimer",
        Other => "other",
        Summary => "summary",
    }
}

open_enum! {
    /// `references[]/category`.
    ReferenceCategory {
        External => "external",
        SelfRef => "self",
    }
}

open_enum! {
    /// `branches[]/category`.
    BranchCategory {
        Architecture => "architecture",
        HostName => "host_name",
        Language => "language",
        Legacy => "legacy",
        PatchLevel => "patch_level",
        ProductFamily => "product_family",
        ProductName => "product_name",
        ProductVersion => "product_version",
        ProductVersionRange => "product_version_range",
        ServicePack => "service_pack",
        Specification => "specification",
        Vendor => "vendor",
    }
}

open_enum! {
    /// `/product_tree/relationships[]/category`.
    RelationshipCategory {
        DefaultComponentOf => "default_component_of",
        ExternalComponentOf => "external_component_of",
        InstalledOn => "installed_on",
        InstalledWith => "installed_with",
        OptionalComponentOf => "optional_component_of",
    }
}

open_enum! {
    /// `/vulnerabilities[]/flags[]/label` (VEX justifications).
    FlagLabel {
        ComponentNotPresent => "component_not_present",
        InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        VulnerableCodeCannotBeControlledByAdversary => "vulnerable_code_cannot_be_controlled_by_adversary",
        VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
        VulnerableCodeNotPresent => "vulnerable_code_not_present",
    }
}

open_enum! {
    /// `/vulnerabilities[]/involvements[]/party`.
    InvolvementParty {
        Coordinator => "coordinator",
        Discoverer => "discoverer",
        Other => "other",
        User => "user",
        Vendor => "vendor",
    }
}

open_enum! {
    /// `/vulnerabilities[]/involvements[]/status`.
    InvolvementStatus {
        Completed => "completed",
        ContactAttempted => "contact_attempted",
        Disputed => "disputed",
        InProgress => "in_progress",
        NotContacted => "not_contacted",
        Open => "open",
    }
}

open_enum! {
    /// `/vulnerabilities[]/remediations[]/category`.
    RemediationCategory {
        Mitigation => "mitigation",
        NoFixPlanned => "no_fix_planned",
        NoneAvailable => "none_available",
        VendorFix => "vendor_fix",
        Workaround => "workaround",
    }
}

open_enum! {
    /// `/vulnerabilities[]/remediations[]/restart_required/category`.
    RestartCategory {
        Connected => "connected",
        Dependencies => "dependencies",
        Machine => "machine",
        None => "none",
        Parent => "parent",
        Service => "service",
        System => "system",
        VulnerableComponent => "vulnerable_component",
        Zone => "zone",
    }
}

open_enum! {
    /// `/vulnerabilities[]/threats[]/category`.
    ThreatCategory {
        ExploitStatus => "exploit_status",
        Impact => "impact",
        TargetSet => "target_set",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_map_to_variants_and_back() {
        for text in BranchCategory::KNOWN {
            let value = BranchCategory::from(*text);
            assert!(value.is_known(), "{text}");
            assert_eq!(value.as_str(), *text);
        }
        assert_eq!(PublisherCategory::from("other"), PublisherCategory::Other);
        assert_eq!(ReferenceCategory::from("self"), ReferenceCategory::SelfRef);
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let value: TlpLabel = serde_json::from_str("\"CLEAR\"").expect("a string");
        assert_eq!(value, TlpLabel::Unknown("CLEAR".to_owned()));
        assert!(!value.is_known());
        assert_eq!(
            serde_json::to_string(&value).expect("serializes"),
            "\"CLEAR\""
        );
        // Case matters: CSAF labels are upper case, so "white" is not WHITE.
        assert_eq!(
            TlpLabel::from("white"),
            TlpLabel::Unknown("white".to_owned())
        );
    }

    #[test]
    fn non_strings_are_rejected() {
        assert!(serde_json::from_str::<NoteCategory>("3").is_err());
    }
}
