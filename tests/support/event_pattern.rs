//! Event patterns as Lambda evaluates an event source mapping's `FilterCriteria`
//! (and EventBridge a rule's pattern): a record passes when every field the
//! pattern names matches one of the values listed for it.
//!
//! The rules implemented are the ones of the AWS documentation ("Lambda event
//! filtering", "Amazon EventBridge event patterns"): a pattern's object
//! descends into the event's object of the same key; a list matches when the
//! event's value (or any element of an event's list) equals one of its
//! literals or satisfies one of its operators. The operators read here are
//! `prefix`, `suffix`, `exists` and `anything-but` (a literal, a list of
//! literals, or `{"prefix": …}`); any other one is an error, so a pattern this
//! reader does not understand fails the test that uses it instead of passing or
//! dropping records silently.

use serde_json::Value;

/// Whether `event` passes `pattern` (a filter's `Pattern`, parsed).
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, String> {
    let Value::Object(fields) = pattern else {
        return Err(format!("a pattern is an object, not {pattern}"));
    };
    for (key, wanted) in fields {
        let actual = event.get(key);
        let ok = match wanted {
            Value::Object(_) => match actual {
                Some(inner @ Value::Object(_)) => matches(wanted, inner)?,
                _ => false,
            },
            Value::Array(choices) => field_matches(choices, actual)?,
            other => return Err(format!("{key}: a pattern's leaf is a list, not {other}")),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `actual` satisfies one of `choices`.
fn field_matches(choices: &[Value], actual: Option<&Value>) -> Result<bool, String> {
    let values: Vec<&Value> = match actual {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
        None => Vec::new(),
    };
    for choice in choices {
        let ok = match choice {
            Value::Object(operator) => {
                let (name, argument) = operator
                    .iter()
                    .next()
                    .filter(|_| operator.len() == 1)
                    .ok_or_else(|| format!("an operator is one key: {choice}"))?;
                match name.as_str() {
                    "exists" => {
                        argument.as_bool().ok_or("exists takes a boolean")? == actual.is_some()
                    }
                    "prefix" => values
                        .iter()
                        .any(|v| text_with(v, argument, |v, a| v.starts_with(a))),
                    "suffix" => values
                        .iter()
                        .any(|v| text_with(v, argument, |v, a| v.ends_with(a))),
                    "anything-but" => {
                        !values.is_empty()
                            && values.iter().all(|v| match argument {
                                Value::Array(excluded) => !excluded.contains(v),
                                Value::Object(inner) => match inner.get("prefix") {
                                    Some(prefix) => !text_with(v, prefix, |v, a| v.starts_with(a)),
                                    None => false,
                                },
                                literal => *v != literal,
                            })
                    }
                    other => return Err(format!("operator {other:?} is not read by this filter")),
                }
            }
            literal => values.contains(&literal),
        };
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

fn text_with(value: &Value, argument: &Value, test: fn(&str, &str) -> bool) -> bool {
    matches!((value, argument), (Value::String(v), Value::String(a)) if test(v, a))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::matches;

    fn record(event: &str, kind: &str) -> serde_json::Value {
        json!({"eventName": event, "dynamodb": {"NewImage": {"item_kind": {"S": kind}}}})
    }

    #[test]
    fn nested_lists_of_literals_select_records() {
        let pattern = json!({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"item_kind": {"S": ["invoice"]}}}});
        assert!(matches(&pattern, &record("INSERT", "invoice")).unwrap());
        assert!(!matches(&pattern, &record("INSERT", "conference")).unwrap());
        assert!(!matches(&pattern, &record("REMOVE", "invoice")).unwrap());
        assert!(!matches(&pattern, &json!({"eventName": "INSERT"})).unwrap());
    }

    #[test]
    fn operators_read_as_documented() {
        let event = record("MODIFY", "queued_mail");
        for (pattern, expected) in [
            (json!({"eventName": [{"prefix": "MOD"}]}), true),
            (
                json!({"eventName": [{"anything-but": ["INSERT", "REMOVE"]}]}),
                true,
            ),
            (json!({"eventName": [{"anything-but": "MODIFY"}]}), false),
            (json!({"dynamodb": {"OldImage": [{"exists": false}]}}), true),
            (json!({"dynamodb": {"NewImage": [{"exists": true}]}}), true),
            (
                json!({"dynamodb": {"NewImage": {"item_kind": {"S": [{"suffix": "_mail"}]}}}}),
                true,
            ),
        ] {
            assert_eq!(matches(&pattern, &event).unwrap(), expected, "{pattern}");
        }
    }

    #[test]
    fn an_operator_it_does_not_know_is_an_error() {
        let pattern = json!({"eventName": [{"numeric": [">", 0]}]});
        assert!(matches(&pattern, &record("INSERT", "x")).is_err());
    }
}
