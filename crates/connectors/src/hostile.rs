//! Account and credential fields come from people and HR systems; validating them must
//! refuse anything malformed with a reason and never panic.

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use crate::{Catalog, HttpClient};

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            ".{0,300}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("user_name".to_owned()),
                        Just("email".to_owned()),
                        "[a-z_]{1,12}"
                    ],
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_json_is_validated_without_panicking(value in any_json()) {
            let catalog = Catalog::new(HttpClient::new().unwrap());
            for service in catalog.services() {
                if let Err(errors) = catalog.validate_account(service.key, &value) {
                    prop_assert!(errors.iter().all(|e| !e.message.is_empty()));
                }
                let _ = catalog.validate_credentials(service.key, &value);
            }
        }
    }
}
