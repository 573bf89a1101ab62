//! Whatever arrives from outside — broker messages, HR events, cursors, templates — is
//! parsed without panicking and refused with a reason.

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use crate::cursor::Cursor;
    use crate::event::{AccountResult, CloudEvent, HrEvent, RequestMessage};
    use crate::rules::{render_account, template_facts, HiredEmployee};

    /// JSON of any shape, nested a few levels.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            ".{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,12}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic_the_message_parsers(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = HrEvent::parse(&bytes);
            let _ = serde_json::from_slice::<RequestMessage>(&bytes);
            let _ = serde_json::from_slice::<CloudEvent<AccountResult>>(&bytes);
        }

        #[test]
        fn arbitrary_json_never_panics_the_hr_event_parser(value in any_json()) {
            let _ = HrEvent::parse(value.to_string().as_bytes());
        }

        #[test]
        fn near_miss_hire_events_are_refused_or_accepted_but_never_panic(
            id in ".{0,300}", email in ".{0,300}", given in ".{0,300}", kind in ".{0,60}"
        ) {
            let event = serde_json::json!({"specversion": "1.0", "id": id, "source": "s", "type": kind,
                "data": {"employee": {"email": email, "given_name": given, "family_name": "x"}}});
            if let Ok(parsed) = HrEvent::parse(event.to_string().as_bytes()) {
                prop_assert!(!parsed.id.trim().is_empty() && parsed.id.len() <= 200);
                prop_assert!(parsed.data.employee.email.contains('@'));
            }
        }

        #[test]
        fn arbitrary_cursors_are_refused_without_panicking(raw in ".{0,200}") {
            let _ = Cursor::decode(&raw);
        }

        #[test]
        fn arbitrary_templates_render_or_are_refused(text in ".{0,200}") {
            let mut template = Map::new();
            template.insert("user_name".into(), Value::String(text));
            let facts = template_facts(&HiredEmployee {
                email: "a@b.c".into(), given_name: "A".into(), family_name: "B".into(), ..HiredEmployee::default()
            });
            let _ = render_account(&template, &facts);
        }
    }
}
